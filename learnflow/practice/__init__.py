"""Retrieval practice: answering questions from memory, and everything that decides about one.

Anything that asks the learner a question to answer from memory belongs here,
whatever runs it (the evening reflection, `learnflow check`, a weekly quiz):

- review.py       review cards (made from the questions' check questions) and which of
                  them a session asks: the day's, due reviews, gap probes;
- checks.py       the check loop (ask, judge, record a result), shared by reflect/ and
                  `learnflow check`; a new kind of session is a class like its `Practice`;
- judging.py      is an answer right: the model, the card's keywords, or the person;
- scheduling.py   the FSRS rating of an answer and when its card comes back;
- calibration.py  confidence against correctness.

The day's-end session (what happened, the reflection questions, self-ratings,
feedback) is reflect/; the SQL is db/reviews.py.
"""
