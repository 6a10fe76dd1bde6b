#!/usr/bin/env bash
# Memory of the server under a burst of searches (issue 17): builds a synthetic catalog of N
# tracks (default 10 000), starts the release server (the `serve` example: the code path and the
# allocator of `musicrec serve`) on a free loopback port, and sends REQUESTS searches
# (GET /api/tracks?q=Artist K, default 10 000) over CONCURRENCY connections (default 300) with
# the `load` example, which samples the server's resident memory and threads meanwhile.
# Prints VmRSS and Threads (from /proc/PID/status) before, at the peak during the run, just
# after, and after IDLE seconds idle (default 15). Bounded: the run stops after REQUESTS.
#
#   scripts/bench/server-memory.sh [N] [REQUESTS] [CONCURRENCY] [IDLE]
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-10000}
REQUESTS=${2:-10000}
CONCURRENCY=${3:-300}
IDLE=${4:-15}
PROFILE=${PROFILE:-release}

cargo build --profile "$PROFILE" -p musicrec-server --example bench_catalog --example serve --example load
DIR=$([ "$PROFILE" = dev ] && echo debug || echo "$PROFILE")
BIN="${CARGO_TARGET_DIR:-target}/$DIR/examples"
WORK=$(mktemp -d)
SERVER_PID=
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

mem() { awk '/^VmRSS:/ {rss = $2 / 1024} /^Threads:/ {t = $2} END {printf "%.1f MiB resident, %d threads", rss, t}' "/proc/$SERVER_PID/status"; }

echo "catalog: $("$BIN/bench_catalog" "$WORK/bench.db" "$N" 88)"
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$BIN/serve" "$WORK/bench.db" "127.0.0.1:$PORT" 2>"$WORK/serve.log" &
SERVER_PID=$!
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$PORT/api/health" >/dev/null && break
  sleep 0.2
done
curl -sf "http://127.0.0.1:$PORT/api/tracks?q=Artist%201" >/dev/null
echo "$(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "before:      $(mem)"
"$BIN/load" "http://127.0.0.1:$PORT" "$SERVER_PID" "$REQUESTS" "$CONCURRENCY"
echo "just after:  $(mem)"
sleep "$IDLE"
echo "idle ${IDLE} s: $(mem)"
curl -sf "http://127.0.0.1:$PORT/api/health" >/dev/null && echo "still answering"
