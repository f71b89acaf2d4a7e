"""A property-based fuzz of the CLI: whatever a person (or a script) throws at it, no traceback.

Random argv drawn from the real command tree (every command and option, random ints huge and
negative, unicode with surrogates and control characters), random environment (LEARNFLOW_*,
OPENAI_BASE_URL, NO_COLOR, COLUMNS), random config files (TOML of every type and non-TOML bytes),
random stdin bytes and random import files. Each case must end with an exit code from the
documented set (learnflow/errors.py ExitCode, click's 2, 141 for a closed pipe, 130 for Ctrl-C)
and no traceback.

The default run is a few seconds' worth of cases for CI; `LEARNFLOW_FUZZ_CASES=10000` runs the
full fuzz (split over the tests below in the same proportions) with a fresh random seed.

Nothing leaves the machine or the test's folder: paths are drawn inside the test's folder,
URLs point at loopback (the fake server, a closed port) or at hosts the network guard refuses,
and `run` only runs a few harmless commands.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import learnflow_netguard
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from learnflow.errors import ExitCode

FULL = os.environ.get("LEARNFLOW_FUZZ_CASES")
TOTAL = int(FULL or 1000)
ALLOWED = {int(c) for c in ExitCode} | {2, 130, 141}


def cases(share: float) -> settings:
    return settings(
        max_examples=max(1, int(TOTAL * share)),
        deadline=None,
        derandomize=not FULL,  # CI sees the same cases each run; the full fuzz explores afresh
        database=None,
        suppress_health_check=list(HealthCheck),
    )


# -- values -------------------------------------------------------------------------------------

# Any code point: control characters, RTL marks… and lone surrogates as Python makes them from
# bytes that are not UTF-8 (U+DC80..U+DCFF, in argv and the environment); but no NUL, which
# neither argv nor the environment can carry.
anychar = st.one_of(
    st.characters(exclude_categories=("Cs",), exclude_characters="\x00"),
    st.characters(min_codepoint=0xDC80, max_codepoint=0xDCFF),
)
text = st.text(anychar, max_size=30)
nasty = st.sampled_from(
    ["", " ", "-", "--", "-1", "0", "\x1b[2J", "\x1b]0;title\x07", "\r", "\udcff", "\u202e", "%s", "{}", "'", '"', "\\", "🦀", "a" * 300]
)
big_ints = st.sampled_from([2**63 - 1, 2**63, 2**64, -(2**63) - 1, 10**30, -1, 0, 1])
ints = st.one_of(st.integers(-5, 50), st.integers(), big_ints).map(str)
floats = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr), st.sampled_from(["nan", "inf", "-inf", "1e308", "1e-320", "0.7"])
)
words = st.one_of(text, nasty)
when = st.sampled_from(["today", "yesterday", "7d", "2w", "2024-01-01", "2024-13-45", "9999-12-31", "0001-01-01", "-3d", "1e9d", "monday"])
models = st.sampled_from(["offline", "openai/my-model", "local/x.gguf", "ollama/llama3.2", "gpt-4o-mini", "nope/nope", "", "openai/"])
urls = st.sampled_from(
    [
        "SERVER", "http://127.0.0.1:9/", "http://[::1", "http://127.0.0.1:99999", "http://localhost:0", "ftp://127.0.0.1/",
        "http://user:pass@127.0.0.1:9/x", "http://example.invalid/", "https://10.0.0.1/xapi", "not a url", "", "http://", "://",
    ]
)  # fmt: skip


def paths(base: Path):
    """Paths inside the test's folder only (the fuzz runs as whatever user runs the tests)."""
    fixed = st.sampled_from([str(base / n) for n in ("import.json", "answers.toml", "config.bin", "dir", "file/under", "missing")])
    made = st.text(st.characters(exclude_characters="\x00/~\\", exclude_categories=("Cs",)), min_size=1, max_size=12)
    return st.one_of(fixed, made.map(lambda n: str(base / "out" / f"fz-{n}")))


# -- the real command tree ---------------------------------------------------------------------


def command_tree() -> dict[tuple[str, ...], object]:
    import typer

    from learnflow.cli.app import app

    leaves: dict[tuple[str, ...], object] = {}

    def walk(cmd, path):
        if hasattr(cmd, "commands"):
            for name, sub in cmd.commands.items():
                walk(sub, (*path, name))
        else:
            leaves[path] = cmd

    walk(typer.main.get_command(app), ())
    return leaves


TREE = command_tree()
SAFE_COMMANDS = [["true"], ["false"], [sys.executable, "-c", "import sys; print('x'); sys.exit(3)"], ["definitely-not-a-command-xyz"]]


