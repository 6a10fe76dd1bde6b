#!/usr/bin/env bash
# The main job on a fresh machine with the Rust toolchain: install the `musicrec` binary (the
# trained default model is built into it), then scan a folder of music and print five songs like
# five of its songs with both of the paper's methods (`musicrec quickstart`).
# Any folder of music works; in the team's checkouts ../shared/data/gtzan-mini.
# Usage: scripts/quickstart.sh [MUSIC_DIR] [quickstart options, e.g. --db quick.db --random-seed 7]
# Environment: MUSICREC_INSTALL_ROOT (default: cargo's, ~/.cargo) is where the binary goes.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
music=${1:-$repo/../shared/data/gtzan-mini}
shift $(( $# > 0 ? 1 : 0 ))

# Two system pieces: cmake builds libopus (the Opus decoder) from source, and the resampler links
# the system libsoxr (librosa's resampler, found through pkg-config). Everything else is Rust.
missing=()
command -v cmake >/dev/null || missing+=(cmake)
command -v pkg-config >/dev/null || missing+=(pkg-config)
pkg-config --exists soxr 2>/dev/null || missing+=(libsoxr-dev)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "== installing ${missing[*]} (Debian packages needed to build musicrec)"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "musicrec needs ${missing[*]} to build: install them (e.g. sudo apt-get install cmake pkg-config libsoxr-dev) and rerun" >&2
    exit 1
  fi
fi

echo "== installing musicrec (release build; the first one takes several minutes)"
# The workspace's own target folder, so a later `cargo build --release` reuses this build.
target_dir=$(cargo metadata --format-version 1 --no-deps --manifest-path "$repo/Cargo.toml" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
root=()
[ -n "${MUSICREC_INSTALL_ROOT:-}" ] && root=(--root "$MUSICREC_INSTALL_ROOT")
cargo install --locked --path "$repo/crates/cli" --target-dir "$target_dir" "${root[@]}"
bin_dir=${MUSICREC_INSTALL_ROOT:-${CARGO_HOME:-$HOME/.cargo}}/bin

echo "== musicrec quickstart $music $*"
"$bin_dir/musicrec" quickstart "$music" "$@"
