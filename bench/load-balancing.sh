#!/usr/bin/env bash
# Requests per second of 1 and 2 Bazaar instances behind nginx (docs/load_balancing.md), on a local stack.
#
#   bench/load-balancing.sh [SECONDS] [INSTANCE COUNTS...]     default: 15 s, 1 2
#
# Each run starts a fresh stack (scripts/stack up, 10,000 products), loads it with wrk for SECONDS through
# nginx, and prints one line per scenario: signed-in GETs (they skip nginx's micro-cache, so every request
# reaches an instance and the database) and anonymous GETs (served by the one-second micro-cache).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-15}
shift || true
counts=("${@:-1 2}")
# shellcheck disable=SC2206
counts=(${counts[*]})
command -v wrk >/dev/null || { echo "bench: needs wrk (apt-get install wrk)" >&2; exit 1; }
(cd "$ROOT" && npm run --silent build)

printf '%-10s %-22s %10s %10s %10s\n' instances scenario 'req/s' 'p50 ms' 'p99 ms'
for n in "${counts[@]}"; do
  export STACK_DIR
  STACK_DIR=$(mktemp -d /tmp/bazaar-bench-XXXXXX)
  trap '"$ROOT/scripts/stack" down >/dev/null 2>&1 || true' EXIT
  "$ROOT/scripts/stack" up --instances "$n" --seed "--products 10000" >/dev/null
  # shellcheck source=/dev/null
  . "$STACK_DIR/stack.env"
  token=$(cd "$ROOT" && node -e '
    import("./dist/platform/http/auth.js").then(({ createAccessTokens }) =>
      console.log(createAccessTokens(process.argv[1]).sign({ id: 1, role: "customer" })));' "$JWT_SECRET")
  for scenario in signed-in anonymous; do
    header=()
    [ "$scenario" = signed-in ] && header=(-H "Authorization: Bearer $token")
    wrk -t2 -c32 -d3s "${header[@]}" "$NGINX_URL/api/products/?limit=20" >/dev/null  # warm-up
    out=$(wrk -t2 -c32 -d"${seconds}s" --latency "${header[@]}" "$NGINX_URL/api/products/?limit=20")
    rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
    p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
    p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
    errors=$(awk '/Non-2xx|Socket errors/' <<<"$out")
    printf '%-10s %-22s %10s %10s %10s %s\n' "$n" "$scenario" "$rps" "$p50" "$p99" "$errors"
  done
  "$ROOT/scripts/stack" down >/dev/null
  trap - EXIT
done
