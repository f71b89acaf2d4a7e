"""The learner model behind `learnflow gaps`: evidence in, mastery with uncertainty and forgetting out."""

import math
import random
import sqlite3

import pytest

from learnflow.db import migrations
from learnflow.errors import BadInput, ConfigError, NotFound
from learnflow.learner import beta
from learnflow.learner.gaps import build_report
from learnflow.learner.goals import apply_role, goals, roles, set_goal, unset_goal
from learnflow.learner.profile import DAY, Params, level_of, mastery_for, posteriors_at, read_periods, teaching_level

NOW = 1_780_000_000.0  # a fixed "now" (2026-05-28): tests never depend on the clock


def log(store, skill, kind, value=None, days_ago=0.0, times=1):
    store.add_evidence([{"ts": NOW - days_ago * DAY, "skill": skill, "kind": kind, "value": value}] * times)


def posterior(store, skill, at=NOW, params=None):
    params = params or Params()
    periods = read_periods(store, params, since=at - params.horizon(), daily_from=at - 30 * DAY, skill=skill)
    return posteriors_at(periods.get(skill, []), [at], params)[0]


def skill_row(report, skill):
    return next(s for s in report.skills if s.skill == skill)


# -- evidence moves mastery -----------------------------------------------------


def test_right_checks_raise_mastery_and_wrong_checks_lower_it(store):
    log(store, "git", "check", 1.0, times=4)
    log(store, "sql", "check", 0.0, times=4)
    git, sql = posterior(store, "git"), posterior(store, "sql")
    assert git.mean > 0.8 and sql.mean < 0.2
    log(store, "git", "check", 0.0, times=4)
    assert posterior(store, "git").mean == pytest.approx(0.5)


def test_idle_skill_drifts_back_to_the_prior_and_grows_uncertain(store):
    log(store, "git", "check", 1.0, times=8)
    fresh = posterior(store, "git")
    later = posterior(store, "git", at=NOW + 60 * DAY)  # two half-lives without practice
    much_later = posterior(store, "git", at=NOW + 180 * DAY)
    assert fresh.mean > later.mean > much_later.mean > 0.5
    assert fresh.sd < later.sd < much_later.sd
    assert later.evidence == pytest.approx(fresh.evidence / 4, rel=1e-6)
    assert fresh.enough(Params()) and not much_later.enough(Params())


def test_one_piece_of_evidence_gives_a_number_with_a_wide_interval_marked_uncertain(store):
    log(store, "sql", "check", 0.0)
    log(store, "sql", "question_how", 1.0, times=5)
    row = skill_row(build_report(store, now=NOW), "sql")
    assert row.enough and row.status == "uncertain" and row.uncertain and row.rank == 1
    assert row.low < row.mastery < 0.5 < row.high and row.high - row.low > 0.4
    assert row.p_below > 0.5 and row.shortfall > 0 and row.priority > 0
    assert "1 wrong check on sql" in row.evidence_text and "5 how-questions" in row.evidence_text


def test_evidence_narrows_the_interval_until_the_number_is_no_longer_uncertain(store):
    log(store, "git", "check", 1.0, times=2)
    assert skill_row(build_report(store, now=NOW), "git").status == "uncertain"
    log(store, "git", "check", 1.0, times=6)
    log(store, "git", "check", 0.0, times=2)
    row = skill_row(build_report(store, now=NOW), "git")
    assert row.status == "ok" and not row.uncertain and row.high - row.low <= 0.4


def test_questions_alone_make_no_number(store):
    log(store, "docker", "question_how", 1.0, times=6)
    row = skill_row(build_report(store, now=NOW), "docker")
    assert not row.enough and row.status == "not measured"
    assert row.mastery is None and row.gap is None and row.p_below is None and row.rank is None


def test_a_wide_interval_ranks_above_a_narrow_one_with_the_same_mean(store):
    """Expected shortfall ranks by gap and uncertainty: the same mean 0.6 under a 0.7 target is a
    bigger expected shortfall when it could be 0.3 than when it is surely 0.55-0.65."""
    log(store, "sql", "check", 1.0, times=2)
    log(store, "sql", "check", 0.0, times=1)  # Beta(3, 2): 0.6, wide
    log(store, "git", "check", 1.0, times=59)
    log(store, "git", "check", 0.0, times=39)  # Beta(60, 40): 0.6, narrow
    report = build_report(store, now=NOW)
    sql, git = skill_row(report, "sql"), skill_row(report, "git")
    assert sql.mastery == pytest.approx(git.mastery) and sql.shortfall > git.shortfall and sql.rank < git.rank


