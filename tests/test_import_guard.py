"""`import` trusts nothing it reads: invalid statements are quarantined with a report, a
hostile file cannot break a later report, and a large file is read as a stream (issue 14)."""

import json
import subprocess
import sys
import textwrap

import pytest

from learnflow.interop.imports import import_statements, read_statements
from learnflow.interop.xapi import EXT

GOOD = {
    "id": "0f3c6a1e-6d9f-4b8e-9a53-3f5e1c2d4b6a",
    "actor": {"mbox": "mailto:ada@example.com"},
    "verb": {"id": "http://adlnet.gov/expapi/verbs/passed"},
    "object": {"id": "https://learnflow.dev/xapi/skills/sql"},
    "result": {"score": {"scaled": 0.9}},
    "timestamp": "2026-03-01T10:00:00Z",
}
EVIDENCE = EXT["evidence"]  # learnflow's own statements carry their evidence rows here


def with_(**changes):
    st = json.loads(json.dumps(GOOD))
    for path, value in changes.items():
        *parents, leaf = path.split("__")
        node = st
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
    return st


def evidence_statement(**row):
    base = {"ts": 1767225600.0, "skill": "sql", "kind": "check", "value": 1.0}
    return with_(result__extensions={EVIDENCE: [{**base, **row}]})


HOSTILE = [
    (with_(id="not-a-uuid"), "id is not a UUID"),
    (with_(id=42), "id is not a UUID"),
    (with_(timestamp=1767225600), "timestamp is not an ISO 8601 text"),
    (with_(timestamp="yesterday"), "timestamp is not an ISO 8601 time"),
    (with_(timestamp="9999-01-01T00:00:00Z"), "timestamp out of range"),
    (with_(result__score__scaled=5), "score.scaled outside -1..1"),
    (with_(result__score__scaled=1e308), "score.scaled outside -1..1"),
    (with_(result__score__raw="lots"), "score.raw is not a number"),
    (evidence_statement(ts=1e308), "evidence time out of range"),
    (evidence_statement(skill="quantum-basket-weaving"), "unknown skill"),
    (evidence_statement(kind="vibes"), "unknown evidence kind"),
    (evidence_statement(value=7), "evidence value outside 0..1"),
    ([1, 2], "not a JSON object"),
]


@pytest.mark.parametrize("statement,reason", HOSTILE, ids=[r for _, r in HOSTILE])
def test_an_invalid_statement_is_quarantined_with_its_reason(store, statement, reason):
    result = import_statements(store, [statement, GOOD])
    assert result.added == 1 and result.invalid == 1
    assert result.problems == {reason: 1} and reason in result.examples[0]
    assert store.query("SELECT count(*) AS n FROM xapi_imported")[0]["n"] == 1


def test_a_hostile_file_leaves_every_report_working(cli, tmp_path):
    f = tmp_path / "hostile.json"
    f.write_text(json.dumps([st for st, _ in HOSTILE if isinstance(st, dict)] + [GOOD]))
    result = cli("import", str(f))
    assert result.exit_code == 0 and "Imported 1 statements" in result.stderr and "invalid, not stored" in result.stderr
    for args in (["gaps"], ["gaps", "--json"], ["export"], ["export", "--format", "csv"], ["team", str(f)]):
        assert cli(*args).exit_code == 0, args
    assert cli("gaps", "--html", str(tmp_path / "g.html")).exit_code == 0


def test_deeply_nested_json_is_bad_input_not_a_recursion_error(cli, tmp_path):
    for name, text in (("array", "[" * 100_000 + "]" * 100_000), ("object", '{"a":' * 100_000 + "1" + "}" * 100_000)):
        f = tmp_path / f"{name}.json"
        f.write_text(text)
        result = cli("import", str(f))
        assert result.exit_code == 3, (name, result.output)
        assert "Traceback" not in result.output


