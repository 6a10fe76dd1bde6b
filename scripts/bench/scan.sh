#!/usr/bin/env bash
# Scan throughput of the musicrec binary with a model (MODEL, env: the default MusiCNN unless set,
# e.g. MODEL=cnn for the small built-in CNN): a cold scan of a music folder
# into a fresh catalog, reported as tracks per minute and as audio seconds per wall-clock second
# (x real time), from the durations the catalog stores. A second, incremental scan of the same
# folder shows the cost of a rescan where nothing changed.
# Usage: scripts/bench/scan.sh [MUSIC_DIR] [JOBS]
#   MUSIC_DIR defaults to ../shared/data; JOBS to all cores; MUSICREC (env) picks the binary
#   (default: the workspace's release build, built if missing).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
music=${1:-$repo/../shared/data}
jobs=${2:-$(nproc)}
if [ -z "${MUSICREC:-}" ]; then
  cargo build --release --locked --manifest-path "$repo/Cargo.toml" -p musicrec >&2
  target_dir=$(cargo metadata --format-version 1 --no-deps --manifest-path "$repo/Cargo.toml" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
  MUSICREC="$target_dir/release/musicrec"
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
db="$work/catalog.db"

timed() { # prints wall seconds of "$@" (stdout of the command goes to stderr)
  local start end
  start=$(date +%s.%N)
  "$@" >&2 || true # failed files (e.g. deliberately corrupt test files) do not stop the benchmark
  end=$(date +%s.%N)
  python3 -c "print(f'{$end - $start:.2f}')"
}

model=${MODEL:-musicnn}
cold=$(timed "$MUSICREC" scan "$music" --db "$db" --jobs "$jobs" --model "$model")
warm=$(timed "$MUSICREC" scan "$music" --db "$db" --jobs "$jobs" --model "$model")
python3 - "$db" "$cold" "$warm" "$jobs" "$music" "$model" <<'PY'
import sqlite3, sys
db, cold, warm, jobs, music = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5]
tracks, audio = sqlite3.connect(db).execute(
    "SELECT count(*), coalesce(sum(duration_secs), 0) FROM tracks WHERE duration_secs IS NOT NULL"
).fetchone()
print(f"scan of {music} with --model {sys.argv[6]} --jobs {jobs}: {tracks} tracks, {audio / 60:.1f} min of audio")
print(f"cold scan  {cold:7.2f} s  {tracks / cold * 60:7.1f} tracks/min  {audio / cold:6.1f}x real time")
print(f"rescan     {warm:7.2f} s  (nothing changed)")
PY
