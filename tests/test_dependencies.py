"""Dependency pins that exist for speed, checked so that lifting one cannot go unnoticed."""

from __future__ import annotations

import json
import subprocess
import sys

# Runs learnflow commands in one fresh process, then reports whether pydantic was
# imported and, if so, the stack that imported it first.
PROBE = r"""
import json, sys, traceback

class Spy:
    stack = None
    def find_spec(self, name, path=None, target=None):
        if name == "pydantic" and Spy.stack is None:
            Spy.stack = [f"{f.filename}:{f.lineno} {f.name}" for f in traceback.extract_stack()[:-1]
                         if "importlib" not in f.filename][-6:]
        return None

sys.meta_path.insert(0, Spy())
from learnflow.cli.app import main
codes = []
for argv in (["--help"], ["ask", "--help"], ["ask", "-m", "offline", "How do I undo my last git commit?"]):
    sys.argv = ["learnflow", *argv]
    try:
        main()
        codes.append(0)
    except SystemExit as exc:
        codes.append(exc.code or 0)
import typer
print(json.dumps({"codes": codes, "typer": typer.__version__, "pydantic": "pydantic" in sys.modules, "stack": Spy.stack}), file=sys.stderr)
"""


def test_learnflow_commands_do_not_import_pydantic():
    """pyproject caps typer below 0.29: typer 0.29 imports pydantic when it runs any command
    (`ask`, not the top-level --help), which cost `ask` ~0.1 s on this machine, right at
    its 0.30 s budget (bench/README.md, "typer 0.29"). Lifting the cap to a typer that
    still does this fails here; when a newer typer passes, the cap can go."""
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    report = json.loads(out.stderr.strip().splitlines()[-1])
    assert report["codes"] == [0, 0, 0], out.stderr[-2000:]  # the commands ran, so their code paths were taken
    first_import = "\n  ".join(report["stack"] or [])
    assert not report["pydantic"], f"a learnflow command imported pydantic (typer {report['typer']}), first from:\n  {first_import}"
