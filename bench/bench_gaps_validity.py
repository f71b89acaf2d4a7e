"""Does `learnflow gaps` recover the truth? Simulated learners, scored against what was simulated.

For each seed: N learners (bench/simulate.py) live a week each, logged into a
real learnflow database; then, at the end of the week:

- Spearman rank correlation, per learner, between the estimated gap
  (target − posterior mean, from learnflow.learner.profile: the code `gaps` runs) and
  the true gap (target − true mastery); mean over learners;
- top-3: the share of the truly 3 weakest skills (largest true gaps) that the
  estimate puts in its top 3;
- AUC for the next check answer (one fresh check per learner and skill, drawn
  from the true mastery at the end of the week), pooled over learners.

Side by side: the naive baseline (more questions on a skill = bigger gap),
"checks only" (Laplace-smoothed share of right checks: the model without
self-ratings, reviews, questions or decay), and pyBKT (Bayesian Knowledge
Tracing fitted by EM on the same checks, per skill across learners) when
bench/.venv-gaps has it. Then mean ± sd over seeds.

    python bench/bench_gaps_validity.py                 # 5 seeds × 50 learners, a week
    python bench/bench_gaps_validity.py --days 28 --seeds 3
    python bench/bench_gaps_validity.py --json > results.json
    python bench/bench_gaps_validity.py --streams all           # with the learning-by-doing streams (issue 12)
    python bench/bench_gaps_validity.py --stream-table --days 30 # today's streams, + each new one, + all: gaps vs ideal

pyBKT is a bench-only dependency, in its own venv (see bench/README-gaps.md):
    python3 -m venv bench/.venv-gaps && bench/.venv-gaps/bin/pip install -r bench/bench_gaps_requirements.txt
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import simulate  # noqa: E402
from simulate import DAY, START, World  # noqa: E402

# pyBKT's venv: bench/.venv-gaps, or the interpreter LEARNFLOW_BKT_PYTHON names (a venv kept elsewhere).
BKT_PYTHON = Path(os.environ.get("LEARNFLOW_BKT_PYTHON") or HERE / ".venv-gaps" / "bin" / "python")
METHODS = ("gaps", "gaps_prev", "gaps_fixed", "naive", "checks_only", "pybkt")
LABELS = {
    "gaps": "learnflow gaps (Beta, decay, all evidence, learned weights)",
    "gaps_prev": "gaps with the weights learned before questions were (self-rating, attempt, task)",
    "gaps_fixed": "gaps with the fixed (configured) weights",
    "naive": "naive: count of questions",
    "checks_only": "checks only: (right+1)/(n+2)",
    "pybkt": "pyBKT (EM-fitted BKT, checks)",
}


# --------------------------------------------------------------------------- statistics


def ranks(values: list[float]) -> list[float]:
    """Average ranks (ties share the mean rank), 1-based."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    out = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            out[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return out


def spearman(x: list[float], y: list[float]) -> float:
    rx, ry = ranks(x), ranks(y)
    mx, my = statistics.fmean(rx), statistics.fmean(ry)
    sxy = sum((a - mx) * (b - my) for a, b in zip(rx, ry))
    sxx = sum((a - mx) ** 2 for a in rx)
    syy = sum((b - my) ** 2 for b in ry)
    return sxy / math.sqrt(sxx * syy) if sxx and syy else 0.0  # a constant score ranks nothing: 0


def auc(scores: list[float], labels: list[int]) -> float:
    """Mann-Whitney AUC: P(score of a right answer > score of a wrong one), ties count half."""
    r = ranks(scores)
    pos = sum(labels)
    neg = len(labels) - pos
    if not pos or not neg:
        return math.nan
    return (sum(ri for ri, lab in zip(r, labels) if lab) - pos * (pos + 1) / 2) / (pos * neg)


def top_hit(est: list[float], true: list[float], k: int = 3) -> float:
    """Share of the true top-k gaps found in the estimate's top-k (ties broken by skill order)."""
    top = lambda v: set(sorted(range(len(v)), key=lambda i: -v[i])[:k])  # noqa: E731
    return len(top(est) & top(true)) / k


def mean_sd(values: list[float]) -> tuple[float, float]:
    values = [v for v in values if not math.isnan(v)]
    if not values:
        return math.nan, math.nan
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


# --------------------------------------------------------------------------- the ceiling

GRID = [(i + 0.5) / 200 for i in range(200)]


