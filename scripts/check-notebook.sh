#!/usr/bin/env bash
# Execute notebooks/adoption.ipynb against a fresh history of surveys; fail if any cell fails.
#
#   scripts/check-notebook.sh [--domains N] [--surveys S] [--epoch-step K] [--keep DIR]
#
# 1. checks the committed notebook has its outputs cleared,
# 2. inside scripts/sandbox.sh (loopback only): starts `mxscan testbed serve` (realistic
#    world, seed 7) and runs `mxscan scan` of N domains (default 300) S times (default 3),
#    moving the served world K epochs on (default 6, about half a year) between two scans
#    with SIGUSR1 — one running testbed, so unchanged certificates stay the same leaf,
# 3. executes every cell (nbclient) with MXSCAN_SURVEYS pointing at those S surveys, also
#    inside the sandbox, so the notebook provably needs no network; the time series must
#    show S surveys, and the notebook's diff section must count every change class of the
#    last two surveys as `mxscan diff --json` does.
# Needs: the mxscan binary (built by scripts/test.sh; or set MXSCAN) and
# `pip install -r notebooks/requirements.txt`. The executed copy is left in the work
# directory (printed) when --keep DIR is given.
set -euo pipefail
cd "$(dirname "$0")/.."

domains=300 surveys=3 step=6 keep=
while [ "$#" -gt 0 ]; do
  case "$1" in
    --domains) domains=$2; shift 2 ;;
    --surveys) surveys=$2; shift 2 ;;
    --epoch-step) step=$2; shift 2 ;;
    --keep) keep=$2; shift 2 ;;
    *) echo "check-notebook: unknown option $1" >&2; exit 2 ;;
  esac
done

mxscan=${MXSCAN:-${CARGO_TARGET_DIR:-target}/debug/mxscan}
[ -x "$mxscan" ] || cargo build --locked -p mxscan
mxscan=$(cd "$(dirname "$mxscan")" && pwd)/$(basename "$mxscan")

python3 - <<'PY'
import nbformat, sys
nb = nbformat.read("notebooks/adoption.ipynb", as_version=4)
dirty = [i for i, c in enumerate(nb.cells)
         if c.cell_type == "code" and (c.outputs or c.execution_count is not None)]
if dirty:
    sys.exit(f"check-notebook: notebooks/adoption.ipynb is committed with outputs in cells {dirty}; "
             "clear them (jupyter nbconvert --clear-output --inplace notebooks/adoption.ipynb)")
PY

work=${keep:-$(mktemp -d)}
mkdir -p "$work"
[ -n "$keep" ] || trap 'rm -rf "$work"' EXIT

# The history: one testbed, S scans, K epochs apart (all inside one network namespace).
cat >"$work/history.sh" <<'SH'
set -euo pipefail
mxscan=$1 work=$2 domains=$3 surveys=$4 step=$5
seed=7
"$mxscan" testbed domains --count "$domains" --seed "$seed" --epoch $(( (surveys - 1) * step )) >"$work/list.csv"
"$mxscan" testbed serve --seed "$seed" --greet-delay 1 --ca-out "$work/ca.pem" \
  >"$work/serve.out" 2>"$work/serve.err" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true' EXIT
wait_for() {  # a line the testbed prints on its stdout
  for _ in $(seq 1 600); do
    grep -qF "$1" "$work/serve.out" && return 0
    kill -0 "$pid" 2>/dev/null || { echo "testbed exited" >&2; cat "$work/serve.err" >&2; return 1; }
    sleep 0.1
  done
  echo "testbed: no $1 in time" >&2; return 1
}
wait_for '"smtp_port"'
epoch=0
for s in $(seq 1 "$surveys"); do
  if [ "$s" -gt 1 ]; then
    for _ in $(seq 1 "$step"); do  # SIGUSR1: one epoch on, same CA
      epoch=$((epoch + 1))
      kill -USR1 "$pid"
      wait_for "{\"epoch\":$epoch}"
    done
  fi
  echo "scan $s of $surveys: epoch $epoch" >&2
  "$mxscan" scan --resolver 127.0.0.1:5300 --trust-anchor "$work/ca.pem" --allow 127.0.0.0/8 \
    --smtp-port 2525 --https-port 8443 --per-ip-interval 0 --per-prefix-interval 0 \
    --rate 100000 --dns-rate 20000 --greeting-timeout 5 --command-timeout 10 --tls-timeout 10 \
    --fetch-timeout 10 --dns-timeout 2 --concurrency 500 --progress none \
    --out "$work/surveys" "$work/list.csv" >/dev/null
