"""What the learner model reads: per-day evidence sums (`evidence_daily`, kept by the m006 triggers).

Every read here goes through the plain sqlite3 connection: `gaps` and `ask` call
them, and neither should pay for importing sqlite-utils. SQLite does the per-row
work in C over the (skill, day, kind) primary key, so Python sees a few thousand
rows whatever was logged.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from learnflow.db.store import Store

DAY = 86400.0


def _source(until: float | None, params: dict[str, object]) -> str:
    """The daily table as a FROM item; with `until` (gaps --as-of), only evidence up to that moment.

    Whole days before `until`'s day come from evidence_daily; the day `until` falls in is
    summed from the evidence rows themselves (ts index), up to `until`, in the daily table's
    shape, so a report for 14:00 does not see the evening. Same rules as the m006 triggers:
    values clamped to 0..1, a question without a value counts as 1.
    """
    if until is None:
        return "evidence_daily"
    params["until_day"], params["until"] = int(until // DAY), until
    value = "min(max(coalesce(value, 1.0), 0.0), 1.0)"
    return (
        "(SELECT skill, day, kind, n, sv, st FROM evidence_daily WHERE day < :until_day "
        f"UNION ALL SELECT skill, :until_day AS day, kind, count(*) AS n, sum({value}) AS sv, sum(ts - :until_day * {DAY}) AS st "
        f"FROM evidence WHERE ts >= :until_day * {DAY} AND ts <= :until AND (value IS NOT NULL OR kind LIKE 'question%') "
        "GROUP BY skill, kind)"
    )


def _weighted_sums(direct: Mapping[str, float], questions: Mapping[str, float]) -> tuple[str, dict[str, float]]:
    """SQL for a period's weighted successes, failures, evidence and questions; its named weights.

    Kinds are the model's own constants (never user text), so they are written into the SQL;
    the weights are configuration and travel as parameters.
    """
    named = {f"w_{k}": w for k, w in (*direct.items(), *questions.items())}

    def case(on_direct: str | None, on_question: str | None) -> str:
        whens = [f"WHEN '{k}' THEN :w_{k} * {on_direct}" for k in direct if on_direct]
        whens += [f"WHEN '{k}' THEN :w_{k} * {on_question}" for k in questions if on_question]
        return f"sum(CASE kind {' '.join(whens)} ELSE 0 END)"  # unknown kinds count for nothing

    return ", ".join([case("sv", None), case("(n - sv)", "sv"), case("n", None), case(None, "sv")]), named


def period_sums(
    store: Store,
    direct: Mapping[str, float],
    questions: Mapping[str, float],
    *,
    since_day: int,
    split_day: int,
    skill: str | None = None,
    until: float | None = None,
) -> list[tuple[str, float, float, float, float, float]]:
    """(skill, mean time, successes, failures, evidence, questions) per period, by skill then time.

    `direct` and `questions` map evidence kinds to their weights: a direct kind's value
    counts as successes and its remainder as failures; a question's value counts as a
    failure and as a question. Days from `split_day` on are one period each; older days
    (from `since_day`) are grouped by week, each mapped to the last day of its week so
    the order stays the order of time. `until`: only evidence up to that moment (`_source`).
    """
    sums, named = _weighted_sums(direct, questions)
    period = "CASE WHEN day >= :split THEN day ELSE :split - 1 - ((:split - 1 - day) / 7) * 7 END"
    params: dict[str, object] = {**named, "split": split_day, "since": since_day}
    sql = (f"SELECT skill, {period} AS period, sum(day * {DAY} * n + st) / sum(n), {sums} "
           f"FROM {_source(until, params)} WHERE day >= :since")  # fmt: skip
    if skill is not None:
        sql += " AND skill = :skill"
        params["skill"] = skill
    sql += " GROUP BY skill, period ORDER BY skill, period"
    return [(sk, t, succ, fail, evid, ques) for sk, _, t, succ, fail, evid, ques in store.conn.execute(sql, params)]


def last_days(store: Store, skills: Iterable[str], *, until: float | None = None) -> dict[str, int]:
    """Per skill, the last UTC day number with any evidence, however old (skills without any are left out).

    One primary-key lookup per skill (max(day) of a skill prefix), not a scan of the table.
    `until`: evidence up to that moment only (its own day read from the rows, through the (skill, ts) index).
    """
    out = {}
    for skill in skills:
        if until is None:
            day = store.conn.execute("SELECT max(day) FROM evidence_daily WHERE skill = ?", [skill]).fetchone()[0]
        else:
            today = int(until // DAY)
            same_day = store.conn.execute(
                "SELECT 1 FROM evidence WHERE skill = ? AND ts >= ? AND ts <= ? LIMIT 1", [skill, today * DAY, until]
            ).fetchone()
            day = today if same_day else store.conn.execute(
                "SELECT max(day) FROM evidence_daily WHERE skill = ? AND day < ?", [skill, today]
            ).fetchone()[0]  # fmt: skip
        if day is not None:
            out[skill] = day
    return out


def window_sums(store: Store, *, since_day: int, recent_day: int, until: float | None = None, fit_day: int | None = None) -> list[tuple]:
    """(skill, kind, rows, sum of values) from `since_day` on, plus the sum of values from `recent_day` on
    (`until`: up to that moment only).

    With `fit_day`, each row also has (rows, Σ values, Σ squared values) from `fit_day` on: what the
    per-learner weight fit reads (learner/weights.py), in the same scan of the table. The daily table
    keeps no sum of squares; Σ sv²/n per (skill, day, kind) is exact when a day holds one value of a
    kind on a skill (self-ratings, attempts: nearly always) and loses only the spread within a day.
    """
    first = min(since_day, recent_day, since_day if fit_day is None else fit_day)
    params: dict[str, object] = {"since": since_day, "recent": recent_day, "first": first, "fit": fit_day}
    fit = "" if fit_day is None else (
        ", sum(CASE WHEN day >= :fit THEN n ELSE 0 END), sum(CASE WHEN day >= :fit THEN sv ELSE 0 END), "
        "sum(CASE WHEN day >= :fit AND n > 0 THEN sv * sv / n ELSE 0 END)"
    )  # fmt: skip
    return store.conn.execute(
        "SELECT skill, kind, sum(CASE WHEN day >= :since THEN n ELSE 0 END), sum(CASE WHEN day >= :since THEN sv ELSE 0 END), "
        f"sum(CASE WHEN day >= :recent THEN sv ELSE 0 END){fit} FROM {_source(until, params)} WHERE day >= :first GROUP BY skill, kind",
        params,
    ).fetchall()


def kind_sums(
    store: Store, kinds: Iterable[str], *, since_day: int, until: float | None = None
) -> list[tuple[str, str, int, float, float]]:
    """(skill, kind, rows, sum of values, sum of squared values) per skill and kind, from `since_day` on:
    what the per-learner weight fit (learner/weights.py) reads when it runs alone (`gaps` gets the
    same sums from `window_sums`, in one scan). Σx² as there. Kinds are the model's own constants."""
    names = ", ".join(f"'{k}'" for k in kinds)
    params: dict[str, object] = {"since": since_day}
    return store.conn.execute(
        f"SELECT skill, kind, sum(n), sum(sv), sum(sv * sv / n) FROM {_source(until, params)} "
        f"WHERE day >= :since AND kind IN ({names}) AND n > 0 GROUP BY skill, kind",
        params,
    ).fetchall()


def last_missed_card(store: Store, skill: str) -> str | None:
    """The bundled card behind the last check answered wrong on this skill, if one was recorded."""
    try:
        row = store.conn.execute(
            "SELECT rc.card_id FROM check_results cr JOIN review_cards rc ON rc.id = cr.review_card_id "
            "WHERE cr.skill = ? AND cr.correct = 0 AND rc.card_id IS NOT NULL ORDER BY cr.id DESC LIMIT 1",
            [skill],
        ).fetchone()
    except sqlite3.Error:  # the review tables changed shape: callers fall back to their own choice
        return None
    return row[0] if row else None