def _phi(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def _beta_logpdf(x: float, a: float, b: float) -> float:
    return (a - 1) * math.log(x) + (b - 1) * math.log(1 - x) - (math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b))


def ideal_mastery(rows: list[dict], skills: list[str], world: World) -> dict[str, float]:
    """Posterior mean of m under the simulator's own model: a ceiling no real estimator can beat by much.

    It knows guess and slip, the review-rating and self-rating models, the prior
    (uniform 0.05-0.95) and that "why" questions come more often at high mastery;
    it does not know a learner's work pattern (so question counts stay unused) and
    treats mastery as constant over the window (it changes a little). With the
    learning-by-doing streams on (world.streams) it also knows their true
    likelihoods: inline answers are checks and reviews like any other; an attempt's
    score is the simulator's mixture of two Betas; a wrapped command fails with
    task_fail_base + task_fail_weak * (1 - m); and a question on a skill asked
    about within the window is a repeat with chance repeat_same * (1 - m) — so a
    question that is *not* a repeat is evidence too, which is why the stream must
    be on for the observer to read it.
    """
    g, sl = world.guess, world.slip
    sigma = math.hypot(world.rating_noise, world.rating_bias_sd)
    repeats = "repeat" in world.streams
    repeat_at = {(r["skill"], r["ts"]) for r in rows if r["kind"] == "repeat"}
    logp = {s: [0.0 if 0.05 <= m <= 0.95 else -math.inf for m in GRID] for s in skills}
    cache: dict[tuple, list[float]] = {}

    def loglik(key: tuple) -> list[float]:
        """log P(observation | m) on the grid, for one kind of observation (cached: many rows share one)."""
        if key not in cache:
            cache[key] = [_loglik(key, m) for m in GRID]
        return cache[key]

    def _loglik(key: tuple, m: float) -> float:
        kind, v = key[0], key[1]
        p_right = g + (1 - g - sl) * m
        if kind == "check":
            return math.log(p_right if v else 1 - p_right)
        if kind == "review":
            rating = round(1 + 3 * v)
            return math.log({4: 0.5 * m, 2: 0.3 * (1 - m)}.get(rating, 1 - 0.5 * m - 0.3 * (1 - m)) + 1e-12)
        if kind == "self_rating":
            rating = round(1 + 4 * v)
            mu = 1 + 4 * (m + world.overconfidence * (0.5 - m))
            lo = -math.inf if rating == 1 else (rating - 0.5 - mu) / (4 * sigma)
            hi = math.inf if rating == 5 else (rating + 0.5 - mu) / (4 * sigma)
            return math.log(max(1e-12, _phi(hi) - _phi(lo)))
        if kind == "question":
            p_why = 0.1 + 0.4 * m
            return math.log(p_why if v == "question_why" else 1 - p_why)
        if kind == "attempt":
            p = world.attempt_guess + (1 - world.attempt_guess - world.attempt_slip) * m
            return math.log(p * math.exp(_beta_logpdf(v, 4, 1.5)) + (1 - p) * math.exp(_beta_logpdf(v, 1.5, 4)))
        if kind == "task":
            fail = simulate.task_fails(world, m)
            return math.log(1 - fail if v else fail)
        if kind == "repeated":
            p = simulate.repeat_chance(world, m)
            return math.log(p if v else 1 - p)
        raise ValueError(kind)

    last_check: dict[str, bool] = {}
    last_asked: dict[str, float] = {}
    for r in sorted(rows, key=lambda r: r["ts"]):
        s, kind, v = r["skill"], r["kind"], r["value"]
        if s not in logp:
            continue
        key: tuple | None = None
        if kind == "check":
            key = ("check", bool(v))
        elif kind == "review" and last_check.get(s):
            key = ("review", v)
        elif kind in ("self_rating", "attempt", "task"):
            key = (kind, v)
        elif kind.startswith("question") and v >= 0.6:  # primary tags only
            key = ("question", kind)
            last = last_asked.get(s)
            last_asked[s] = r["ts"]
            if repeats and last is not None and r["ts"] - last <= world.repeat_window_days * DAY:
                lp = logp[s]
                for j, x in enumerate(loglik(("repeated", (s, r["ts"]) in repeat_at))):
                    lp[j] += x
        if key is not None:
            lp = logp[s]
            for j, x in enumerate(loglik(key)):
                lp[j] += x
        if kind == "check":
            last_check[s] = bool(v)
    out = {}
    for s, lp in logp.items():
        top = max(lp)
        w = [math.exp(x - top) for x in lp]
        out[s] = sum(m * wi for m, wi in zip(GRID, w)) / sum(w)
    return out