def test_teaching_level_still_waits_for_min_evidence():
    """`ask` acts on the mean alone, so one wrong check must not switch it to novice scaffolding."""
    from learnflow.learner.profile import Mastery

    assert teaching_level(Mastery(0.33, 1.0)) is None
    assert teaching_level(Mastery(0.33, 3.0)) == "novice"


def test_questions_are_weak_evidence_of_a_gap_and_why_weaker_than_how(store):
    log(store, "sql", "check", 1.0, times=2)
    log(store, "sql", "check", 0.0, times=2)
    log(store, "git", "check", 1.0, times=2)
    log(store, "git", "check", 0.0, times=2)
    log(store, "python", "check", 1.0, times=2)
    log(store, "python", "check", 0.0, times=2)
    log(store, "sql", "question_how", 1.0, times=3)
    log(store, "git", "question_why", 1.0, times=3)
    sql, git, python = (posterior(store, s).mean for s in ("sql", "git", "python"))
    assert sql < git < python == pytest.approx(0.5)
    assert python - sql < 0.1  # three questions move less than one wrong check would
    assert not posterior(store, "docker").enough(Params())


def test_self_ratings_and_reviews_count_as_fractional_evidence(store):
    log(store, "testing", "self_rating", 1.0, times=4)  # rated 5/5 four times
    log(store, "sql", "review", 0.0, times=4)  # "Again" four times
    assert posterior(store, "testing").mean > 0.7
    assert 0.3 < posterior(store, "sql").mean < 0.5  # reviews weigh 0.25: they grade a check already counted


def test_weights_and_half_life_are_configuration(cli, store):
    log(store, "git", "check", 0.0, times=6)
    assert posterior(store, "git", params=Params.from_config()).mean < 0.2
    cli("config", "set", "gaps_weight_check", "0")
    cli("config", "set", "gaps_half_life_days", "7")
    params = Params.from_config()
    assert params.half_life_days == 7 and posterior(store, "git", params=params).mean == 0.5
    assert cli("config", "set", "gaps_half_life_days", "0").exit_code == 3  # refused when set
    from learnflow import paths

    # A hand-edited file can still hold a value the model cannot use: read time says so too.
    paths.config_path().write_text(paths.config_path().read_text().replace("7.0", "0.0"))
    with pytest.raises(ConfigError, match="gaps_half_life_days"):
        Params.from_config()


def test_model_defaults_are_the_config_defaults():
    from learnflow.config import SETTINGS

    p = Params()
    assert p.half_life_days == SETTINGS["gaps_half_life_days"].default
    assert p.min_evidence == SETTINGS["gaps_min_evidence"].default
    assert p.learn_weights == (SETTINGS["gaps_learn_weights"].default == "on")
    assert p.default_target == SETTINGS["gaps_default_target"].default
    assert p.weights == {k: SETTINGS[f"gaps_weight_{k}"].default for k in p.weights}


def test_aggregates_match_a_row_by_row_computation(store):
    """The daily table (and weekly grouping of old days) gives what decaying every row would."""
    rng = random.Random(5)
    kinds = ["check", "review", "self_rating", "question_how", "question_why", "imported"]
    rows = [{"ts": NOW - rng.uniform(0, 200) * DAY, "skill": "sql", "kind": rng.choice(kinds),
             "value": round(rng.random(), 3)} for _ in range(400)]  # fmt: skip
    store.add_evidence(rows)
    p = Params()
    succ = fail = 0.0
    for r in rows:
        f = p.weights[r["kind"]] * math.exp(-p.rate * (NOW - r["ts"]))
        if r["kind"].startswith("question"):
            fail += f * r["value"]
        else:
            succ += f * r["value"]
            fail += f * (1 - r["value"])
    got = posterior(store, "sql")
    assert got.alpha == pytest.approx(1 + succ, rel=2e-3)
    assert got.beta == pytest.approx(1 + fail, rel=2e-3)


# -- the incremental daily table ------------------------------------------------