def value_for(param, base: Path):
    """A strategy for one value of a click parameter, by its type and name."""
    name = param.name or ""
    kind = param.type.name
    if getattr(param.type, "choices", None):
        return st.one_of(st.sampled_from(list(param.type.choices)), words)
    if kind in ("integer", "integer range"):
        return st.one_of(ints, words)
    if kind in ("float", "float range"):
        return st.one_of(floats, words)
    if kind == "path" or name in ("file", "files", "answers", "output", "html"):
        return paths(base)
    if name in ("lrs",):
        return urls
    if name == "model":
        return st.one_of(models, words)
    if name == "since":
        return st.one_of(when, words)
    if name == "format":
        return st.one_of(st.sampled_from(["xapi", "csv", "json", "jsonl", "md", "text", "html"]), words)
    if name in ("key",):
        from learnflow.config import SETTINGS

        return st.one_of(st.sampled_from([*SETTINGS, "levels.git", "levels.nope"]), words)
    if name in ("skill",):
        return st.one_of(st.sampled_from(["git", "python", "sql", "docker", "nope"]), words)
    return st.one_of(words, ints, floats)


@st.composite
def argvs(draw, base: Path) -> list[str]:
    path = draw(st.sampled_from(sorted(TREE)))
    cmd = TREE[path]
    argv = list(path)
    options = [p for p in cmd.params if p.param_type_name == "option"]
    arguments = [p for p in cmd.params if p.param_type_name == "argument"]
    for opt in draw(st.lists(st.sampled_from(options), max_size=4)) if options else []:
        flag = draw(st.sampled_from(opt.opts + opt.secondary_opts))
        argv.append(flag)
        if not opt.is_flag:
            argv.append(draw(value_for(opt, base)))
    if path == ("run",):
        return [*argv, "--", *draw(st.sampled_from(SAFE_COMMANDS))]
    for arg in arguments:
        n = draw(st.integers(0, 3)) if arg.nargs == -1 else draw(st.sampled_from([1, 1, 1, 0, 2]))
        argv += [draw(value_for(arg, base)) for _ in range(n)]
    if draw(st.integers(0, 9)) == 0:  # now and then: help, an unknown option, a stray word
        argv.insert(draw(st.integers(0, len(argv))), draw(st.sampled_from(["--help", "-h", "--nope", "--json", "--", "-x", "--version"])))
    return argv


# -- environment, config, stdin, import files ----------------------------------------------------


@st.composite
def environments(draw, base: Path, server_url: str) -> dict[str, str | None]:
    env: dict[str, str | None] = {}
    choices = {
        "LEARNFLOW_MODEL": st.one_of(models, words),
        "OPENAI_BASE_URL": urls,
        "OPENAI_API_KEY": st.one_of(st.just("sk-test-0123456789"), words),
        "LEARNFLOW_LRS_URL": urls,
        "LEARNFLOW_LRS_USER": words,
        "LEARNFLOW_LRS_PASSWORD": words,
        "LEARNFLOW_NO_PROBE": st.sampled_from(["1", "0", "", "yes"]),
        "LEARNFLOW_PROBE_PORTS": st.one_of(st.just("9"), ints, words),
        "LEARNFLOW_HOME": st.sampled_from([str(base / "file"), str(base / "file" / "under"), str(base / "other-home")]),
        "NO_COLOR": st.one_of(st.sampled_from(["1", "", "0"]), words),
        "COLUMNS": st.one_of(ints, words, st.sampled_from(["0", "1", "20", "80", "100000"])),
        "LINES": st.one_of(ints, words),
        "TERM": st.sampled_from(["dumb", "xterm-256color", "", "vt100"]),
    }
    for key in draw(st.lists(st.sampled_from(sorted(choices)), max_size=4, unique=True)):
        value = draw(choices[key])
        # What os.environ can hold: no NUL, and surrogates only as the bytes they stand for.
        env[key] = value.replace("SERVER", server_url) if isinstance(value, str) else value
    if env.get("OPENAI_API_KEY") and "OPENAI_BASE_URL" not in env:
        # A key alone points at api.openai.com: no test touches the internet, and the net guard's
        # "expected" marks only the main thread, not the model-tagging or probing threads.
        env["OPENAI_BASE_URL"] = server_url
    return env


toml_scalars = st.one_of(
    st.integers().map(str),
    big_ints.map(str),
    st.floats().map(lambda f: "nan" if math.isnan(f) else ("inf" if f > 0 else "-inf") if math.isinf(f) else repr(f)),
    st.booleans().map(lambda b: str(b).lower()),
    st.one_of(text, nasty, models, urls).map(lambda s: json.dumps(s, ensure_ascii=False)),
    st.sampled_from(["1979-05-27T07:32:00Z", "1979-05-27", "07:32:00", "[]", "[1, 'a']", "{}", "{ a = 1 }"]),
)