# --------------------------------------------------------------------------- one seed

IN_PLAY: dict[int, int | None] = {}


def world_skills(world: World) -> int | None:
    return IN_PLAY.get(id(world))


SUBSETS = ("ranked", "seen", "all")


def score_learner(acc: dict, method: str, learner, gap_of: dict[str, float], subsets: dict[str, list[str]]) -> None:
    """Spearman and top-3 of one method's gaps against the truth, on each subset of skills."""
    for name, skills in subsets.items():
        if len(skills) < 3:  # a rank correlation over 2 skills says little
            continue
        true_gap = [learner.target[s] - learner.mastery[s] for s in skills]
        est = [gap_of[s] for s in skills]
        acc.setdefault((method, name, "spearman"), []).append(spearman(est, true_gap))
        if len(skills) > 3:  # top-3 of 3 skills is always right
            acc.setdefault((method, name, "top3"), []).append(top_hit(est, true_gap))


def run_seed(seed: int, world: World, learners: int, workdir: Path, params, use_bkt: bool, per_learner: bool = False) -> dict:
    """One seed's learners, scored. `per_learner`: each learner draws from its own random stream, so a
    variant that changes one learner's draws (another evidence stream) leaves the next learners as they were."""
    from learnflow.learner.profile import posteriors_at, read_periods
    from learnflow.learner.weights import READING_KINDS, fitted_params

    fixed = replace(params, learn_weights=False)
    rng = random.Random(seed)
    judge = random.Random(seed + 10_000)  # the held-out checks: a separate stream
    now = START + world.days * DAY
    acc: dict[tuple, list[float]] = {}
    pooled: dict[str, list[float]] = {
        m: [] for m in ("gaps", "gaps_prev", "gaps_fixed", "naive", "checks_only", "ideal", "ideal_noself", "oracle")
    }
    rating_r: list[float] = []
    rating_r_model: list[float] = []
    fitted: dict[str, list[float]] = {}
    labels: list[int] = []
    keys: list[tuple[str, str]] = []
    in_ranked: list[bool] = []
    people: dict[str, tuple] = {}
    bkt_train: list[dict] = []
    kinds: dict[str, int] = {}
    for i in range(learners):
        if per_learner:
            rng = random.Random(f"{seed}/{i}")
        learner = simulate.make_learner(rng, i, world_skills(world))
        store = simulate.open_learner(workdir / f"s{seed}-l{i}.db", learner)
        rows = simulate.simulate_days(rng, world, learner, START, world.days, store)
        for r in rows:
            kinds[r["kind"]] = kinds.get(r["kind"], 0) + 1
        uid = f"{seed}-{i}"
        learned = fitted_params(store, params, now=now)  # what `gaps` does: this learner's own weights
        for k, w in (learned.fit or {}).get("weights", {}).items():
            fitted.setdefault(k, []).append(w)
        buckets = read_periods(store, learned, since=now - params.horizon(), daily_from=START)
        buckets_fixed = read_periods(store, fixed, since=now - params.horizon(), daily_from=START)
        prev = fitted_params(store, params, now=now, kinds=READING_KINDS)  # the first round's fit: no question weights
        buckets_prev = read_periods(store, prev, since=now - params.horizon(), daily_from=START)
        ratings = [(r["value"], learner.mastery[r["skill"]]) for r in rows if r["kind"] == "self_rating"]
        if len(ratings) > 2 and len({v for v, _ in ratings}) > 1:
            rating_r.append(statistics.correlation([v for v, _ in ratings], [m for _, m in ratings]))
        # The same rating model over all the learner's skills at once (a side stream: the simulation is untouched).
        side = random.Random(f"r/{seed}/{i}")
        every = [(simulate.self_rating(side, world, learner, learner.mastery[s]), learner.mastery[s]) for s in learner.skills * 5]
        if len({v for v, _ in every}) > 1:
            rating_r_model.append(statistics.correlation([float(v) for v, _ in every], [m for _, m in every]))
        questions = dict(store.conn.execute("SELECT skill, count(*) FROM evidence WHERE kind LIKE 'question%' GROUP BY skill").fetchall())
        checks = {
            s: (r, n)
            for s, r, n in store.conn.execute(
                "SELECT skill, sum(value), count(*) FROM evidence WHERE kind = 'check' GROUP BY skill"
            ).fetchall()
        }
        store.close()
        bkt_train += [{"user_id": uid, "skill_name": r["skill"], "correct": int(r["value"]), "ts": r["ts"]}
                      for r in rows if r["kind"] == "check"]  # fmt: skip
        judged = [r for r in rows if r["kind"] != "self_rating"]
        mastery = {"gaps": {}, "gaps_prev": {}, "gaps_fixed": {}, "naive": {}, "checks_only": {}, "ideal": ideal_mastery(rows, learner.skills, world),
                   "ideal_noself": ideal_mastery(judged, learner.skills, world),
                   "oracle": dict(learner.mastery)}  # fmt: skip
        ranked = []
        for s in learner.skills:
            post = posteriors_at(buckets.get(s, []), [now], learned)[0]
            right, n = checks.get(s, (0, 0))
            mastery["gaps"][s] = post.mean
            mastery["gaps_fixed"][s] = posteriors_at(buckets_fixed.get(s, []), [now], fixed)[0].mean
            mastery["gaps_prev"][s] = posteriors_at(buckets_prev.get(s, []), [now], prev)[0].mean
            mastery["checks_only"][s] = (right + 1) / (n + 2)
            mastery["naive"][s] = -questions.get(s, 0)  # as a mastery score: more questions = weaker
            if post.measured:  # gaps shows a number (and ranks) from the first piece of direct evidence
                ranked.append(s)
            labels.append(int(simulate.check_outcome(judge, world, learner.mastery[s])))
            keys.append((uid, s))
            in_ranked.append(post.measured)
        subsets = {"ranked": ranked, "seen": [s for s in learner.skills if s in buckets], "all": learner.skills}
        people[uid] = (learner, subsets)
        for m in ("gaps", "gaps_prev", "gaps_fixed", "naive", "checks_only", "ideal", "ideal_noself"):
            score = mastery[m]
            gap_of = {s: (learner.target[s] - score[s]) if m != "naive" else -score[s] for s in learner.skills}
            score_learner(acc, m, learner, gap_of, subsets)
        for m, score in mastery.items():
            pooled[m] += [score[s] for s in learner.skills]
    if use_bkt:
        state, correct = run_pybkt(seed, workdir, bkt_train, keys, labels)
        pooled["pybkt"] = [correct.get(k, 0.5) for k in keys]
        for uid, (learner, subsets) in people.items():
            gap_of = {s: learner.target[s] - state.get((uid, s), 0.5) for s in learner.skills}
            score_learner(acc, "pybkt", learner, gap_of, subsets)
    result: dict = {m: {} for m in pooled}
    for (m, subset, metric), values in acc.items():
        result[m][f"{metric}_{subset}"] = statistics.fmean(values)
    for m, scores in pooled.items():
        result[m]["auc_all"] = auc(scores, labels)
        result[m]["auc_ranked"] = auc([x for x, r in zip(scores, in_ranked) if r], [y for y, r in zip(labels, in_ranked) if r])
    result["coverage"] = sum(in_ranked) / len(in_ranked)
    result["rating_r"] = statistics.fmean(rating_r) if rating_r else math.nan  # within-learner r(logged self-rating, true mastery)
    result["rating_r_model"] = statistics.fmean(rating_r_model) if rating_r_model else math.nan  # every skill rated 5 times
    result["fitted_weights"] = {k: statistics.fmean(v) for k, v in sorted(fitted.items())}
    result["rows_per_day"] = {k: n / (learners * world.days) for k, n in sorted(kinds.items())}
    return result


