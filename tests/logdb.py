"""Reading the test's learnflow log (the temp LEARNFLOW_HOME) the way a user's sqlite3 shell would."""

from learnflow.db.store import Store


def rows(sql, *params) -> list[dict]:
    s = Store()
    try:
        return s.query(sql, params)
    finally:
        s.close()
