"""Evidence weights learned from the learner (learner/weights.py): a new user starts at the configured
weights; someone whose self-ratings predict their checks gets ratings that count more, and less when they do not."""

import random

import pytest

from learnflow.learner.gaps import build_report
from learnflow.learner.profile import DAY, Params
from learnflow.learner.weights import fit, fitted_params

NOW = 1_780_000_000.0
SKILLS = ["sql", "git", "python", "testing", "linux", "containers", "security", "http-apis", "debugging", "regex"]


def learner(store, *, rating_tracks: bool, checks_per_skill: int = 8, seed: int = 1):
    """Ten skills of spread-out true mastery; checks drawn from it; one self-rating per check day that
    either follows the truth (a well-calibrated learner) or runs against it."""
    rng = random.Random(seed)
    rows = []
    for i, skill in enumerate(SKILLS):
        m = 0.1 + 0.8 * i / (len(SKILLS) - 1)
        for k in range(checks_per_skill):
            ts = NOW - (k + 1) * DAY
            rows.append({"ts": ts, "skill": skill, "kind": "check", "value": float(rng.random() < m)})
            rated = m if rating_tracks else 1 - m
            rows.append(
                {"ts": ts, "skill": skill, "kind": "self_rating", "value": round(min(1, max(0, rated + rng.gauss(0, 0.05))) * 4) / 4}
            )
    store.add_evidence(rows)


def test_a_new_learner_starts_at_the_configured_weights(store):
    params = fitted_params(store, Params(), now=NOW)
    assert params.weights == Params().weights and params.fit["weights"] == {} and params.fit["gain"] == 0
    assert fit({}, Params().weights) == {"weights": {}, "checks": 0, "gain": 0.0}


def test_self_ratings_that_predict_the_checks_count_more(store):
    learner(store, rating_tracks=True)
    params = fitted_params(store, Params(), now=NOW)
    assert params.weights["self_rating"] > 1.5 * Params().weights["self_rating"]
    assert params.fit["gain"] > 0 and params.fit["checks"] == 80
    assert params.weights["check"] == 1.0 and params.weights["review"] == Params().weights["review"]  # not learned


def test_self_ratings_that_run_against_the_checks_count_less(store):
    learner(store, rating_tracks=False)
    assert fitted_params(store, Params(), now=NOW).weights["self_rating"] < 0.5 * Params().weights["self_rating"]


def test_the_prior_holds_until_the_evidence_pays_for_a_move(store):
    """Shrinkage: two checks a skill move the weight less than twenty do."""
    few = fit({s: {"check": (2, 1.0 + (i > 4), 0.0), "self_rating": (2, 2 * i / 9, 0.0)} for i, s in enumerate(SKILLS)}, Params().weights)
    many = fit({s: {"check": (20, 2.0 * i + 1, 0.0), "self_rating": (20, 20 * i / 9, 0.0)} for i, s in enumerate(SKILLS)}, Params().weights)
    prior = Params().weights["self_rating"]
    assert prior < few["weights"]["self_rating"] < many["weights"]["self_rating"]


def test_learned_weights_can_be_switched_off(cli, store):
    learner(store, rating_tracks=True)
    cli("config", "set", "gaps_learn_weights", "off")
    params = Params.from_config()
    assert not params.learn_weights and fitted_params(store, params, now=NOW) is params
    assert build_report(store, now=NOW, params=params).params["learned_weights"] is None


def test_the_report_says_which_weights_it_used(store):
    learner(store, rating_tracks=True)
    report = build_report(store, now=NOW).to_dict()["params"]
    fitted = report["learned_weights"]
    assert fitted["prior"]["self_rating"] == 0.5 and report["weights"]["self_rating"] == pytest.approx(
        fitted["weights"]["self_rating"], abs=1e-4
    )


def test_the_fit_reads_only_evidence_up_to_as_of(store):
    learner(store, rating_tracks=True)
    assert build_report(store, as_of=NOW - 100 * DAY).params["learned_weights"]["weights"] == {}  # before any of it


def asker(store, *, asks_where_weak: bool, checks_per_skill: int = 12, seed: int = 2):
    """Ten skills of spread-out true mastery, checks drawn from it, and 'how do I' questions that either
    come where the learner is weak (they foretell wrong checks) or where they are strong (they do not)."""
    rng = random.Random(seed)
    rows = []
    for i, skill in enumerate(SKILLS):
        m = 0.1 + 0.8 * i / (len(SKILLS) - 1)
        asks = round(12 * ((1 - m) if asks_where_weak else m))
        for k in range(checks_per_skill):
            rows.append({"ts": NOW - (k + 1) * DAY, "skill": skill, "kind": "check", "value": float(rng.random() < m)})
        rows += [{"ts": NOW - (k + 1) * DAY, "skill": skill, "kind": "question_how", "value": None} for k in range(asks)]
    store.add_evidence(rows)


def test_questions_that_foretell_wrong_checks_keep_their_weight_and_others_lose_it(store, tmp_path):
    asker(store, asks_where_weak=True)
    weak = fitted_params(store, Params(), now=NOW).weights["question_how"]
    from learnflow.db.store import Store

    other = Store(tmp_path / "other.db")
    asker(other, asks_where_weak=False)
    strong = fitted_params(other, Params(), now=NOW).weights["question_how"]
    prior = Params().weights["question_how"]
    assert strong < 0.7 * prior  # asking about what you know is not evidence of a gap
    assert weak > prior > strong


def test_a_question_is_scored_as_a_failure_of_its_value():
    # three skills checked half right; questions only on the one whose checks went wrong: the fit pays for them
    sums = {
        "sql": {"check": (10, 1.0, 0.0), "question_how": (6, 6.0, 6.0)},
        "git": {"check": (10, 9.0, 0.0)},
        "regex": {"check": (10, 9.0, 0.0)},
    }
    learned = fit(sums, Params().weights)["weights"]
    assert learned["question_how"] > Params().weights["question_how"]
    assert "question_why" not in learned  # no evidence of that kind: it keeps the configured weight


def test_the_first_rounds_kinds_can_still_be_fitted_alone(store):
    asker(store, asks_where_weak=True)
    from learnflow.learner.weights import READING_KINDS

    params = fitted_params(store, Params(), now=NOW, kinds=READING_KINDS)
    assert params.weights["question_how"] == Params().weights["question_how"]
