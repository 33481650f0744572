#!/usr/bin/env bash
# The one test command (README.md and .ci/run both call it):
#   1. rustfmt check, 2. clippy with -D warnings, 3. build every test outside the sandbox
#   (this is where crates are fetched), 4. run the whole suite inside a network namespace where
#   only loopback exists (scripts/sandbox.sh), offline, 5. a short smoke run of every fuzz
#   target (scripts/fuzz.sh; needs a nightly toolchain, skipped loudly without one).
#
# Options: --quick  skip fmt/clippy (inner loop while developing)
# Environment: CARGO_TARGET_DIR is honoured; MXSCAN_TEST_ARGS is appended to `cargo test`;
# MXSCAN_FUZZ_SECONDS is the fuzz smoke time per target (default 20, 0 skips it).
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

# Every fuzz target of crates/fuzz for a short while (docs/fuzzing.md), so the fuzz crate
# builds and its targets' invariants hold on the seed corpus and a little beyond. The long
# runs are scripts/fuzz.sh's job. MXSCAN_FUZZ_SECONDS sets the time per target (0 skips).
fuzz_seconds=${MXSCAN_FUZZ_SECONDS:-20}
if [ "$quick" = 1 ] || [ "$fuzz_seconds" = 0 ]; then
  echo "SKIPPED fuzz smoke (--quick or MXSCAN_FUZZ_SECONDS=0)" >&2
elif ! cargo +nightly --version >/dev/null 2>&1; then
  echo "######## SKIPPED fuzz smoke: no nightly Rust toolchain (rustup toolchain install nightly) ########" >&2
else
  step "fuzz smoke: every target of crates/fuzz for ${fuzz_seconds} s (scripts/fuzz.sh)"
  fuzz_start=$(date +%s)
  # The fuzz build (nightly, AddressSanitizer, every dependency) is the slow part: keep it
  # outside the clone so the next clone on this machine reuses it.
  FUZZ_TARGET_DIR=${MXSCAN_FUZZ_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mxscan/fuzz-target} \
    scripts/fuzz.sh "$fuzz_seconds"
  echo "fuzz smoke took $(( $(date +%s) - fuzz_start )) s" >&2
fi

step "notebook: notebooks/adoption.ipynb against a history of testbed surveys (scripts/check-notebook.sh)"
if python3 -c 'import duckdb, matplotlib, nbclient, pandas' 2>/dev/null; then
  scripts/check-notebook.sh
elif [ "${CI:-}" = true ]; then
  echo "notebook requirements missing (pip install -r notebooks/requirements.txt)" >&2
  exit 1
else
  echo "SKIPPED notebook check: pip install -r notebooks/requirements.txt to run it" >&2
fi
