#!/usr/bin/env bash
# The one test command (README.md and .ci/run both call it):
#   1. rustfmt check, 2. clippy with -D warnings, 3. build every test outside the sandbox
#   (this is where crates are fetched), 4. run the whole suite inside a network namespace where
#   only loopback exists (scripts/sandbox.sh), offline.
#
# Options: --quick  skip fmt/clippy (inner loop while developing)
# Environment: CARGO_TARGET_DIR is honoured; MXSCAN_TEST_ARGS is appended to `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
[ "${1:-}" = "--quick" ] && quick=1

step() { printf '\n==> %s\n' "$*"; }

if [ "$quick" = 0 ]; then
  step "cargo fmt --check"
  cargo fmt --all -- --check
  step "cargo clippy --all-targets -D warnings"
  cargo clippy --workspace --all-targets --locked -- -D warnings
fi

step "build tests (outside the sandbox: may fetch crates)"
cargo test --workspace --locked --no-run
cargo build --locked -p mxscan   # the binary the end-to-end tests drive

step "run tests inside the network sandbox (loopback only)"
set +e
scripts/sandbox.sh cargo test --workspace --locked --offline ${MXSCAN_TEST_ARGS:-} 2>&1
rc=$?
set -e
if [ "$rc" = 3 ]; then
  echo "no network namespace available: running the pure (offline) unit tests only" >&2
  cargo test --locked --offline -p mxscan-policy -p mxscan-smtp -p mxscan-ingest
  exit $?
fi
[ "$rc" = 0 ] || exit "$rc"

step "notebook: notebooks/adoption.ipynb against a history of testbed surveys (scripts/check-notebook.sh)"
if python3 -c 'import duckdb, matplotlib, nbclient, pandas' 2>/dev/null; then
  scripts/check-notebook.sh
elif [ "${CI:-}" = true ]; then
  echo "notebook requirements missing (pip install -r notebooks/requirements.txt)" >&2
  exit 1
else
  echo "SKIPPED notebook check: pip install -r notebooks/requirements.txt to run it" >&2
fi
