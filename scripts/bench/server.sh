#!/usr/bin/env bash
# Load benchmark of POST /api/recommend (issue 9): builds a catalog of N synthetic embeddings
# (default 100 000, dim 88 like the built-in model's embedding, 10 genres), starts the release server on a free local port and drives
# it with wrk (Debian package `wrk`) for DURATION seconds with CONNECTIONS connections, then prints
# requests/s and latency percentiles. Server and load generator share this machine's cores.
#
#   scripts/bench/server.sh [N] [DURATION] [CONNECTIONS] [WRK_THREADS] [DIM]
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-100000}
DURATION=${2:-20}
CONNECTIONS=${3:-16}
THREADS=${4:-1}
DIM=${5:-88}
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }

cargo build --release -p musicrec-server --example bench_catalog --example serve
BIN="${CARGO_TARGET_DIR:-target}/release/examples"
WORK=$(mktemp -d)
SERVER_PID=
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

INFO=$("$BIN/bench_catalog" "$WORK/bench.db" "$N" "$DIM")
echo "catalog: $INFO"
FIRST=$(echo "$INFO" | sed -E 's/.*ids ([0-9]+)\.\.=([0-9]+).*/\1/')
LAST=$(echo "$INFO" | sed -E 's/.*ids ([0-9]+)\.\.=([0-9]+).*/\2/')
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

"$BIN/serve" "$WORK/bench.db" "127.0.0.1:$PORT" &
SERVER_PID=$!
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$PORT/api/health" >/dev/null && break
  sleep 0.2
done
curl -sf "http://127.0.0.1:$PORT/api/health"; echo

# Warm up (first requests fault in the index pages), then measure.
MUSICREC_BENCH_FIRST=$FIRST MUSICREC_BENCH_LAST=$LAST \
  wrk -t1 -c4 -d3s -s scripts/bench/server-recommend.lua "http://127.0.0.1:$PORT" >/dev/null
echo "load: wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
MUSICREC_BENCH_FIRST=$FIRST MUSICREC_BENCH_LAST=$LAST \
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency \
  -s scripts/bench/server-recommend.lua "http://127.0.0.1:$PORT"