def test_daily_table_follows_inserts_updates_and_deletes(store):
    rng = random.Random(1)
    for _ in range(300):
        op = rng.random()
        if op < 0.6:
            kind = rng.choice(["check", "review", "question_how", "self_rating"])
            value = None if (kind == "question_how" and rng.random() < 0.3) else round(rng.random(), 2)
            log(store, rng.choice(["git", "sql"]), kind, value, days_ago=rng.uniform(0, 10))
        elif op < 0.8:
            store.db.execute(
                "UPDATE evidence SET value = ?, ts = ts - 86400 WHERE id = (SELECT id FROM evidence ORDER BY random() LIMIT 1)",
                [rng.random()],
            )
        else:
            store.db.execute("DELETE FROM evidence WHERE id = (SELECT id FROM evidence ORDER BY random() LIMIT 1)")
    store.db.conn.commit()
    expected = store.db.execute(
        "SELECT skill, CAST(ts / 86400 AS INTEGER) AS day, kind, count(*), "
        "sum(min(max(coalesce(value, 1.0), 0.0), 1.0)) FROM evidence "
        "WHERE value IS NOT NULL OR kind LIKE 'question%' GROUP BY skill, day, kind ORDER BY skill, day, kind"
    ).fetchall()
    got = store.db.execute("SELECT skill, day, kind, n, sv FROM evidence_daily ORDER BY skill, day, kind").fetchall()
    assert [r[:4] for r in got] == [r[:4] for r in expected]
    assert all(g[4] == pytest.approx(e[4], abs=1e-9) for g, e in zip(got, expected))


def test_upgrade_fills_the_daily_table_from_existing_evidence(home):
    from sqlite_utils import Database

    from learnflow.db.store import Store

    home.mkdir(parents=True)
    path = home / "learnflow.db"
    db = Database(path)
    migrations.migrations.apply(db, stop_before="m006_evidence_daily")
    db["evidence"].insert_all([{"ts": NOW, "skill": "git", "kind": "check", "value": 1.0}] * 3)
    db.conn.close()
    store = Store(path)
    assert store.db.execute("SELECT n, sv FROM evidence_daily WHERE skill = 'git'").fetchall() == [(3, 3.0)]


# -- gap, ranking, trend --------------------------------------------------------


def test_gap_and_probability_below_target(store):
    log(store, "sql", "check", 0.0, times=6)
    log(store, "sql", "check", 1.0, times=2)
    set_goal(store, "sql", 0.8, 1.0)
    row = skill_row(build_report(store, now=NOW), "sql")
    assert row.gap == pytest.approx(0.8 - row.mastery)
    assert row.p_below > 0.99 and row.low < row.mastery < row.high
    assert row.shortfall == pytest.approx(row.gap, abs=0.01)


def test_ranking_is_importance_times_shortfall_times_need(store):
    for skill in ("sql", "git", "python"):
        log(store, skill, "check", 0.0, times=3, days_ago=3)
        log(store, skill, "check", 1.0, times=3, days_ago=3)
    set_goal(store, "git", 0.8, importance=2.0)
    log(store, "python", "question_how", 1.0, times=6, days_ago=1)  # asked a lot this week: needed now
    report = build_report(store, now=NOW)
    order = [s.skill for s in report.skills if s.enough]
    assert order[0] == "git"
    sql, python = skill_row(report, "sql"), skill_row(report, "python")
    assert python.need > sql.need == 1.0 and python.rank < sql.rank
    assert [s.skill for s in report.top] == order  # all three below target: all get a next step


def test_skill_above_target_gets_no_next_step(store):
    log(store, "git", "check", 1.0, times=10)
    report = build_report(store, now=NOW)
    assert skill_row(report, "git").gap < 0 and report.top == []


def test_trend_now_against_the_start_of_the_window(store):
    for day in range(28, 0, -1):
        log(store, "sql", "check", 1.0 if day < 14 else 0.0, days_ago=day, times=2)
    row = skill_row(build_report(store, now=NOW, since=NOW - 21 * DAY), "sql")
    assert row.delta > 0.15 and row.then < row.mastery
    assert row.history[:7] == [None] * 7  # 12 weekly points; evidence began four weeks ago
    assert row.history[-1] == pytest.approx(row.mastery)


def test_next_step_has_card_practice_docs_and_evidence(store):
    log(store, "sql", "check", 0.0, times=4, days_ago=2)
    log(store, "sql", "question_how", 0.9, times=2)
    row = skill_row(build_report(store, now=NOW), "sql")
    step = row.next_step
    assert step.level == "novice" and step.card_id.startswith("sql-")
    assert step.check_question and step.practice.startswith("In sqlite3")
    assert all(d["url"].startswith("https://") for d in step.docs)
    assert row.evidence_text == "4 wrong checks on sql, 2 how-questions in the last 30 days"