def run_pybkt(seed, workdir, train, keys, labels) -> tuple[dict, dict]:
    """Fit pyBKT on the week's checks (in its own venv); P(known) and P(right) for each held-out next check."""
    path_in, path_out = workdir / f"bkt-{seed}.csv", workdir / f"bkt-{seed}-out.csv"
    train.sort(key=lambda r: (r["user_id"], r["ts"]))
    with path_in.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["order_id", "user_id", "skill_name", "correct", "heldout"])
        n = 0
        for r in train:
            n += 1
            w.writerow([n, r["user_id"], r["skill_name"], r["correct"], 0])
        for (uid, skill), label in zip(keys, labels):
            n += 1
            w.writerow([n, uid, skill, label, 1])
    proc = subprocess.run([str(BKT_PYTHON), str(HERE / "bench_gaps_pybkt.py"), str(path_in), str(path_out), str(seed)],
                          capture_output=True, text=True, timeout=1800)  # fmt: skip
    if proc.returncode != 0:
        raise RuntimeError(f"pyBKT failed: {proc.stderr[-2000:]}")
    state, correct = {}, {}
    with path_out.open() as fh:
        for row in csv.DictReader(fh):
            key = (row["user_id"], row["skill_name"])
            correct[key], state[key] = float(row["correct_predictions"]), float(row["state_predictions"])
    return state, correct


