#!/usr/bin/env bash
# Download a dated top-sites list as `rank,domain` CSV and print the file's path.
#
#   scripts/fetch-toplist.sh [--date YYYY-MM-DD] [--top N] [--out DIR]
#
# Source: the Tranco list (https://tranco-list.eu/), a research-oriented ranking that
# aggregates several providers over 30 days to resist manipulation (Le Pochat et al., NDSS
# 2019). Tranco lists have a permanent ID, so a survey can cite exactly which list it scanned:
# the file is named tranco-<ID>-<DATE>.csv and its sha256 ends up in survey.json. Tranco's
# terms: free for research use, cite the paper and the list ID.
#
# Without --date: the latest daily list. With --date: the list Tranco generated that day
# (looked up through its API).
#
# Alternatives (not automated here; see datasets/README.md for licences):
#   - Cisco Umbrella top 1M (DNS popularity; includes non-web names, i.e. good for mail):
#     http://s3-us-west-1.amazonaws.com/umbrella-static/top-1m.csv.zip  — free, no warranty.
#   - Majestic Million (backlink based): https://downloads.majestic.com/majestic_million.csv
#     — CC BY 3.0.
#   - Chrome UX Report (CrUX) top origins (BigQuery or the monthly CSV of
#     github.com/zakird/crux-top-lists) — origins, not domains: strip scheme and port first;
#     CC BY 4.0.
# Any of them works as mxscan input: mxscan reads plain lists, CSV with a `domain` column and
# `rank,domain`.
#
# Needs curl and unzip (or python3). Never run by the tests (they use local lists).
set -euo pipefail

date= top= out=.
base=${TRANCO_BASE_URL:-https://tranco-list.eu}
while [ "$#" -gt 0 ]; do
  case "$1" in
    --date) date=$2; shift 2 ;;
    --top) top=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "fetch-toplist: unknown option $1" >&2; exit 2 ;;
  esac
done
case "$top" in ''|*[!0-9]*) [ -z "$top" ] || { echo "fetch-toplist: --top needs a number" >&2; exit 2; } ;; esac

mkdir -p "$out"
curl_() { curl --fail --silent --show-error --location --retry 3 --max-time 600 "$@"; }

if [ -n "$date" ]; then
  # {"list_id": "ABCDE", "available": true, "download": "https://tranco-list.eu/download/ABCDE/1000000", ...}
  meta=$(curl_ "$base/api/lists/date/$date")
  id=$(printf '%s' "$meta" | python3 -c 'import json,sys; print(json.load(sys.stdin)["list_id"])')
  url="$base/download/$id/1000000"
  zipped=0
else
  id=$(curl_ "$base/top-1m-id")
  date=$(date -u +%F)
  url="$base/top-1m.csv.zip"
  zipped=1
fi
case "$id" in ''|*[!A-Za-z0-9]*) echo "fetch-toplist: unexpected list id '$id'" >&2; exit 1 ;; esac

dest="$out/tranco-$id-$date.csv"
tmp=$(mktemp "$out/.download.XXXXXX")
trap 'rm -f "$tmp" "$tmp.zip"' EXIT
echo "fetch-toplist: Tranco list $id ($date) from $url" >&2
if [ "$zipped" = 1 ]; then
  curl_ -o "$tmp.zip" "$url"
  if command -v unzip >/dev/null; then
    unzip -p "$tmp.zip" > "$tmp"
  else
    python3 -c 'import sys,zipfile; z=zipfile.ZipFile(sys.argv[1]); sys.stdout.buffer.write(z.read(z.namelist()[0]))' "$tmp.zip" > "$tmp"
  fi
else
  curl_ -o "$tmp" "$url"
fi
# Tranco CSVs have no header; mxscan wants `rank,domain` to know the rank column.
{
  echo "rank,domain"
  if [ -n "$top" ]; then head -n "$top" "$tmp"; else cat "$tmp"; fi
} | tr -d '\r' > "$dest"
lines=$(($(wc -l < "$dest") - 1))
[ "$lines" -gt 0 ] || { echo "fetch-toplist: empty list" >&2; exit 1; }
echo "fetch-toplist: $lines domains in $dest" >&2
echo "$dest"
