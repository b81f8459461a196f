#!/usr/bin/env bash
# Fidelity of the offline generator: score rowsmith's rows and SDV's
# GaussianCopula rows against the real rows of the demo tables and of public
# tables shipped inside Python packages. See README.md.
#
# Usage: benches/fidelity/run.sh [fidelity.py options, e.g. --tables cars,wine]
#        (with no options it also writes benches/fidelity/results.md)
# Env:   PYTHON          interpreter for the virtual environment (python3)
#        FIDELITY_VENV   where the virtual environment lives (benches/fidelity/.venv)
#        ROWSMITH_BIN    use this binary instead of building one (a debug build
#                        scores the same: generation is deterministic per seed)
#        FIDELITY_SEEDS  seeds scored for results.md's spread table (10)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${FIDELITY_VENV:-$here/.venv}"
python="${PYTHON:-python3}"
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
    # SDV without its declared dependencies: they would pull in torch.
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

# 3. Generate, score, report.
score_start=$SECONDS
status=0
# results.md holds the full run only (all tables, seed spread over
# FIDELITY_SEEDS seeds); a run with options just prints.
out=()
[[ $# -eq 0 ]] && out=(--out "$here/results.md" --seeds "${FIDELITY_SEEDS:-10}")
"$venv/bin/python" "$here/fidelity.py" --binary "$binary" "${out[@]}" "$@" || status=$?
echo "== scoring: $((SECONDS - score_start)) s; whole run: $((SECONDS - run_start)) s"
exit "$status"
