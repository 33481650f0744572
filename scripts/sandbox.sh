#!/usr/bin/env bash
# Run a command inside a network namespace of its own, where only loopback exists.
#
# Every test, benchmark and demo check that scans goes through this wrapper (DESIGN.md,
# "The network sandbox"): the testbed publishes MX records that point at private addresses on
# purpose, and a scanner bug must never be able to send a packet off this machine.
#
#   scripts/sandbox.sh CMD ARGS...      run CMD with only `lo` (127.0.0.0/8, ::1) up
#
# Needs root (`unshare --net`) or unprivileged user namespaces (`unshare -rn`). Where neither
# works it exits 3 with a message, so callers can fall back to offline unit tests only.
set -euo pipefail

if [ "$#" -eq 0 ]; then
  echo "usage: scripts/sandbox.sh CMD [ARGS...]" >&2
  exit 2
fi

if [ "${MXSCAN_IN_SANDBOX:-}" = 1 ]; then
  exec "$@"   # already inside
fi

inner='ip link set lo up 2>/dev/null || { echo "sandbox: cannot bring up lo" >&2; exit 3; }
# Refuse to run if anything but loopback is up (the whole point of the sandbox).
if ip -o link show up 2>/dev/null | grep -v " lo:" | grep -q .; then
  echo "sandbox: a non-loopback interface is up; refusing" >&2; exit 3
fi
export MXSCAN_IN_SANDBOX=1
exec "$@"'

if [ "$(id -u)" = 0 ] && unshare --net true 2>/dev/null; then
  exec unshare --net sh -c "$inner" sandbox "$@"
elif unshare -rn true 2>/dev/null; then
  exec unshare -rn sh -c "$inner" sandbox "$@"
else
  echo "sandbox: neither 'unshare --net' (root) nor 'unshare -rn' (user namespaces) works here;" >&2
  echo "sandbox: refusing to run network tests outside a namespace" >&2
  exit 3
fi
