"""The only place that writes SQL.

- store.py       the connection (WAL, busy timeout, IMMEDIATE transactions) and the ask log;
- migrations.py  numbered schema migrations (the one user of sqlite-utils);
- search.py      FTS5 quoting and the in-memory index of skill cards;
- profile.py, goals.py, reviews.py, reflections.py, xapi.py, lrs.py, admin.py:
                 named queries for the area of the same name.

Everything else calls these functions with a `Store`; `Store._write`, `.conn` and `.db`
are not used outside this package (tests/test_layout.py).
"""
