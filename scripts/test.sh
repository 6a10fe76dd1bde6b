#!/usr/bin/env bash
# The project's test command (README.md): every crate's unit and integration tests.
# Tests that read real music expect ../shared/data beside the repository (see its README).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace --locked "$@"