@st.composite
def config_files(draw) -> bytes | None:
    from learnflow.config import SETTINGS

    shape = draw(st.sampled_from(["none", "toml", "toml", "toml", "bytes", "text"]))
    if shape == "none":
        return None
    if shape == "bytes":
        return draw(st.binary(max_size=200))
    if shape == "text":
        return draw(text).encode("utf-8", "surrogatepass")
    keys = st.one_of(st.sampled_from(sorted(SETTINGS)), st.sampled_from(["unknown", "levels"]))
    lines = [f"{k} = {draw(toml_scalars)}" for k in draw(st.lists(keys, max_size=6))]
    if draw(st.booleans()):
        lines.append("[levels]")
        lines += [f"{json.dumps(draw(st.one_of(st.sampled_from(['git', 'python', 'nope']), text)))} = {draw(toml_scalars)}"]
    return "\n".join(lines).encode("utf-8", "surrogatepass")


stdins = st.one_of(
    st.none(),
    st.binary(max_size=300),
    st.one_of(text, nasty).map(lambda s: s.encode("utf-8", "surrogatepass")),
    st.sampled_from([b"Traceback?\nKeyError: 'x'\n", b"y\n" * 20, b"\xff\xfe\x00\x00", b"1\n2\n3\n", b"\n" * 50]),
)

json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), big_ints, st.floats(), text),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.one_of(text, st.sampled_from(["id", "ts", "skill"])), inner, max_size=4)
    ),
    max_leaves=12,
)
SKILL_IRI = "https://learnflow.dev/xapi/skills/git"
EVIDENCE = "https://learnflow.dev/xapi/extensions/evidence"


@st.composite
def statements(draw):
    """Mostly statement-shaped objects, with any part replaced by a random JSON value."""
    base = {
        "id": draw(st.one_of(st.uuids().map(str), json_values)),
        "actor": {"objectType": "Agent", "account": {"homePage": "https://x.example", "name": draw(text)}},
        "verb": {
            "id": draw(st.sampled_from(["http://adlnet.gov/expapi/verbs/answered", "http://adlnet.gov/expapi/verbs/progressed", "x"]))
        },
        "object": {"id": draw(st.sampled_from([SKILL_IRI, "https://learnflow.dev/xapi/skills/nope", "urn:x"])), "objectType": "Activity"},
        "result": {
            "score": {"scaled": draw(st.one_of(st.floats(-2, 2), big_ints, json_values))},
            "success": draw(json_values),
            "extensions": {EVIDENCE: [{"skill": "git", "kind": "check", "value": draw(json_values), "ts": draw(json_values)}]},
        },
        "context": {"contextActivities": {"other": [{"id": SKILL_IRI}]}},
        "timestamp": draw(
            st.sampled_from(["2024-05-01T10:00:00Z", "2024-05-01", "1e308", "", "9999-12-31T23:59:59Z", "2024-02-30T00:00:00Z"])
        ),
    }
    for _ in range(draw(st.integers(0, 3))):  # break a part: any key, anywhere one level down
        key = draw(st.sampled_from(sorted(base)))
        if isinstance(base[key], dict) and base[key] and draw(st.booleans()):
            sub = draw(st.sampled_from(sorted(base[key])))
            base[key][sub] = draw(json_values)
        else:
            base[key] = draw(json_values)
    return base


@st.composite
def import_files(draw) -> bytes:
    shape = draw(st.sampled_from(["array", "array", "lrs", "one", "lines", "json", "bytes", "deep"]))
    items = draw(st.lists(st.one_of(statements(), json_values), max_size=4))
    if shape == "array":
        return json.dumps(items).encode()
    if shape == "lrs":
        return json.dumps({"statements": items, "more": draw(json_values)}).encode()
    if shape == "one":
        return json.dumps(items[0] if items else {}).encode()
    if shape == "lines":
        return "\n".join(json.dumps(i) for i in items).encode() + draw(st.sampled_from([b"", b"\n{", b"\nnot json"]))
    if shape == "json":
        return json.dumps(draw(json_values)).encode()
    if shape == "deep":
        n = draw(st.sampled_from([10, 1000, 100_000]))
        return draw(st.sampled_from([b"[" * n + b"]" * n, b'{"statements": ' + b"[" * n, b"[{" * n]))
    return draw(st.binary(max_size=300))


# -- the harness ---------------------------------------------------------------------------------


