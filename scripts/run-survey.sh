#!/usr/bin/env bash
# One periodic survey run: get the domain list, scan it with the operator's config, write the
# summary, keep the last K surveys. Meant for a systemd timer or cron (docs/guide.md,
# "Running surveys periodically"); safe to run by hand.
#
#   scripts/run-survey.sh --config /etc/mxscan/mxscan.toml [options] [-- extra scan flags]
#
# Options:
#   --config FILE   mxscan config (TOML, see docs/mxscan.example.toml); flags after `--` win.
#   --list FILE     scan this local list instead of downloading one (no network needed for
#                   the list; the scan itself still needs the network it is configured for).
#   --lists-dir DIR where downloaded lists go (default: <out>/../lists or ./lists).
#   --top N         download only the top N of the list (default: all).
#   --out ROOT      surveys root (default: the config's `out`, else ./surveys).
#   --keep K        keep the K newest surveys under ROOT, delete older ones (default 12;
#                   0 keeps all). Only directories named survey=* are ever deleted, and only
#                   after this run's scan finished.
#   --mxscan PATH   the mxscan binary (default: $MXSCAN, else `mxscan` on PATH).
#
# Exit status: that of the failing step (the scan's, the download's), 0 when all went well.
# Runs are serialised with a lock file under ROOT (flock), so a slow survey and the next
# timer tick never overlap.
set -euo pipefail

config= list= lists_dir= top= out= keep=12
mxscan=${MXSCAN:-mxscan}
extra=()
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
while [ "$#" -gt 0 ]; do
  case "$1" in
    --config) config=$2; shift 2 ;;
    --list) list=$2; shift 2 ;;
    --lists-dir) lists_dir=$2; shift 2 ;;
    --top) top=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --keep) keep=$2; shift 2 ;;
    --mxscan) mxscan=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    --) shift; extra=("$@"); break ;;
    *) echo "run-survey: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
case "$keep" in ''|*[!0-9]*) echo "run-survey: --keep needs a number" >&2; exit 2 ;; esac
log() { printf '%s run-survey: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }

# The surveys root: --out, else the config's `out` (resolved by mxscan itself), else ./surveys.
out_flag=()
if [ -n "$out" ]; then
  out_flag=(--out "$out")
  root=$out
elif [ -n "$config" ] && grep -Eq '^[[:space:]]*out[[:space:]]*=' "$config"; then
  # The config's top-level `out` (relative to the config's directory, as mxscan reads it).
  root=$(sed -n 's/^[[:space:]]*out[[:space:]]*=[[:space:]]*["'"'"']\([^"'"'"']*\)["'"'"'].*/\1/p' "$config" | head -n 1)
  case "$root" in
    '') ;;  # not a plain string: known after the scan, from the survey path it prints
    /*) ;;
    *) root=$(cd "$(dirname "$config")" && pwd)/$root ;;
  esac
else
  out_flag=(--out surveys)
  root=surveys
fi
config_flag=()
[ -n "$config" ] && config_flag=(--config "$config")

if [ -n "$root" ]; then mkdir -p "$root"; lock=$root/.run-survey.lock; else lock=${TMPDIR:-/tmp}/mxscan-run-survey.lock; fi
exec 9>"$lock"
if command -v flock >/dev/null && ! flock -n 9; then
  log "another run holds $lock; not starting"
  exit 75
fi

# 1. The list.
if [ -z "$list" ]; then
  lists_dir=${lists_dir:-${root:+$root/../lists}}
  lists_dir=${lists_dir:-lists}
  log "fetching today's top list into $lists_dir"
  top_flag=()
  [ -n "$top" ] && top_flag=(--top "$top")
  list=$("$(dirname "$0")/fetch-toplist.sh" --out "$lists_dir" "${top_flag[@]}")
fi
[ -r "$list" ] || { echo "run-survey: cannot read list $list" >&2; exit 2; }
log "scanning $list"

# 2. The scan (status lines, not bars: this runs under a timer).
scan_out=$(mktemp)
trap 'rm -f "$scan_out"' EXIT
set +e
"$mxscan" scan "${config_flag[@]}" "${out_flag[@]}" --progress lines "${extra[@]}" "$list" >"$scan_out"
rc=$?
set -e
survey=$(tail -n 1 "$scan_out")
if [ "$rc" != 0 ] || [ ! -d "$survey" ]; then
  log "scan failed (status $rc); nothing pruned"
  exit "$rc"
fi
root=${root:-$(dirname "$survey")}
log "survey $survey complete"

# 3. The summary, next to the data.
if "$mxscan" summary --help >/dev/null 2>&1; then
  "$mxscan" summary "$survey" >"$survey/summary.txt" 2>/dev/null || log "summary failed (survey kept)"
  [ -s "$survey/summary.txt" ] && cat "$survey/summary.txt"
fi

# 4. Keep the newest K surveys, by survey.json's started_at (ids of one second or minute tie
#    there: then the shorter id is the older — 2026-11-22T1000Z, …T100012Z, …T100012Z-2).
if [ "$keep" -gt 0 ]; then
  mapfile -t all < <(
    find "$root" -mindepth 1 -maxdepth 1 -type d -name 'survey=*' | while IFS= read -r d; do
      started=$(sed -n 's/.*"started_at": *"\([^"]*\)".*/\1/p' "$d/survey.json" 2>/dev/null | head -n 1 || true)
      name=${d##*/}
      printf '%s\t%04d\t%s\t%s\n' "${started:-0000}" "${#name}" "$name" "$d"
    done | LC_ALL=C sort | cut -f 4-)
  excess=$(( ${#all[@]} - keep ))
  for (( i = 0; i < excess; i++ )); do
    log "pruning ${all[$i]}"
    rm -rf -- "${all[$i]}"
  done
fi
echo "$survey"