def test_json_lines_with_a_bad_line_import_the_rest(cli, tmp_path):
    lines = [json.dumps(with_(id=f"0f3c6a1e-6d9f-4b8e-9a53-3f5e1c2d4b6{i}")) for i in range(3)]
    f = tmp_path / "lines.jsonl"
    deep = '{"a":' * 5000 + "1" + "}" * 5000  # valid JSON, nested past the decoder's recursion limit
    f.write_text("\n".join([lines[0], "{oops", lines[1], deep, lines[2], '{"no": "statement"}']) + "\n")
    result = cli("import", "--json", str(f))
    out = json.loads(result.stdout)
    assert out["added"] == 3 and out["invalid"] == 3 and out["problems"] == {"not JSON": 2, "no actor, verb or object": 1}


def test_a_parse_error_part_way_keeps_what_came_before_and_says_where(cli, tmp_path, store):
    good = [with_(id=f"0f3c6a1e-6d9f-4b8e-9a53-{i:012d}") for i in range(2500)]
    text = json.dumps(good)[:-1] + ", {broken"
    f = tmp_path / "cut.json"
    f.write_text(text)
    result = cli("import", str(f))
    assert result.exit_code == 3 and "after 2,500 statements" in result.stderr
    assert store.query("SELECT count(*) AS n FROM xapi_imported")[0]["n"] == 2000  # whole batches were kept


def test_streaming_reads_arrays_lrs_pages_single_statements_and_a_bom(tmp_path):
    import io

    for text in (json.dumps([GOOD]), json.dumps({"statements": [GOOD], "more": ""}, indent=2), json.dumps(GOOD, indent=2),
                 "\ufeff" + json.dumps([GOOD]), "  \n" + json.dumps(GOOD)):  # fmt: skip
        assert list(read_statements(io.BytesIO(text.encode()))) == [GOOD], text[:30]


def test_importing_200_000_statements_stays_in_bounded_memory(tmp_path):
    """10^6 statements once took 2.7 GB: the file is streamed and batches are written as they fill.
    Peak memory is measured in a child process (VmHWM), against the same import of 20,000."""
    script = textwrap.dedent(
        """
        import json, sys
        n, path = int(sys.argv[1]), sys.argv[2]
        with open(path, "w") as fh:
            fh.write("[\\n")
            for i in range(n):
                st = {"id": f"0f3c6a1e-6d9f-4b8e-9a53-{i:012d}", "actor": {"mbox": "mailto:ada@example.com"},
                      "verb": {"id": "http://adlnet.gov/expapi/verbs/passed"},
                      "object": {"id": "https://learnflow.dev/xapi/skills/sql"},
                      "result": {"score": {"scaled": 0.5}}, "timestamp": "2026-03-01T10:00:00Z"}
                fh.write(("," if i else "") + json.dumps(st) + "\\n")
            fh.write("]\\n")
        from learnflow.cli.app import main
        sys.argv = ["learnflow", "import", path]
        try:
            main()
        except SystemExit:
            pass
        # VmHWM: this process's own peak (ru_maxrss would carry the parent's peak across fork + exec).
        hwm = [line for line in open("/proc/self/status") if line.startswith("VmHWM")][0]
        print(int(hwm.split()[1]) // 1024)
        """
    )
    peaks = {}
    for n in (20_000, 200_000):
        home = tmp_path / f"home{n}"
        out = subprocess.run([sys.executable, "-c", script, str(n), str(tmp_path / f"s{n}.json")], capture_output=True, text=True,
                             env={**__import__("os").environ, "LEARNFLOW_HOME": str(home)}, timeout=600)  # fmt: skip
        assert out.returncode == 0, out.stderr[-2000:]
        assert f"Imported {n:,} statements" in out.stderr
        peaks[n] = int(out.stdout.split()[-1])
    assert peaks[200_000] < 300 and peaks[200_000] - peaks[20_000] < 40, peaks  # MB: flat, not 10x
