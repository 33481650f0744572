#!/usr/bin/env bash
# Execute notebooks/adoption.ipynb against a fresh demo survey; fail if any cell fails.
#
#   scripts/check-notebook.sh [--domains N] [--keep DIR]
#
# 1. checks the committed notebook has its outputs cleared,
# 2. runs `mxscan demo --domains N` (default 300) inside scripts/sandbox.sh (loopback only),
# 3. executes every cell (nbclient) with MXSCAN_SURVEYS pointing at the demo's surveys, also
#    inside the sandbox, so the notebook provably needs no network.
# Needs: the mxscan binary (built by scripts/test.sh; or set MXSCAN) and
# `pip install -r notebooks/requirements.txt`. The executed copy is left in the work
# directory (printed) when --keep DIR is given.
set -euo pipefail
cd "$(dirname "$0")/.."

domains=300 keep=
while [ "$#" -gt 0 ]; do
  case "$1" in
    --domains) domains=$2; shift 2 ;;
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

set +e
scripts/sandbox.sh "$mxscan" demo --domains "$domains" --dir "$work/demo" --progress none >"$work/demo.log" 2>&1
rc=$?
set -e
if [ "$rc" = 3 ]; then
  echo "check-notebook: SKIPPED (no network namespace here; the demo scan runs only inside one)" >&2
  exit 0
elif [ "$rc" != 0 ]; then
  cat "$work/demo.log" >&2
  echo "check-notebook: mxscan demo failed ($rc)" >&2
  exit "$rc"
fi

export MXSCAN_SURVEYS="$work/demo/surveys"
scripts/sandbox.sh python3 - "$work/adoption.executed.ipynb" <<'PY'
import sys
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
if errors or images < 3:
    print("0 passed, 1 failed")
    sys.exit(1)
print("1 passed, 0 failed")
PY
[ -n "$keep" ] && echo "check-notebook: executed notebook in $work/adoption.executed.ipynb" >&2
exit 0
