#!/usr/bin/env bash
# Prints the path of a Python that has matplotlib, for bench/plot.py: a virtualenv in
# bench/.venv, made and filled from PyPI the first time.
set -euo pipefail
venv=$(cd "$(dirname "$0")" && pwd)/.venv
if ! "$venv/bin/python" -c 'import matplotlib' 2>/dev/null; then
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet 'matplotlib==3.10.*' >&2
fi
echo "$venv/bin/python"
