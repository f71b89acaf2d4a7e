"""Auto-loaded by Python at start-up when tests/netguard is on PYTHONPATH.

With LEARNFLOW_NETGUARD=1 it installs learnflow_netguard (blocks non-loopback network
access; log file from LEARNFLOW_NETGUARD_LOG).  Because this file shadows any other
``sitecustomize`` module (pyenv's, Debian's, a venv's), it first finds the next one on
sys.path and runs it, so nothing that relied on it breaks.
"""


def _chain_next_sitecustomize() -> None:
    import importlib.machinery
    import importlib.util
    import os
    import sys

    here = os.path.dirname(os.path.abspath(__file__))
    rest = [p for p in sys.path if os.path.abspath(p or os.getcwd()) != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", rest)
    if spec is None or spec.loader is None:
        return
    if spec.origin and os.path.abspath(spec.origin) == os.path.abspath(__file__):
        return
    mod = importlib.util.module_from_spec(spec)
    sys.modules["_learnflow_chained_sitecustomize"] = mod
    try:
        spec.loader.exec_module(mod)
    except Exception as e:  # never let a broken chained hook stop the interpreter
        sys.stderr.write(f"learnflow netguard: chained sitecustomize {spec.origin} failed: {e!r}\n")


def _install_guard() -> None:
    import os
    import sys

    if os.environ.get("LEARNFLOW_NETGUARD") != "1":
        return
    here = os.path.dirname(os.path.abspath(__file__))
    if here not in sys.path:
        sys.path.append(here)
    import learnflow_netguard

    learnflow_netguard.install(os.environ.get("LEARNFLOW_NETGUARD_LOG") or None)


_chain_next_sitecustomize()
_install_guard()
