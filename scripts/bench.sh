#!/usr/bin/env bash
# End-to-end throughput benchmark: the scanner against the simulated internet on this machine.
#
#   scripts/bench.sh [N]          N domains (default 100000)
#
# What it does (docs/performance.md has the method and the figures):
#   1. builds the release binary (`cargo build --release -p mxscan`);
#   2. re-runs itself inside scripts/sandbox.sh (a network namespace with only loopback);
#   3. starts `mxscan testbed serve --profile realistic --latency 50` (median RTT ≈ 50 ms per
#      host, log-normal tail capped at 1 s; greet-delay hosts greet after 6 s; tarpits never
#      greet), writes N synthetic domains of the same world (`mxscan testbed domains`);
#   4. scans them under /usr/bin/time -v (installed with apt-get when missing; otherwise the
#      scanner's /proc entry is polled) and measures the testbed's CPU over the scan from
#      /proc/PID/stat;
#   5. prints ONE final line on stdout:
#      domains=N wall_s=… domains_per_s=… probes=… probes_per_s=… dns_queries=…
#      peak_rss_mb=… cpu_pct=… cpu_s=… testbed_cpu_pct=… testbed_cpu_s=…
#      (cpu_pct: the scanner's CPU as a share of one core, as `time` reports it — 200% is
#      both cores of a 2-core machine; testbed_* the same for the testbed over the scan).
#
# Bench settings (why they are what they are):
#   * Politeness: per-address interval 1 s and per-/24 interval 0.1 s stay at their
#     defaults. The testbed's world spreads dedicated hosts over 244 × 65,536 addresses and
#     every address is probed once per survey, so the per-address limits never bind here
#     (a real survey is different: see docs/performance.md). The global limits are lifted
#     (--rate 20000 connections/s, --dns-rate 50000 queries/s, --dns-concurrency 1024)
#     because the point is to measure the scanner, not the politeness defaults.
#   * Deadlines: tarpit hosts (0.3 % of dedicated hosts) accept and never speak, so each
#     one costs the full greeting timeout; greet-delay hosts (1 %) greet after 6 s + RTT
#     (RTT capped at 1 s). --greeting-timeout 10 lets every greet-delay host through and
#     bounds a tarpit at 10 s. --command-timeout 10, --tls-timeout 10, --probe-timeout 30,
#     --fetch-timeout 10 (slowloris policy hosts cost the fetch timeout), --dns-timeout 2
#     with 2 attempts (the world's DNS-timeout domains cost ≈ 4 s). These bound the tail
#     of the run: the last domains in flight finish at most ≈ 10–30 s after they start.
#   * Connections in flight: --concurrency 2000 (domain tasks 4 × that), so latency-bound
#     waiting (Little's law: rate = in-flight / time per domain) is not the limit.
#
# Environment: BENCH_KEEP=1 keeps the work directory; BENCH_DIR=… chooses it;
# BENCH_SCAN_FLAGS="…" appends flags the bench does not set (e.g. --domain-concurrency);
# BENCH_RATE, BENCH_DNS_RATE, BENCH_DNS_CONCURRENCY, BENCH_CONCURRENCY replace the values above;
# BENCH_LATENCY=MS changes the testbed's median RTT (default 50); BENCH_SKIP_BUILD=1.
set -euo pipefail

N="${1:-100000}"
case "$N" in
  ''|*[!0-9]*) echo "usage: scripts/bench.sh [N]" >&2; exit 2 ;;