def test_mastery_for_and_teaching_level(store):
    assert mastery_for(store, "git", now=NOW) == (0.5, 0.0)
    assert teaching_level(mastery_for(store, "git", now=NOW)) is None
    log(store, "git", "check", 1.0, times=10)
    m = mastery_for(store, "git", now=NOW)
    assert m.mean > 0.9 and m.evidence == pytest.approx(10, rel=1e-3)
    assert teaching_level(m) == "expert"
    assert [level_of(x) for x in (0.2, 0.5, 0.9)] == ["novice", "intermediate", "expert"]


# -- goals and roles ------------------------------------------------------------


def test_goals_set_validate_and_unset(store):
    set_goal(store, "sql", 0.8, 2)
    assert goals(store)["sql"].target == 0.8 and goals(store)["sql"].importance == 2
    with pytest.raises(BadInput, match="between 0 and 1"):
        set_goal(store, "sql", 1.5)
    with pytest.raises(BadInput) as exc:
        set_goal(store, "sqll", 0.8)
    assert "sql" in exc.value.hint
    assert unset_goal(store, "sql") and not unset_goal(store, "sql")


def test_role_profile_fills_targets_but_keeps_your_own(store):
    set_goal(store, "sql", 0.95)
    done = apply_role(store, "backend-developer")
    current = goals(store)
    assert current["sql"].target == 0.95 and current["sql"].source == "user"
    assert current["python"].source == "role:backend-developer"
    assert [g.skill for g in done.kept] == ["sql"]
    with pytest.raises(NotFound) as exc:
        apply_role(store, "astronaut")
    assert "backend-developer" in exc.value.hint


def test_bundled_roles_and_resources_cover_known_skills():
    from learnflow.learner.gaps import resources
    from learnflow.learner.skills import taxonomy

    known = taxonomy()
    assert {"backend-developer", "data-analyst", "devops-engineer", "ai-augmented-engineer"} <= set(roles())
    for role in roles().values():
        assert set(role.skills) <= set(known), role.id
        assert all(0 < t <= 1 and imp > 0 for t, imp in role.skills.values())
    res = resources()
    for skill in known:
        assert set(res[skill]["practice"]) == {"novice", "intermediate", "expert"}, skill
        assert res[skill]["docs"] and all(d["url"].startswith("https://") for d in res[skill]["docs"]), skill


# -- the Beta maths ---------------------------------------------------------------


@pytest.mark.parametrize("x,a,b,expected", [
    (0.3, 1, 1, 0.3), (0.3, 3, 1, 0.3**3), (0.3, 1, 4, 1 - 0.7**4), (0.5, 2, 3, 11 / 16), (0.5, 7, 7, 0.5),
])  # fmt: skip
def test_incomplete_beta_known_values(x, a, b, expected):
    assert beta.cdf(x, a, b) == pytest.approx(expected, abs=1e-12)


def test_incomplete_beta_symmetry_quantile_and_shortfall():
    rng = random.Random(3)
    for _ in range(200):
        a, b, x = rng.uniform(0.5, 400), rng.uniform(0.5, 400), rng.random()
        assert beta.cdf(x, a, b) == pytest.approx(1 - beta.cdf(1 - x, b, a), abs=1e-10)
        p = rng.uniform(0.05, 0.95)
        assert beta.cdf(beta.quantile(p, a, b), a, b) == pytest.approx(p, abs=1e-7)
    # Beta(1, 1) is uniform: E[max(0, t - X)] = t^2 / 2.
    assert beta.expected_shortfall(0.8, 1, 1) == pytest.approx(0.32)
    assert beta.expected_shortfall(0.0, 2, 2) == 0.0
    with pytest.raises(ValueError):
        beta.cdf(0.5, 0, 1)


def test_a_database_written_by_gaps_is_still_a_learnflow_database(store):
    """The new migration is recorded like the others (see test_store for the upgrade matrix)."""
    names = [m.name for m in migrations.migrations.applied(store.db)]
    assert "m006_evidence_daily" in names
    with pytest.raises(sqlite3.IntegrityError):
        store.db.execute("INSERT INTO evidence_daily (skill, day, kind, n, sv, st) VALUES ('x', 1, 'check', 1, 1, 0)")
        store.db.execute("INSERT INTO evidence_daily (skill, day, kind, n, sv, st) VALUES ('x', 1, 'check', 1, 1, 0)")
