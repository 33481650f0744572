#!/usr/bin/env bash
# Runs every cargo-fuzz target of crates/fuzz (docs/fuzzing.md) for a while and reports.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET]        (default 60)
#
# Environment:
#   FUZZ_TARGETS="a b"    run only these targets (default: every target of crates/fuzz)
#   FUZZ_EXECS=N          stop each target after N executions (-runs=N) instead of, or as
#                         well as, the time limit (whichever comes first; give SECONDS=0 for
#                         executions only)
#   FUZZ_SANITIZER=s      address (default: memory errors in the C and unsafe code underneath,
#                         and -malloc_limit_mb works) or none (faster; RSS limit only)
#   FUZZ_JOBS=N           run N targets at a time (default 1; each uses one core)
#   FUZZ_NICE=N           nice level of the fuzzers (default 10)
#   FUZZ_WORK=dir         scratch directory (default crates/fuzz/work): per target a working
#                         corpus seeded from crates/fuzz/corpus/<target> (never written back),
#                         the merged dictionary, the log, and the crash artifacts
#
# Needs a nightly toolchain (`rustup toolchain install nightly`); installs cargo-fuzz with
# `cargo install cargo-fuzz --locked` if it is missing. Prints one line per target:
#   target=NAME execs=N execs_per_s=N cov=N ft=N corpus=N rss_mb=N seconds=N crashes=N
# and exits non-zero if any target crashed, timed out, ran out of memory or failed to run.
# A crash input is kept in FUZZ_WORK/<target>/artifacts/; reproduce it with
#   cargo +nightly fuzz run --fuzz-dir crates/fuzz <target> <file>
# and turn it into a regression test in the affected crate.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
fuzz_dir=$root/crates/fuzz

seconds=${1:-60}
sanitizer=${FUZZ_SANITIZER:-address}
jobs=${FUZZ_JOBS:-1}
nice_level=${FUZZ_NICE:-10}
work=${FUZZ_WORK:-$fuzz_dir/work}
# cargo-fuzz builds into crates/fuzz/target; a CARGO_TARGET_DIR meant for the stable build
# of the workspace must not redirect it.
unset CARGO_TARGET_DIR

say() { printf '==> %s\n' "$*" >&2; }

if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "fuzz.sh: no nightly toolchain (rustup toolchain install nightly)" >&2
  exit 2
fi
say "$(cargo +nightly --version)"
if ! cargo fuzz --version >/dev/null 2>&1; then
  say "installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

all_targets=$(cargo fuzz list --fuzz-dir "$fuzz_dir")
targets=${FUZZ_TARGETS:-$all_targets}
for t in $targets; do
  grep -qx "$t" <<<"$all_targets" || { echo "fuzz.sh: no target $t (have: $(echo $all_targets))" >&2; exit 2; }
done

# The dictionaries each target uses (crates/fuzz/dict/*.dict, concatenated).
dicts_for() {
  case $1 in
    smtp_reply|smtp_session) echo smtp ;;
    policy_body) echo policy ;;
    policy_response) echo "policy http domains" ;;
    http_response) echo http ;;
    aia) echo http ;;
    sts_txt|tlsrpt_txt) echo txt ;;
    mx_pattern|cert_names|ingest_line) echo domains ;;
    ingest_stream) echo domains ;;
    survey_manifest) echo json ;;
    toml_config) echo toml ;;
    tlsa) echo "" ;;
    *) echo "" ;;
  esac
}

say "building $(echo $targets | wc -w) targets (sanitizer: $sanitizer)"
build_start=$(date +%s)
if [ -z "${FUZZ_TARGETS:-}" ]; then
  nice -n "$nice_level" cargo +nightly fuzz build --fuzz-dir "$fuzz_dir" -s "$sanitizer" >&2
else
  for t in $targets; do
    nice -n "$nice_level" cargo +nightly fuzz build --fuzz-dir "$fuzz_dir" -s "$sanitizer" "$t" >&2
  done
fi
say "built in $(( $(date +%s) - build_start )) s"

run_one() {
  local t=$1 dir=$work/$1
  rm -rf "$dir"
  mkdir -p "$dir/corpus" "$dir/artifacts"
  if [ -d "$fuzz_dir/corpus/$t" ]; then
    cp -r "$fuzz_dir/corpus/$t/." "$dir/corpus/"
  fi
  local dict_args=()
  local d dicts
  dicts=$(dicts_for "$t")
  if [ -n "$dicts" ]; then
    : >"$dir/dict"
    for d in $dicts; do cat "$fuzz_dir/dict/$d.dict" >>"$dir/dict"; done
    dict_args=(-dict="$dir/dict")
  fi
  local limits=(-rss_limit_mb=2048 -timeout=10 -print_final_stats=1 -artifact_prefix="$dir/artifacts/")
  [ "$sanitizer" = address ] && limits+=(-malloc_limit_mb=512)
  [ "$seconds" != 0 ] && limits+=(-max_total_time="$seconds")
  [ -n "${FUZZ_EXECS:-}" ] && limits+=(-runs="$FUZZ_EXECS")
  local start rc=0
  start=$(date +%s)
  nice -n "$nice_level" cargo +nightly fuzz run --fuzz-dir "$fuzz_dir" -s "$sanitizer" "$t" \
    "$dir/corpus" -- "${limits[@]}" "${dict_args[@]}" >"$dir/log" 2>&1 || rc=$?
  local secs=$(( $(date +%s) - start ))
  local log=$dir/log
  local execs eps cov ft corp rss crashes status
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -1)
  local last
  last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$last")
  crashes=$(find "$dir/artifacts" -type f | wc -l)
  status=ok
  if [ "$crashes" != 0 ]; then
    status=crash
  elif [ "$rc" != 0 ] || [ -z "$execs" ]; then
    status=failed
    crashes=1
  fi
  printf 'target=%s execs=%s execs_per_s=%s cov=%s ft=%s corpus=%s rss_mb=%s seconds=%s crashes=%s status=%s\n' \
    "$t" "${execs:-0}" "${eps:-0}" "${cov:-0}" "${ft:-0}" "${corp:-0}" "${rss:-0}" "$secs" "$crashes" "$status"
  if [ "$status" != ok ]; then
    echo "  log: $log" >&2
    grep -E 'panicked at|ERROR: libFuzzer|SUMMARY|Test unit written|==ERROR' "$log" | head -8 | sed 's/^/  /' >&2
    return 1
  fi
}

failed=0
if [ "$jobs" -le 1 ]; then
  for t in $targets; do run_one "$t" || failed=1; done
else
  # N at a time; lines come out as targets finish.
  pids=()
  for t in $targets; do
    run_one "$t" & pids+=($!)
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || failed=1; done
  done
  while [ "$(jobs -rp | wc -l)" -gt 0 ]; do wait -n || failed=1; done
fi
if [ "$failed" != 0 ]; then
  say "FUZZING FOUND PROBLEMS (see the lines above)"
  exit 1
fi
say "no crash, timeout or out-of-memory in $(echo $targets | wc -w) targets"