done
SH
set +e
scripts/sandbox.sh bash "$work/history.sh" "$mxscan" "$work" "$domains" "$surveys" "$step" \
  >"$work/history.log" 2>&1
rc=$?
set -e
if [ "$rc" = 3 ]; then
  echo "check-notebook: SKIPPED (no network namespace here; the scans run only inside one)" >&2
  exit 0
elif [ "$rc" != 0 ]; then
  cat "$work/history.log" >&2
  echo "check-notebook: building the survey history failed ($rc)" >&2
  exit "$rc"
fi

export MXSCAN_SURVEYS="$work/surveys"
scripts/sandbox.sh python3 - "$work/adoption.executed.ipynb" "$surveys" "$mxscan" <<'PY'
import json
import os
import subprocess
import sys
from pathlib import Path
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

nb = nbformat.read("notebooks/adoption.ipynb", as_version=4)
client = NotebookClient(nb, timeout=600, kernel_name="python3",
                        resources={"metadata": {"path": "notebooks"}})
code_cells = sum(1 for c in nb.cells if c.cell_type == "code")
try:
    client.execute()
except CellExecutionError as e:
    nbformat.write(nb, sys.argv[1])
    print(str(e)[-3000:], file=sys.stderr)
    print(f"notebook: {code_cells} cells, 1 failed", file=sys.stderr)
    print("0 passed, 1 failed")
    sys.exit(1)
nbformat.write(nb, sys.argv[1])
errors = [c for c in nb.cells if c.cell_type == "code"
          and any(o.get("output_type") == "error" for o in c.outputs)]
images = sum(1 for c in nb.cells if c.cell_type == "code"
             for o in c.outputs if "image/png" in o.get("data", {}))
print(f"notebook: {code_cells} code cells executed (of {len(nb.cells)} cells), "
      f"{images} plots, {len(errors)} errors")
# The history: the first code cell says how many surveys it found, the time series one
# point per survey.
texts = ["".join(o.get("text", "")) for c in nb.cells if c.cell_type == "code" for o in c.outputs]
want = int(sys.argv[2])
history = any(f"{want} survey(s) under" in t for t in texts)
print(f"notebook: history of {want} surveys {'seen' if history else 'NOT seen'}")
# The notebook's diff section agrees with `mxscan diff` on the last two surveys, class by
# class (the store's order: started_at, then the shorter id).
root = Path(os.environ["MXSCAN_SURVEYS"])
dirs = []
for d in root.glob("survey=*"):
    m = json.loads((d / "survey.json").read_text())
    if m["status"] == "complete":
        dirs.append((m["started_at"], len(m["survey_id"]), m["survey_id"], d))
dirs.sort()
agree = True
if len(dirs) >= 2:
    (_, _, old_id, old_dir), (_, _, new_id, new_dir) = dirs[-2], dirs[-1]
    ran = subprocess.run([sys.argv[3], "diff", "--json", str(old_dir), str(new_dir)],
                         capture_output=True, text=True, check=True)
    want_counts = {k: v["count"] for k, v in json.loads(ran.stdout)["changes"].items()}
    line = next((l for t in texts for l in t.splitlines()
                 if l.startswith(f"changes {old_id} -> {new_id}: ")), None)
    got_counts = {} if line is None else {
        k: int(v) for k, v in (kv.split("=") for kv in line.split(": ", 1)[1].split(", "))}
    agree = got_counts == want_counts
    print(f"notebook: diff section {'agrees' if agree else 'DISAGREES'} with mxscan diff "
          f"({old_id} -> {new_id}: {sum(want_counts.values())} changes)")
    if not agree:
        print(f"  notebook: {got_counts}\n  mxscan:   {want_counts}", file=sys.stderr)
if errors or images < 4 or not history or not agree:
    print("0 passed, 1 failed")
    sys.exit(1)
print("1 passed, 0 failed")
PY
[ -n "$keep" ] && echo "check-notebook: executed notebook in $work/adoption.executed.ipynb" >&2
exit 0
