"""The day's-end reflection: what happened → What? So what? Now what? → checks → self-ratings → feedback.

- session.py   the reflection itself: its questions, the `Answers` provider it asks
               through, the order of the steps, reading reflections back;
- period.py    the period it looks back on and what the log shows for it (`Summary`, `facts`);
- feedback.py  feedback on the answers (the model's, or the offline rules);
- actions.py   action items (the "Now what?"), reminded at the start of `ask`;
- answers.py   answering from a TOML file instead of the terminal;
- export.py    reflections as Markdown.

The checks inside a reflection are retrieval practice, and live in practice/
(the loop, judging, FSRS), as does any other quiz; the SQL is db/reflections.py.
"""
