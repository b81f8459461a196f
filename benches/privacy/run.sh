#!/usr/bin/env bash
# Privacy: what `--privacy mask|samples|schema` sends to a real model, and the realism
# of the rows that come back. rowsmith talks to a small local model (SmolLM2-135M via
# ../shared/tools/local-llm) through a recording proxy; the script counts the table's
# real identity values in the recorded requests and scores the rows with the fidelity
# bench's scoring; then probe.py checks identifiers stored as numbers or codes against a
# stub server. See README.md. Not part of CI.
#
# Usage: benches/privacy/run.sh [privacy.py options, e.g. --tables customers --runs constraints:mask]
#        (with no options it also writes benches/privacy/results.md and probe.md)
# Env:   PYTHON          interpreter for the virtual environment (python3)
#        FIDELITY_VENV   the fidelity bench's virtual environment (benches/fidelity/.venv),
#                        reused here; created like benches/fidelity/run.sh does
#        ROWSMITH_BIN    use this binary instead of building one
#        ROWSMITH_COMMIT what results.md says the binary was built from (with ROWSMITH_BIN)
#        LOCAL_LLM       the model server script (/work/shared/tools/local-llm)
#        LLM_PORT        its port (8089)
#        PRIVACY_SEEDS   runs (seeds 1..K) per combination for results.md (3)
#        PRIVACY_KEEP    keep the recorded request logs (JSONL) in this folder
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
fidelity="$root/benches/fidelity"
venv="${FIDELITY_VENV:-$fidelity/.venv}"
python="${PYTHON:-python3}"
local_llm="${LOCAL_LLM:-$root/../shared/tools/local-llm}"
port="${LLM_PORT:-8089}"
run_start=$SECONDS

# 1. The fidelity bench's virtual environment (same pins, same stamp as its run.sh).
stamp="$venv/.requirements.sha256"
want="$(cat "$fidelity/requirements.txt" "$fidelity/requirements-nodeps.txt" | sha256sum | cut -d' ' -f1)"
if [[ ! -x "$venv/bin/python" || "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
    echo "== installing the Python packages into $venv"
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$fidelity/requirements.txt"
    "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps \
        -r "$fidelity/requirements-nodeps.txt"
    echo "$want" > "$stamp"
else
    echo "== reusing $venv"
fi

# 2. The binary.
if [[ -n "${ROWSMITH_BIN:-}" ]]; then
    binary="$ROWSMITH_BIN"
    code="${ROWSMITH_COMMIT:-$binary}"
else
    echo "== cargo build --release"
    (cd "$root" && cargo build --release --quiet)
    binary="${CARGO_TARGET_DIR:-$root/target}/release/rowsmith"
    code="commit $(git -C "$root" rev-parse --short HEAD)"
    [[ -z "$(git -C "$root" status --porcelain -- src Cargo.toml Cargo.lock)" ]] || code="$code (with local changes)"
fi

# 3. The model server: started here unless one already answers on the port, and
#    stopped at the end only if this script started it.
started_llm=0
if curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1; then
    echo "== model server already running on port $port"
else
    echo "== starting the model server (local-llm start $port; builds it the first time)"
    "$local_llm" start "$port"
    started_llm=1
fi
stop_llm() { if [[ $started_llm == 1 ]]; then "$local_llm" stop || true; fi; }
trap stop_llm EXIT

# 4. Generate through the recording proxy, count, score.
out=()
[[ $# -eq 0 ]] && out=(--out "$here/results.md" --json-out "$here/results.json" --seeds "${PRIVACY_SEEDS:-3}")
[[ -n "${PRIVACY_KEEP:-}" ]] && out+=(--keep "$PRIVACY_KEEP")
status=0
"$venv/bin/python" "$here/privacy.py" --binary "$binary" --code "$code" \
    --upstream "http://127.0.0.1:$port" "${out[@]}" "$@" || status=$?
# 5. The leak probe: identifiers stored as numbers or codes, against a stub server
#    (seconds; its exit status says whether a value leaked, which is a finding, not a
#    failure of the bench).
echo "== leak probe (probe.py)"
probe_out=()
[[ $# -eq 0 ]] && probe_out=(--out "$here/probe.md")
"$venv/bin/python" "$here/probe.py" --binary "$binary" "${probe_out[@]}" || true
echo "== whole run: $((SECONDS - run_start)) s"
exit "$status"