@pytest.fixture
def world(home, tmp_path, monkeypatch, server):
    """One learnflow home with some history, a folder of files to point at, no real waiting."""
    from typer.testing import CliRunner

    from learnflow.cli.app import app
    from learnflow.interop import lrs
    from learnflow.tutor import ask

    base = tmp_path / "fuzz"
    (base / "dir").mkdir(parents=True)
    (base / "out").mkdir()
    (base / "file").write_text("a file where a folder is expected")
    (base / "import.json").write_text("[]")
    (base / "answers.toml").write_text("")
    (base / "config.bin").write_bytes(b"")
    monkeypatch.chdir(base / "out")  # relative names land here
    # Retries wait for nothing: the fuzz is about what happens, not when.
    monkeypatch.setattr(ask, "backoff", lambda exc, attempt: 0.0)
    monkeypatch.setitem(lrs.Client.__init__.__kwdefaults__, "sleep", lambda s: None)
    runner = CliRunner()
    for argv, stdin in ((["ask", "how do I undo a git commit?"], None), (["ask", "why is this slow?"], b"SELECT * FROM t;\n")):
        assert runner.invoke(app, argv, input=stdin).exit_code == 0  # some history to show, export, forget
    return base, runner, app, server


def run_case(world, argv, env=None, config=None, stdin=None) -> None:
    base, runner, app, _ = world
    cfg = Path(os.environ["LEARNFLOW_HOME"]) / "config.toml"
    if config is None:
        cfg.unlink(missing_ok=True)
    else:
        cfg.write_bytes(config)
    from learnflow.__main__ import _readable_argv

    with learnflow_netguard.expected():  # hosts it refuses are part of the fuzz: never logged as a leak
        # argv as the entry point hands it on (test_non_utf8_argv_bytes… goes through the real one)
        result = runner.invoke(app, _readable_argv(["learnflow", *argv])[1:], input=stdin, env=env, catch_exceptions=True)
    where = f"argv={argv!r} env={env!r} config={config!r} stdin={stdin!r}"
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        import traceback

        trace = "".join(traceback.format_exception(result.exception))
        raise AssertionError(f"traceback for {where}:\n{trace}")
    output = result.output
    assert "Traceback (most recent call last)" not in output, where
    if argv[:1] != ["run"]:  # `run` exits with its command's own code
        assert result.exit_code in ALLOWED, f"exit {result.exit_code} for {where}:\n{output}"


@cases(0.55)
@given(data=st.data())
def test_random_argv_never_shows_a_traceback(world, data):
    base = world[0]
    run_case(world, data.draw(argvs(base)), stdin=data.draw(st.one_of(st.none(), stdins)))


@cases(0.2)
@given(data=st.data())
def test_random_environment_and_config_never_show_a_traceback(world, data):
    base, *_, server = world
    argv = data.draw(
        st.one_of(argvs(base), st.sampled_from([["ask", "how do I rebase?"], ["gaps"], ["history"], ["config", "list"], ["doctor"]]))
    )
    env = data.draw(environments(base, server.url))
    run_case(world, argv, env=env, config=data.draw(config_files()), stdin=data.draw(st.one_of(st.none(), stdins)))


@cases(0.1)
@given(stdin=stdins, data=st.data())
def test_random_stdin_never_shows_a_traceback(world, stdin, data):
    argv = data.draw(
        st.sampled_from(
            [
                ["ask", "what is this?"],
                ["ask", "--json", "explain"],
                ["reflect"],
                ["check"],
                ["answer"],
                ["import", "-"],
                ["ask", "--try", "x"],
            ]
        )
    )
    run_case(world, argv, stdin=stdin)


@cases(0.15)
@given(
    content=import_files(), then=st.sampled_from([[], ["gaps"], ["export", "--format", "xapi"], ["export", "--format", "csv"], ["history"]])
)
def test_random_import_files_never_show_a_traceback(world, content, then):
    base = world[0]
    (base / "import.json").write_bytes(content)
    run_case(world, ["import", str(base / "import.json")])
    if then:  # whatever was kept must not break what reads it later
        run_case(world, then)


# -- argv bytes, through a real process ----------------------------------------------------------


@settings(max_examples=max(3, TOTAL // 100), deadline=None, derandomize=not FULL, database=None, suppress_health_check=list(HealthCheck))
@given(
    words=st.lists(st.binary(min_size=1, max_size=12).filter(lambda b: b"\x00" not in b), min_size=1, max_size=3),
    command=st.sampled_from([["ask"], ["show"], ["history", "-q"], ["config", "get"], ["forget"], ["prompts"], ["goals", "unset", "--"]]),
)
def test_non_utf8_argv_bytes_never_show_a_traceback(home, words, command):
    argv = [os.fsencode(sys.executable), b"-m", b"learnflow", *(c.encode() for c in command), *words]
    env = {**os.environ, "LC_ALL": "C.UTF-8"}
    proc = subprocess.run(argv, capture_output=True, timeout=60, env=env, stdin=subprocess.DEVNULL)
    assert b"Traceback" not in proc.stderr, (argv, proc.stderr.decode("utf-8", "replace"))
    assert proc.returncode in ALLOWED, (argv, proc.returncode)
