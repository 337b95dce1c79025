#!/usr/bin/env bash
# SS-MIX2 import throughput: generates a synthetic storage tree (1,000,000
# messages by default), imports it with `tsunagu import ss-mix2` into SQLite
# and into a throw-away PostgreSQL cluster (scripts/pg-cluster), and reports
# messages/s and peak RSS (/usr/bin/time -v). Targets: >= 20,000 msg/s on
# SQLite, >= 10,000 msg/s on PostgreSQL, peak RSS < 300 MB.
#   bench/ssmix2_import_bench.sh [BUILD_DIR]
#   MESSAGES=100000 PATIENTS=2000 bench/ssmix2_import_bench.sh build-bench
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build-bench}
BIN=$PWD/$BUILD/tsunagu
GEN=$PWD/$BUILD/ssmix2_gen
MESSAGES=${MESSAGES:-1000000}
PATIENTS=${PATIENTS:-$((MESSAGES / 50))}
# The demo network's first hospital (県北中央病院) is the source facility.
FACILITY=${FACILITY:-0711101373}
WORK=$(mktemp -d /tmp/tsunagu-ssmix2-bench.XXXXXX)
# Its own directory: initdb runs as the postgres user, who cannot enter $WORK (0700).
PG_DIR=$(mktemp -d /tmp/tsunagu-pg-bench.XXXXXX)
cleanup() {
  scripts/pg-cluster stop "$PG_DIR" || true
  rm -rf "$WORK"
}
trap cleanup EXIT

for tool in "$BIN" "$GEN" /usr/bin/time; do
  [[ -x $tool ]] || { echo "missing $tool (build with: make bench, or ninja tsunagu ssmix2_gen)"; exit 1; }
done

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -r)"
echo "date: $(date -u +%FT%TZ)"
echo
echo "== generating $MESSAGES messages for $PATIENTS patients"
START=$(date +%s.%N)
"$GEN" --patients "$PATIENTS" --messages "$MESSAGES" --seed 42 --facility "$FACILITY" \
  --out "$WORK/tree" | head -1
FILES=$(find "$WORK/tree" -type f | wc -l)
echo "   $FILES files, $(du -sh "$WORK/tree" | cut -f1), $(python3 -c "print(f'{$(date +%s.%N)-$START:.1f}')") s"
# The tree goes to disk before the imports: an EHR's storage tree is written
# over days, and the kernel's write-back of gigabytes of fresh files would
# share the cores with the first import.
sync

seed_facility() {
  local data=$1; shift
  # Its log goes to a file: shown only when seeding fails.
  "$BIN" demo --data "$data" "$@" >"$WORK/seed.log" 2>&1 || { cat "$WORK/seed.log"; return 1; }
}

run_import() {
  local label=$1 data=$2; shift 2
  echo
  echo "== import into $label"
  /usr/bin/time -v "$BIN" import ss-mix2 --facility "$FACILITY" --data "$data" "$@" \
    "$WORK/tree" >"$WORK/$label.out" 2>"$WORK/$label.time" || {
    cat "$WORK/$label.out" "$WORK/$label.time"; return 1; }
  grep -E "files|messages|records|elapsed" "$WORK/$label.out" | sed 's/^/   /'
  local rss_kb secs
  rss_kb=$(awk -F: '/Maximum resident set size/{gsub(/ /,"",$2); print $2}' "$WORK/$label.time")
  secs=$(awk '/Elapsed \(wall clock\)/{print $NF}' "$WORK/$label.time")
  echo "   wall $secs, peak RSS $((rss_kb / 1024)) MB (target < 300 MB)"
  # CPU seconds of the importer itself: comparable between runs even when
  # other processes share the cores (wall-clock figures are not).
  awk -F: '/User time|System time/{s+=$2} /Percent of CPU/{p=$2}
    END {printf "   importer CPU %.1f s (user+sys), %s of one core on average\n", s, p}' \
    "$WORK/$label.time"
  grep -ho '"event":"ssmix2.import_timing".*' "$WORK/$label.out" "$WORK/$label.time" |
    sed 's/^/   /' || true
  echo "   re-run (nothing changed):"
  /usr/bin/time -v "$BIN" import ss-mix2 --facility "$FACILITY" --data "$data" "$@" \
    "$WORK/tree" 2>"$WORK/$label.rerun.time" | grep -E "imported|unchanged|elapsed" | sed 's/^/     /'
}

seed_facility "$WORK/sqlite"
run_import sqlite "$WORK/sqlite"

PG_URL=$(scripts/pg-cluster start "$PG_DIR")
seed_facility "$WORK/pgdata" --db "$PG_URL"
run_import postgresql "$WORK/pgdata" --db "$PG_URL"