esac
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# The binary cargo just built (it honours CARGO_TARGET_DIR, relative to the repository root).
target_dir=${CARGO_TARGET_DIR:-target}
case $target_dir in /*) ;; *) target_dir=$ROOT/$target_dir ;; esac
BIN="${MXSCAN_BIN:-$target_dir/release/mxscan}"
LATENCY="${BENCH_LATENCY:-50}"

log() { echo "bench: $*" >&2; }

if [ "${1:-}" != "" ] && [ "${2:-}" = "--inner" ]; then
  INNER=1
else
  INNER=0
fi

if [ "$INNER" = 0 ]; then
  # ---- outside the sandbox: build, tools, then re-enter inside the namespace ----
  if [ "${BENCH_SKIP_BUILD:-}" != 1 ]; then
    log "building release (cargo build --release -p mxscan)"
    (cd "$ROOT" && cargo build --release -p mxscan >&2)
  fi
  if [ ! -x /usr/bin/time ]; then
    log "/usr/bin/time missing; trying apt-get install time"
    SUDO=""
    [ "$(id -u)" = 0 ] || SUDO="sudo -n"
    { $SUDO apt-get install -y -q time >&2 || { $SUDO apt-get update -q >&2 && $SUDO apt-get install -y -q time >&2; }; } \
      || log "could not install time; falling back to /proc polling"
  fi
  exec "$ROOT/scripts/sandbox.sh" "$0" "$N" --inner
fi

# ---- inside the sandbox ----
if [ "${MXSCAN_IN_SANDBOX:-}" != 1 ]; then
  echo "bench: --inner must run inside scripts/sandbox.sh" >&2
  exit 3
fi
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

WORK="${BENCH_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/mxscan-bench.XXXXXX")}"
mkdir -p "$WORK"
TB_PID=""
cleanup() {
  if [ -n "$TB_PID" ] && kill -0 "$TB_PID" 2>/dev/null; then
    kill -TERM "$TB_PID" 2>/dev/null || true
    wait "$TB_PID" 2>/dev/null || true
  fi
  if [ "${BENCH_KEEP:-}" = 1 ]; then
    log "work directory kept: $WORK"
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT

HZ="$(getconf CLK_TCK)"
# utime + stime of a process, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }

DNS_ADDR=127.0.0.1:5300
SMTP_PORT=2525
HTTPS_PORT=8443
log "starting the testbed (realistic, latency ${LATENCY} ms) in $WORK"
"$BIN" testbed serve --profile realistic --seed 1 --latency "$LATENCY" \
  --dns "$DNS_ADDR" --smtp-port "$SMTP_PORT" --https-port "$HTTPS_PORT" \
  --ca-out "$WORK/ca.pem" >"$WORK/testbed.ready" 2>"$WORK/testbed.log" &
TB_PID=$!
for _ in $(seq 1 200); do
  [ -s "$WORK/testbed.ready" ] && break
  kill -0 "$TB_PID" 2>/dev/null || { cat "$WORK/testbed.log" >&2; exit 1; }
  sleep 0.1
done
[ -s "$WORK/testbed.ready" ] || { log "testbed did not become ready"; exit 1; }

log "generating $N domains"
"$BIN" testbed domains --count "$N" --profile realistic --seed 1 >"$WORK/list.csv"

SCAN=(
  "$BIN" scan
  --resolver "$DNS_ADDR" --trust-anchor "$WORK/ca.pem" --allow 127.0.0.0/8
  --smtp-port "$SMTP_PORT" --https-port "$HTTPS_PORT"
  --rate "${BENCH_RATE:-20000}" --per-ip-interval 1 --per-prefix-interval 0.1
  --dns-rate "${BENCH_DNS_RATE:-50000}" --dns-concurrency "${BENCH_DNS_CONCURRENCY:-1024}"
  --dns-timeout 2 --dns-attempts 2
  --concurrency "${BENCH_CONCURRENCY:-2000}"
  --connect-timeout 5 --greeting-timeout 10 --command-timeout 10 --tls-timeout 10
  --probe-timeout 30 --fetch-timeout 10
  --progress lines --out "$WORK/surveys"
)
# shellcheck disable=SC2206
EXTRA=(${BENCH_SCAN_FLAGS:-})
SCAN+=("${EXTRA[@]}" "$WORK/list.csv")

log "scanning: ${SCAN[*]}"
tb0="$(cpu_ticks "$TB_PID")"
t0="$(date +%s.%N)"
if [ -x /usr/bin/time ]; then
  set +e
  /usr/bin/time -v -o "$WORK/time.txt" "${SCAN[@]}" >"$WORK/scan.out" 2>"$WORK/scan.err"
  rc=$?
  set -e
  t1="$(date +%s.%N)"
  rss_kb="$(awk -F': ' '/Maximum resident set size/ {print $2}' "$WORK/time.txt")"
  cpu_pct="$(awk -F': ' '/Percent of CPU this job got/ {gsub("%","",$2); print $2}' "$WORK/time.txt")"
  cpu_s="$(awk -F': ' '/User time/ {u=$2} /System time/ {s=$2} END {printf "%.1f", u+s}' "$WORK/time.txt")"
else
  # Fallback: poll the scanner's /proc entry (peak RSS from VmHWM, CPU from stat).
  "${SCAN[@]}" >"$WORK/scan.out" 2>"$WORK/scan.err" &
  pid=$!
  rss_kb=0
  ticks=0
  while kill -0 "$pid" 2>/dev/null; do
    hwm="$(awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)"
    [ -n "$hwm" ] && [ "$hwm" -gt "$rss_kb" ] && rss_kb="$hwm"
    t="$(cpu_ticks "$pid")"
    [ "$t" -gt "$ticks" ] && ticks="$t"
    sleep 0.2
  done
  set +e
  wait "$pid"
  rc=$?
  set -e
  t1="$(date +%s.%N)"
  cpu_s="$(awk -v t="$ticks" -v hz="$HZ" 'BEGIN {printf "%.1f", t / hz}')"
  cpu_pct="$(awk -v c="$cpu_s" -v a="$t0" -v b="$t1" 'BEGIN {printf "%.0f", 100 * c / (b - a)}')"
fi
tb1="$(cpu_ticks "$TB_PID")"
if [ "$rc" != 0 ]; then
  log "the scan failed (exit $rc):"
  tail -n 30 "$WORK/scan.err" >&2
  exit 1
fi
tail -n 3 "$WORK/scan.err" >&2

# The scanner's summary line: "complete DIR: D domains in … s (…/s), P probes (…), …, Q DNS queries, …"
summary="$(grep -E '^(complete|partial) ' "$WORK/scan.err" | tail -n 1)"
domains="$(sed -E 's/.*: ([0-9]+) domains in .*/\1/' <<<"$summary")"
probes="$(sed -E 's/.* ([0-9]+) probes \(.*/\1/' <<<"$summary")"
dns_queries="$(sed -E 's/.* ([0-9]+) DNS queries.*/\1/' <<<"$summary")"

awk -v n="$domains" -v a="$t0" -v b="$t1" -v p="$probes" -v q="$dns_queries" \
  -v rss="$rss_kb" -v cpu="$cpu_pct" -v cpus="$cpu_s" -v tb0="$tb0" -v tb1="$tb1" -v hz="$HZ" 'BEGIN {
  w = b - a; tb = (tb1 - tb0) / hz;
  printf "domains=%d wall_s=%.1f domains_per_s=%.0f probes=%d probes_per_s=%.0f dns_queries=%d peak_rss_mb=%.0f cpu_pct=%d cpu_s=%.1f testbed_cpu_pct=%.0f testbed_cpu_s=%.1f\n",
    n, w, n / w, p, p / w, q, rss / 1024, cpu, cpus, 100 * tb / w, tb
}'
