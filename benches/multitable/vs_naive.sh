#!/usr/bin/env bash
# `generate --all --scale 10` on the demo against the naive way to the same row counts:
# four single-table `generate` runs, parents first (what a user did before --all). Times
# both whole processes in turn with farm-bench and prints the medians and the ratio, then
# what the naive result got wrong. Usage: benches/multitable/vs_naive.sh [RUNS]
# Env: ROWSMITH_BIN (default target/release/rowsmith, built if missing).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${ROWSMITH_BIN:-$root/target/release/rowsmith}"
[[ -x "$bin" ]] || (cd "$root" && cargo build --release --quiet)
runs="${1:-7}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export ROWSMITH_DATA_DIR="$work/data" XDG_CONFIG_HOME="$work/no-config"
unset OPENAI_API_KEY ANTHROPIC_API_KEY ROWSMITH_PROVIDER ROWSMITH_CONFIG
cp "$("$bin" demo)" "$work/demo.db"

# The naive runs add what --all adds at --scale 10 (the demo's rows × 9).
cat > "$work/all.sh" <<SH
cp "$work/demo.db" "$work/all.db" && exec "$bin" generate "$work/all.db" --all --scale 10 --seed 1 --provider offline
SH
cat > "$work/naive.sh" <<SH
cp "$work/demo.db" "$work/naive.db" &&
"$bin" generate "$work/naive.db" customers -n 540 --seed 1 --provider offline &&
"$bin" generate "$work/naive.db" products -n 360 --seed 1 --provider offline &&
"$bin" generate "$work/naive.db" orders -n 1800 --seed 1 --provider offline &&
exec "$bin" generate "$work/naive.db" order_items -n 3681 --seed 1 --provider offline
SH
farm-bench -n "$runs" --vs "sh $work/naive.sh" -- sh "$work/all.sh" | grep -E "wall|peak|^#|runs"

check() {
    sqlite3 "$1" "SELECT
      (SELECT count(*) FROM orders WHERE id > 200),
      (SELECT count(*) FROM orders o WHERE id > 200 AND abs(total - coalesce((SELECT sum(line_total) FROM order_items i WHERE i.order_id = o.id), 0)) < 0.005),
      (SELECT count(*) FROM orders WHERE id > 200 AND customer_id > 60),
      (SELECT count(*) FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.id > 200 AND o.ordered_at >= c.created_at)"
}
echo "new orders | totals = their lines | with a new customer | after the customer's signup"
echo "--all: $(check "$work/all.db")"
echo "naive: $(check "$work/naive.db")"
