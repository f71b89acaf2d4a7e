#!/usr/bin/env bash
# Installs the `llm` CLI (simonw/llm, from PyPI) into bench/.venv, for the side-by-side
# rows of bench/bench_startup.py. Never into the project's own dependencies or venv.
#
#   bash bench/setup.sh                 # latest llm
#   LLM_VERSION=0.36 bash bench/setup.sh   # a given version
#   PYTHON=/path/to/python3 bash bench/setup.sh
#
# Re-running is cheap: an existing bench/.venv is reused.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"

# Same interpreter as learnflow's dev venv when there is one, so both sides start the same Python.
if [[ -z "${PYTHON:-}" ]]; then
    if [[ -x /work/venv/bin/python ]]; then
        PYTHON="$(/work/venv/bin/python -c 'import sys; print(sys.base_prefix)')/bin/python3"
    else
        PYTHON="$(command -v python3)"
    fi
fi

if [[ ! -x "$venv/bin/python" ]]; then
    echo "creating $venv with $PYTHON"
    "$PYTHON" -m venv "$venv"
fi

spec="llm"
if [[ -n "${LLM_VERSION:-}" ]]; then
    spec="llm==${LLM_VERSION}"
fi
echo "installing $spec into $venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$spec"
"$venv/bin/llm" --version
