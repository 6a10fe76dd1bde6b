#!/usr/bin/env bash
# The main job on a fresh machine, end to end, on any folder of music laid out one sub-folder per
# genre (GTZAN's layout; e.g. ../shared/data/gtzan-mini):
#   build musicrec -> manifest (screened, split 8:1:1) -> log-mel cache -> train a quick CRNN ->
#   predict the genres of a few test tracks -> scan the folder into a catalog -> recommend five
#   songs from five, with both of the paper's methods.
# Usage: scripts/quickstart.sh MUSIC_DIR [WORK_DIR]
# Environment: EPOCHS (default 8), WIDTH (layer width scale, default 0.5), JOBS (default all cores).
set -euo pipefail
music=${1:?usage: scripts/quickstart.sh MUSIC_DIR [WORK_DIR]}
work=${2:-musicrec-quickstart}
epochs=${EPOCHS:-8}
width=${WIDTH:-0.5}
jobs=${JOBS:-$(nproc)}
repo=$(cd "$(dirname "$0")/.." && pwd)

echo "== building musicrec (release; the first build takes several minutes)"
cargo build --release --locked --manifest-path "$repo/Cargo.toml" -p musicrec
target_dir=$(cargo metadata --format-version 1 --no-deps --manifest-path "$repo/Cargo.toml" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
musicrec="$target_dir/release/musicrec"
mkdir -p "$work"

echo "== manifest of $music (screened, stratified 8:1:1 split)"
"$musicrec" dataset folder "$music" --out "$work/data.csv" --jobs "$jobs"
"$musicrec" dataset stats "$work/data.csv"

echo "== log-mel cache (choi preset: 12 kHz, 96 mels)"
"$musicrec" dataset prepare "$work/data.csv" --cache "$work/cache" --preset choi --jobs "$jobs"

echo "== training a CRNN ($epochs epochs, width x$width; resumes if interrupted)"
if [ -f "$work/model/MODEL.md" ]; then
  echo "(already trained: $work/model; delete it to train again)"
else
  resume=()
  [ -d "$work/model/checkpoints" ] || [ -d "$work/model/checkpoint" ] && resume=(--resume)
  "$musicrec" train --data "$work/data.csv" --cache "$work/cache" --arch crnn --out "$work/model" \
    --epochs "$epochs" --width-scale "$width" "${resume[@]}"
fi

echo "== genre predictions for a few test tracks"
mapfile -t tests < <(python3 - "$work/data.csv" <<'PY'
import csv, os, sys
rows = [r for r in csv.DictReader(open(sys.argv[1])) if r.get("split") == "test"][:5]
for r in rows:
    p = r["path"]
    print(p if os.path.isabs(p) else os.path.join(os.path.dirname(sys.argv[1]), p))
PY
)
"$musicrec" predict --model "$work/model" "${tests[@]}"

echo "== scanning $music into the catalog $work/catalog.db (incremental: a rerun skips unchanged files)"
"$musicrec" scan "$music" --model "$work/model" --db "$work/catalog.db" --jobs "$jobs"
"$musicrec" stats --db "$work/catalog.db"

echo "== five songs like five test tracks: method 1 (similarity), then method 2 (similarity + genre)"
"$musicrec" recommend --db "$work/catalog.db" --model "$work/model" --method similarity --seed "${tests[@]}"
"$musicrec" recommend --db "$work/catalog.db" --model "$work/model" --method genre --seed "${tests[@]}"
echo "== done: model card at $work/model/MODEL.md; training curves in $work/model/*.png"
