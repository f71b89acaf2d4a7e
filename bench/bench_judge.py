"""How often does the check judge agree with a person? On bench/judge/labelled.jsonl (see its README).

    PYTHONPATH=. python bench/bench_judge.py [--split tune|heldout|fresh|fresh2|all] [--show] [--json] [--no-model]

Offline, four judges run in the same process on the same items: the baseline (the judge before
issue 13, kept verbatim in bench/judge/baseline_judging.py), the judge as issue 13 left it (ce63794,
bench/judge/issue13_judging.py with its lexicon), the judge as the second round left it (198ec7d,
bench/judge/round2_judging.py with its lexicon) and the current one (learnflow/practice/judging.py),
each the way the check loop uses it: a blank answer is wrong, else the card's keywords decide.

Splits: `tune` and `heldout` are labelled.jsonl's parts (both are tuning data now: the held-out part was
looked at after issue 13); `fresh` is fresh.jsonl (tuning data too since the third round: it was looked
at after the second); `fresh2` is fresh2.jsonl, written and committed before the third round changed the
judge, and the only held-out set (see bench/judge/README.md). `all` means tune + heldout; `fresh` and
`fresh2` are run only when asked for by name, and `--show` never lists fresh2's items.

Figures per split:
- decided agreement: pass/fail agreement on the items the judge decided (a `partial` label is a pass,
  as a partly right answer is counted right with a lower score). **The ≥ 90% target refers to this.**
- overall agreement: agreed / all items, an undecided item counted as a disagreement (the strict view);
- uncertain rate: items the judge left to the learner (the check loop then shows the reference answer
  and asks the learner to grade themselves);
- wrong→right certain: `wrong` items the judge passed with certainty (target: 0);
- right→wrong certain: `right` items the judge failed with certainty (the person may still overrule);
- score MAE: mean |judge score − label score| on decided items (right 1, partial 0.5, wrong 0).

The model path is measured against the loopback server (tests/fake_openai.FakeOpenAI) with one canned
verdict per item, written as models write them (a bare object, prose around it, a fenced block, the
score as "50%", 0.5 or "1/2", a verdict word instead of a score). The canned verdict is the label, so
this measures the parsing and plumbing (prompt → HTTP → JSON → Judgement), not a model's judgement.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / "judge" / "labelled.jsonl"
FRESH = {"fresh": ROOT / "bench" / "judge" / "fresh.jsonl", "fresh2": ROOT / "bench" / "judge" / "fresh2.jsonl"}
LABEL_SCORE = {"right": 1.0, "partial": 0.5, "wrong": 0.0}


def load(split: str = "all") -> list[dict]:
    path = FRESH.get(split, DATA)
    items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [i for i in items if split == "all" or i["split"] == split]


def _check(item: dict):
    from learnflow.practice.review import Check

    return Check(card_id=0, skill=item["card"].split("-")[0], question=item["question"], expected=item["reference"],
                 keywords=item["keywords"], kind="probe", bundled_card=item["card"])  # fmt: skip


def _baseline(name: str = "baseline_judging"):
    spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / "judge" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


class _NoModel:
    available = False


@dataclass
class Verdict:
    passed: bool
    score: float
    certain: bool


def offline(judging, item: dict) -> Verdict:
    """One item through a judging module the way the check loop calls it without a model."""
    check = _check(item)
    j = judging.judge_answer(check, item["answer"], _NoModel()) or judging.judge_keywords(check, item["answer"])
    return Verdict(j.correct, j.score, getattr(j, "certain", True))


def figures(items: list[dict], verdicts: list[Verdict]) -> dict:
    n = len(items)
    decided = [(i, v) for i, v in zip(items, verdicts, strict=True) if v.certain]
    agree = sum(v.passed == (i["verdict"] != "wrong") for i, v in decided)
    return {
        "items": n,
        "decided": len(decided),
        "decided_agreement": round(agree / len(decided), 3) if decided else None,
        "overall_agreement": round(agree / n, 3) if n else None,
        "uncertain_rate": round(1 - len(decided) / n, 3) if n else None,
        "wrong_judged_right_certain": sum(v.passed for i, v in decided if i["verdict"] == "wrong"),
        "right_judged_wrong_certain": sum(not v.passed for i, v in decided if i["verdict"] == "right"),
        "score_mae": round(sum(abs(v.score - LABEL_SCORE[i["verdict"]]) for i, v in decided) / len(decided), 3) if decided else None,
    }


def run_offline(split: str = "heldout") -> dict:
    """The four offline judges on one split: {"baseline": …, "issue13": …, "round2": …, "current": figures}."""
    from learnflow.practice import judging

    items = load(split)
    judges = {"baseline": _baseline(), "issue13": _baseline("issue13_judging"), "round2": _baseline("round2_judging"), "current": judging}
    return {name: figures(items, [offline(j, i) for i in items]) for name, j in judges.items()}


# -- the model path, through the loopback server -----------------------------------------------

_SHAPES = [
    lambda c, s, f: json.dumps({"correct": c, "score": s, "feedback": f}),
    lambda c, s, f: "Here is my verdict:\n" + json.dumps({"correct": c, "score": s, "feedback": f}),
    lambda c, s, f: "```json\n" + json.dumps({"correct": c, "score": f"{round(s * 100)}%", "feedback": f}) + "\n```",
    lambda c, s, f: json.dumps({"correct": "yes" if c else "no", "score": str(s), "feedback": f}),
    lambda c, s, f: json.dumps({"verdict": {1.0: "correct", 0.5: "partial", 0.0: "wrong"}[s], "feedback": f}),
    lambda c, s, f: json.dumps({"correct": c, "score": {1.0: "1/1", 0.5: "1/2", 0.0: "0/1"}[s], "feedback": f}),
]


def run_model(split: str = "all") -> dict:
    """The model judge with one scripted verdict per item: agreement with the label, unreadable replies;
    {"baseline": …, "current": …}, the same canned replies for both."""
    return {"baseline": _run_model(split, _baseline()), "current": _run_model(split, None)}


def _run_model(split: str, judging) -> dict:
    sys.path.insert(0, str(ROOT))
    from tests.fake_openai import FakeOpenAI

    items = load(split)
    with tempfile.TemporaryDirectory() as home, FakeOpenAI() as server:
        env = {"LEARNFLOW_HOME": home, "OPENAI_BASE_URL": server.url, "OPENAI_API_KEY": "sk-bench-0123456789",
               "LEARNFLOW_MODEL": "openai/bench-model", "LEARNFLOW_NO_PROBE": "1"}  # fmt: skip
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            from learnflow.practice import judging as current
            from learnflow.tutor.modelcall import ModelCall

            judging = judging or current

            model = ModelCall.from_config()
            verdicts, unreadable = [], 0
            for n, item in enumerate(items):
                score = LABEL_SCORE[item["verdict"]]
                if not judging.blank(item["answer"]):  # a blank answer never reaches the model
                    server.script({"content": _SHAPES[n % len(_SHAPES)](score >= 0.5, score, "canned")})
                j = judging.judge_answer(_check(item), item["answer"], model)
                if j is None:
                    unreadable += 1
                    j = current.Judgement(False, 0.0, "", "none", certain=False)
                verdicts.append(Verdict(j.correct, j.score, getattr(j, "certain", True)))
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
    out = figures(items, verdicts)
    out["unreadable_replies"] = unreadable
    out["exact_score"] = round(sum(v.score == LABEL_SCORE[i["verdict"]] for i, v in zip(items, verdicts, strict=True)) / len(items), 3)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="all", choices=["tune", "heldout", "fresh", "fresh2", "all"])
    parser.add_argument("--show", action="store_true", help="list the items the current judge gets wrong or leaves undecided")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--no-model", action="store_true", help="skip the model path")
    args = parser.parse_args()
    splits = ["tune", "heldout"] if args.split == "all" else [args.split]
    report = {s: run_offline(s) for s in splits}
    if not args.no_model:
        report["model"] = run_model(args.split)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for s in splits:
            print(f"\n== offline, {s} ==")
            names = list(report[s])
            print(f"{'':28}" + "".join(f"{n:>10}" for n in names))
            for k in report[s]["current"]:
                print(f"{k:28}" + "".join(f"{report[s][n][k]!s:>10}" for n in names))
        if "model" in report:
            print(f"\n== model path (loopback, canned verdicts), {args.split} ==")
            print(f"{'':28}{'baseline':>10}{'current':>10}")
            for k in report["model"]["current"]:
                print(f"{k:28}{report['model']['baseline'][k]!s:>10}{report['model']['current'][k]!s:>10}")
    if args.show:
        from learnflow.practice import judging

        for s in (s for s in splits if s != "fresh2"):  # the held-out items are never listed
            for item in load(s):
                v = offline(judging, item)
                if not v.certain or v.passed != (item["verdict"] != "wrong"):
                    mark = "?" if not v.certain else "X"
                    print(f"{mark} [{item['verdict']}/{item['kind']}] {item['id']}: {item['answer']!r} -> {v.passed} {v.score}")


if __name__ == "__main__":
    main()