# --------------------------------------------------------------------------- main


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--learners", type=int, default=50, help="learners per seed (default 50)")
    ap.add_argument("--days", type=int, default=7, help="days of simulated use (default 7: a week)")
    ap.add_argument("--checks-per-day", type=float, default=World.checks_per_day)
    ap.add_argument(
        "--in-play",
        type=int,
        default=None,
        metavar="K",
        help="each learner works on only K of the role's skills (a focused job; default: all)",
    )
    ap.add_argument(
        "--no-probes",
        action="store_true",
        help="reflect without gap probes (learnflow before probes): checks from questions and due reviews only",
    )
    ap.add_argument(
        "--placement", action="store_true", help="the learner runs `learnflow check -n <role's skills>` once, right after `goals role`"
    )
    ap.add_argument(
        "--morning-checks", type=int, default=0, metavar="K", help="and a `learnflow check -n K` every morning (default 0: none)"
    )
    ap.add_argument(
        "--rating-noise",
        type=float,
        default=World.rating_noise,
        metavar="SD",
        help=f"noise of self-ratings on the 0-1 scale (default {World.rating_noise}: within a learner r ≈ 0.73 with true mastery; 0.3: 0.50; 0.4: 0.39)",
    )
    ap.add_argument(
        "--streams",
        type=simulate.parse_streams,
        default=(),
        help=f"learning-by-doing evidence streams to simulate: all, none (default: today's streams only) or some of {','.join(simulate.STREAMS)}",
    )
    ap.add_argument(
        "--stream-table",
        action="store_true",
        help="run today's streams, + each new stream alone and + all of them on the same seeds; print gaps vs the ideal observer",
    )
    ap.add_argument(
        "--r-table",
        action="store_true",
        help="for each --noises × --day-list: gaps (learned weights) and gaps (fixed weights) against the ideal observer",
    )
    ap.add_argument("--noises", default="0.1,0.3,0.6", help="self-rating noises for --r-table (0.1 ≈ r 0.8, 0.3 ≈ 0.5, 0.6 ≈ 0.3)")
    ap.add_argument("--day-list", default="7,30", help="simulated days for --r-table")
    ap.add_argument("--no-pybkt", action="store_true", help="skip pyBKT even if bench/.venv-gaps has it")
    ap.add_argument("--ablations", action="store_true", help="also score the model without questions / self-ratings / decay")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)

    from learnflow.learner.profile import Params

    world = replace(
        World(),
        days=args.days,
        checks_per_day=args.checks_per_day,
        probes=not args.no_probes,
        placement=args.placement,
        morning_checks=args.morning_checks,
        rating_noise=args.rating_noise,
        streams=args.streams,
    )
    IN_PLAY[id(world)] = args.in_play
    if args.stream_table:
        return stream_table(args, world)
    if args.r_table:
        return r_table(args, world)
    use_bkt = not args.no_pybkt and BKT_PYTHON.exists()
    if not use_bkt and not args.no_pybkt:
        print(f"pyBKT column skipped: {BKT_PYTHON} not found (see bench/README-gaps.md).", file=sys.stderr)
    variants = {"gaps": Params()}
    if args.ablations:
        base = Params()
        variants.update({
            "no questions": replace(base, weights={**base.weights, "question_how": 0.0, "question_why": 0.0}),
            "no self-ratings": replace(base, weights={**base.weights, "self_rating": 0.0}),
            "no reviews": replace(base, weights={**base.weights, "review": 0.0}),
            "no decay (half-life 10 years)": replace(base, half_life_days=3650.0),
        })  # fmt: skip
    results: dict[str, list[dict]] = {}
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="learnflow-validity-") as tmp:
        for seed in range(1, args.seeds + 1):
            for name, params in variants.items():
                sub = Path(tmp) / f"{name.replace(' ', '_')}-{seed}"
                sub.mkdir()
                r = run_seed(seed, world, args.learners, sub, params, use_bkt and name == "gaps")
                results.setdefault(name, []).append(r)
            print(f"  seed {seed} done ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    summary = summarize(results, variants)
    if args.json:
        json.dump({"world": world.__dict__, "in_play": args.in_play, "seeds": args.seeds, "learners": args.learners, "summary": summary,
                   "per_seed": results}, sys.stdout, indent=2, default=str)  # fmt: skip
        print()
    else:
        print_table(summary, args, world)
    ok = summary["gaps"]["spearman_ranked"][0] >= 0.8 and all(
        summary["gaps"][k][0] > summary["naive"][k][0] for k in ("spearman_ranked", "auc_all")
    )
    print(f"\nDone-when (Spearman ≥ 0.8 and beats naive on Spearman and AUC): {'MET' if ok else 'NOT MET'}")
    return 0


STREAM_VARIANTS = (("today's streams (baseline)", ()), *((f"+ {n}", (n,)) for n in simulate.STREAMS), ("+ all four", simulate.STREAMS))
STREAM_LABELS = {"inline": "inline answers", "attempt": "try-first attempts", "task": "task outcomes", "repeat": "repeated questions"}


def stream_table(args, world: World) -> int:
    """The same seeds with today's evidence, + each learning-by-doing stream alone, + all: gaps next to the ideal
    observer (which reads the same streams with their true likelihoods), and their ratio per seed."""
    from learnflow.learner.profile import Params

    params = Params()  # the shipped weights: not tuned to the simulator
    runs: dict[str, list[dict]] = {}
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="learnflow-streams-") as tmp:
        for seed in range(1, args.seeds + 1):
            for name, streams in STREAM_VARIANTS:
                w = replace(world, streams=streams)
                IN_PLAY[id(w)] = args.in_play
                sub = Path(tmp) / f"{len(runs.get(name, []))}-{streams}-{seed}"
                sub.mkdir()
                runs.setdefault(name, []).append(run_seed(seed, w, args.learners, sub, params, False, per_learner=True))
            print(f"  seed {seed} done ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    table = {name: stream_row(rs) for name, rs in runs.items()}
    if args.json:
        json.dump({"world": world.__dict__, "seeds": args.seeds, "learners": args.learners, "days": world.days, "table": table,
                   "per_seed": runs}, sys.stdout, indent=2, default=str)  # fmt: skip
        print()
        return 0
    print(f"Learning-by-doing streams: {args.seeds} seeds × {args.learners} learners, {world.days} days; mean ± sd over seeds "
          f"({time.perf_counter() - t0:.0f} s)\n")  # fmt: skip
    print_stream_table(table, runs)
    return 0


def r_table(args, world: World) -> int:
    """Self-rating accuracy × days: gaps with learned and with fixed weights, as a share of the ideal observer."""
    from learnflow.learner.profile import Params

    use_bkt = not args.no_pybkt and BKT_PYTHON.exists()
    if not use_bkt and not args.no_pybkt:
        print(f"pyBKT column skipped: {BKT_PYTHON} not found (see bench/README-gaps.md).", file=sys.stderr)
    noises = [float(x) for x in args.noises.split(",")]
    days = [int(x) for x in args.day_list.split(",")]
    out: list[dict] = []
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="learnflow-rtable-") as tmp:
        for noise in noises:
            for d in days:
                w = replace(world, days=d, rating_noise=noise)
                IN_PLAY[id(w)] = args.in_play
                runs = []
                for seed in range(1, args.seeds + 1):
                    sub = Path(tmp) / f"{noise}-{d}-{seed}"
                    sub.mkdir()
                    runs.append(run_seed(seed, w, args.learners, sub, Params(), use_bkt, per_learner=True))
                out.append({"noise": noise, "days": d, "runs": runs})
                print(f"  noise {noise:g}, {d} days done ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    if args.json:
        json.dump(
            {"world": world.__dict__, "seeds": args.seeds, "learners": args.learners, "table": out}, sys.stdout, indent=2, default=str
        )
        print()
        return 0
    print(f"Self-rating accuracy × time: {args.seeds} seeds × {args.learners} learners, streams: {', '.join(world.streams) or 'none'}; "
          f"mean ± sd over seeds ({time.perf_counter() - t0:.0f} s)\n")  # fmt: skip
    print_r_table(out, use_bkt)
    return 0


def print_r_table(out: list[dict], use_bkt: bool) -> None:
    """Markdown: per (noise, days), measured r, coverage, Spearman (all skills) of gaps learned / fixed / ideal, their
    ratios to the ideal (all skills and ranked skills), AUC next check, and the mean fitted self-rating weight."""
    cell = lambda ms: "—" if math.isnan(ms[0]) else f"{ms[0]:.3f} ± {ms[1]:.3f}"  # noqa: E731
    short = lambda ms: "—" if math.isnan(ms[0]) else f"{ms[0]:.2f}"  # noqa: E731
    print(
        "| rating noise | r: all skills / logged | days | ranked | Spearman all: learned | fixed | ideal | learned/ideal: all | ranked "
        "| before questions/ideal: all | ranked | fixed/ideal: all | ranked | AUC: learned | before questions | fixed | checks only | "
        + ("pyBKT | " if use_bkt else "")
        + "ideal | w self-rating | w question how / why |"
    )
    print("| --- " * (21 + use_bkt) + "|")
    for row in out:
        rs = row["runs"]
        get = lambda m, k, rs=rs: mean_sd([r[m].get(k, math.nan) for r in rs])  # noqa: E731
        ratio = lambda m, k, rs=rs: mean_sd([r[m][k] / r["ideal"][k] for r in rs if k in r[m] and k in r["ideal"]])  # noqa: E731
        cells = [f"{row['noise']:g}", f"{short(mean_sd([r['rating_r_model'] for r in rs]))} / {short(mean_sd([r['rating_r'] for r in rs]))}",
                 str(row["days"]),
                 f"{mean_sd([r['coverage'] for r in rs])[0]:.0%}",
                 cell(get("gaps", "spearman_all")), cell(get("gaps_fixed", "spearman_all")), cell(get("ideal", "spearman_all")),
                 cell(ratio("gaps", "spearman_all")), cell(ratio("gaps", "spearman_ranked")),
                 cell(ratio("gaps_prev", "spearman_all")), cell(ratio("gaps_prev", "spearman_ranked")),
                 cell(ratio("gaps_fixed", "spearman_all")), cell(ratio("gaps_fixed", "spearman_ranked")),
                 cell(get("gaps", "auc_all")), cell(get("gaps_prev", "auc_all")), cell(get("gaps_fixed", "auc_all")),
                 cell(get("checks_only", "auc_all"))]  # fmt: skip
        if use_bkt:
            cells.append(cell(get("pybkt", "auc_all")))
        cells.append(cell(get("ideal", "auc_all")))
        cells.append(short(mean_sd([r["fitted_weights"].get("self_rating", math.nan) for r in rs])))
        w_q = [short(mean_sd([r["fitted_weights"].get(k, math.nan) for r in rs])) for k in ("question_how", "question_why")]
        cells.append(" / ".join(w_q))
        print("| " + " | ".join(cells) + " |")


def print_stream_table(table: dict, runs: dict) -> None:
    """The stream table in markdown (bench/README-gaps.md), then the evidence each variant logged."""
    cell = lambda ms: "—" if math.isnan(ms[0]) else f"{ms[0]:.3f} ± {ms[1]:.3f}"  # noqa: E731
    print(
        "| evidence | ranked | gaps: Spearman ranked | Spearman all | AUC next | ideal: Spearman ranked | Spearman all | AUC next "
        "| gaps/ideal: ranked | all | AUC above chance |"
    )
    print("| --- " * 11 + "|")
    for (name, _), row in zip(STREAM_VARIANTS, table.values()):
        label = name if not name.startswith("+ ") or name == "+ all four" else f"+ {STREAM_LABELS[name[2:]]}"
        print(f"| {label} | {row['coverage'][0]:.0%} | " + " | ".join(cell(row[k]) for k in (
            "gaps_spearman_ranked", "gaps_spearman_all", "gaps_auc_all", "ideal_spearman_ranked", "ideal_spearman_all", "ideal_auc_all",
            "ratio_spearman_ranked", "ratio_spearman_all", "ratio_auc")) + " |")  # fmt: skip
    base = next(iter(runs.values()))
    print("\nChange from the baseline, paired by seed (same seeds, same learners): mean ± sd over seeds\n")
    print("| evidence | gaps: Δ Spearman ranked | Δ Spearman all | Δ AUC next | ideal: Δ Spearman ranked | Δ Spearman all | Δ AUC next |")
    print("| --- " * 7 + "|")
    for (name, _), rs in zip(STREAM_VARIANTS[1:], list(runs.values())[1:]):
        label = name if name == "+ all four" else f"+ {STREAM_LABELS[name[2:]]}"
        cells = []
        for m in ("gaps", "ideal"):
            for k in ("spearman_ranked", "spearman_all", "auc_all"):
                mu, sd = mean_sd([r[m][k] - b[m][k] for r, b in zip(rs, base)])
                cells.append(f"{mu:+.3f} ± {sd:.3f}")
        print(f"| {label} | " + " | ".join(cells) + " |")
    print("\nevidence rows per learner-day (mean over seeds):")
    for name, rs in runs.items():
        kinds = sorted({k for r in rs for k in r["rows_per_day"]})
        print(f"  {name}: " + ", ".join(f"{k} {statistics.fmean(r['rows_per_day'].get(k, 0.0) for r in rs):.1f}" for k in kinds))


def stream_row(runs: list[dict]) -> dict:
    """Mean ± sd over seeds of gaps' and the ideal observer's scores, and of their per-seed ratios
    (AUC as its distance above chance: (AUC − 0.5) / (AUC_ideal − 0.5))."""
    row = {"coverage": mean_sd([r["coverage"] for r in runs])}
    for m in ("gaps", "ideal"):
        for k in ("spearman_ranked", "spearman_all", "auc_all"):
            row[f"{m}_{k}"] = mean_sd([r[m].get(k, math.nan) for r in runs])
    for k in ("spearman_ranked", "spearman_all"):
        row[f"ratio_{k}"] = mean_sd([r["gaps"][k] / r["ideal"][k] for r in runs])
    row["ratio_auc"] = mean_sd([(r["gaps"]["auc_all"] - 0.5) / (r["ideal"]["auc_all"] - 0.5) for r in runs])
    return row


COLUMNS = (("spearman_ranked", "Spearman"), ("top3_ranked", "top-3"), ("spearman_seen", "Sp. seen"),
           ("spearman_all", "Sp. all"), ("auc_all", "AUC next"))  # fmt: skip


def summarize(results: dict[str, list[dict]], variants) -> dict:
    out: dict = {}
    main_runs = results["gaps"]
    for m in (*METHODS, "ideal", "ideal_noself", "oracle"):
        runs = [r[m] for r in main_runs if m in r]
        if runs:
            out[m] = {k: mean_sd([r.get(k, math.nan) for r in runs]) for k in runs[0]}
    out["coverage"] = mean_sd([r["coverage"] for r in main_runs])
    for name in variants:
        if name != "gaps":
            runs = [r["gaps"] for r in results[name]]
            out[f"ablation: {name}"] = {k: mean_sd([r.get(k, math.nan) for r in runs]) for k in runs[0]}
    return out


def print_table(summary: dict, args, world: World) -> None:
    focus = f", {args.in_play} skills in play" if args.in_play else ", all the role's skills in play"
    print(f"Validity of learnflow gaps: {args.seeds} seeds × {args.learners} learners, {world.days} days of "
          f"simulated use{focus}, {world.checks_per_day:g} checks per reflect "
          f"({'with' if world.probes else 'without'} gap probes)"
          + (", a placement check on day 1" if world.placement else "")
          + (f", `learnflow check -n {world.morning_checks}` every morning" if world.morning_checks else "")
          + (f", self-rating noise {world.rating_noise:g}" if world.rating_noise != World.rating_noise else "")
          + "; mean ± sd over seeds")  # fmt: skip
    print("Spearman/top-3: per learner over the skills gaps ranks (enough evidence); 'seen': every skill with any")
    print("evidence; 'all': every skill of the role. AUC: next check on every skill, pooled per seed.")
    print()
    print(f"{'method':<42}" + "".join(f"{h:>14}" for _, h in COLUMNS))
    print("-" * (42 + 14 * len(COLUMNS)))
    for key, row in summary.items():
        if key == "coverage":
            continue
        label = {
            "oracle": "oracle (true mastery; AUC ceiling)",
            "ideal": "ideal observer (knows the simulator)",
            "ideal_noself": "ideal observer without self-ratings",
        }.get(key, LABELS.get(key, key))
        cells = []
        for k, _ in COLUMNS:
            mu, sd = row.get(k, (math.nan, math.nan))
            cells.append("—" if math.isnan(mu) else f"{mu:.3f}±{sd:.3f}")
        print(f"{label:<42}" + "".join(f"{c:>14}" for c in cells))
    share = summary["coverage"]
    print(f"\nskills gaps ranks after {world.days} days (enough evidence): {share[0]:.0%} ± {share[1]:.0%} of the role's skills")


if __name__ == "__main__":
    sys.exit(main())
