#!/usr/bin/env bash
# Care SNS at scale (scripts/bench-all section 7): 10,000 care groups x 500
# posts (5 million posts), 20 members each, on SQLite or PostgreSQL.
#   bench/care_scale_bench.sh [BUILD_DIR]
# Environment:
#   BENCH_CARE_DB       sqlite (default) or postgres (a throw-away cluster on
#                       127.0.0.1 is started, loaded and removed by this run,
#                       unless BENCH_CARE_PG_URL names a running server: then
#                       its load is kept, with the data dir BENCH_CARE_DIR)
#   BENCH_CARE_GROUPS   groups (default 10000); BENCH_CARE_POSTS posts per
#                       group (default 500)
#   BENCH_CARE_DIR      SQLite data dir, kept between runs so that the load is
#                       done once (default /var/tmp/tsunagu-care-<groups>-<posts>)
#   BENCH_CARE_SECONDS  seconds per wrk measurement (default 15)
#   BENCH_CARE_CLIENTS  WebSocket clients (default 1000)
#   BENCH_CARE_CONNECTIONS  wrk connections (default 16)
# Measures against `tsunagu serve --threads 2`, with wrk (-t2, 16 connections, a random
# logged-in member and one of their groups per request, bench/care_scale.lua):
#  1. group timeline, first page of 30 with read state; target p99 < 15 ms
#  2. free-word search within one group; target p99 < 20 ms
#  3. free-word search across all the user's groups (about 40); p99 < 200 ms
#  4. BENCH_CARE_CLIENTS WebSocket clients connected, a post to a group of 51
#     members fanned out to its 50 online members (bench/care_ws_fanout.mjs);
#     target p99 delivery < 100 ms; server RSS < 300 MB
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
BUILD=${1:-build-bench}
BIN=$REPO/$BUILD/tsunagu
LOADER=$REPO/$BUILD/bench/care_scale_load
DBKIND=${BENCH_CARE_DB:-sqlite}
NGROUPS=${BENCH_CARE_GROUPS:-10000}
NPOSTS=${BENCH_CARE_POSTS:-500}
DURATION=${BENCH_CARE_SECONDS:-15}
CLIENTS=${BENCH_CARE_CLIENTS:-1000}
CONNECTIONS=${BENCH_CARE_CONNECTIONS:-16}
for f in "$BIN" "$LOADER"; do
  [[ -x $f ]] || { echo "missing $f: build the tsunagu and care_scale_load targets" >&2; exit 1; }
done

WORK=$(mktemp -d /tmp/tsunagu-care-scale.XXXXXX)
chmod 755 "$WORK"  # the throw-away cluster below runs as the postgres user
SERVER_PID=
cleanup() {
  [[ -n $SERVER_PID ]] && kill "$SERVER_PID" 2>/dev/null || true
  [[ -d $WORK/pg ]] && scripts/pg-cluster stop "$WORK/pg" || true
  rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

DBARGS=()
if [[ $DBKIND == postgres && -n ${BENCH_CARE_PG_URL:-} ]]; then
  DBARGS=(--db "$BENCH_CARE_PG_URL")
  DIR=${BENCH_CARE_DIR:-/var/tmp/tsunagu-care-pg-$NGROUPS-$NPOSTS}
  mkdir -p "$DIR"
elif [[ $DBKIND == postgres ]]; then
  # shared_buffers as a production server has it (a quarter of the memory,
  # at most 4 GB), not the 128 MB default: the groups read stay in
  # PostgreSQL's own cache, as they do in SQLite's page cache.
  BUFFERS_MB=$(($(free -m | awk '/Mem:/{print $2}') / 4))
  ((BUFFERS_MB > 4096)) && BUFFERS_MB=4096
  URL=$(PG_CLUSTER_OPTS="-c shared_buffers=${BUFFERS_MB}MB" scripts/pg-cluster start "$WORK/pg")
  DBARGS=(--db "$URL")
  DIR=$WORK/data
  mkdir -p "$DIR"
else
  DIR=${BENCH_CARE_DIR:-/var/tmp/tsunagu-care-$NGROUPS-$NPOSTS}
  mkdir -p "$DIR"
  DIR=$(cd "$DIR" && pwd)
  case "$DIR/" in
    "$REPO"/*) echo "BENCH_CARE_DIR must be outside the repository ($DIR)" >&2; exit 1 ;;
  esac
fi

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -r)"
echo "date: $(date -u +%FT%TZ)   load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "database: $DBKIND; data: $DIR ($NGROUPS groups x $NPOSTS posts)"
"$LOADER" --data "$DIR" --groups "$NGROUPS" --posts "$NPOSTS" "${DBARGS[@]}"
# shellcheck disable=SC1091
source "$DIR/care-scale/network.env"
echo "loaded in $CARE_LOAD_SECONDS s"

PORT=$(free_port)
BASE=http://127.0.0.1:$PORT
"$BIN" serve --data "$DIR" "${DBARGS[@]}" --port "$PORT" --threads 2 --access-log=false \
  >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 600); do curl -sf "$BASE/healthz" >/dev/null && break; sleep 0.1; done
curl -sf "$BASE/healthz" >/dev/null || { cat "$WORK/server.log" >&2; exit 1; }

# 40 members log in; the pairs file gets "cookie group" for each of their groups.
awk '{print $1}' "$DIR/care-scale/pairs.txt" | sort -u | head -40 >"$WORK/logins.txt"
: >"$WORK/pairs.txt"
while read -r login; do
  cookie=$(curl -sf -D - -o /dev/null -H 'content-type: application/json' \
    -d "{\"login_id\":\"$login\",\"password\":\"$CARE_PASSWORD\"}" "$BASE/api/v1/auth/login" |
    sed -n 's/^[Ss]et-[Cc]ookie: tsunagu_session=\([^;]*\).*/\1/p')
  [[ -n $cookie ]] || { echo "login $login failed" >&2; exit 1; }
  awk -v l="$login" -v c="$cookie" '$1==l{print c, $2}' "$DIR/care-scale/pairs.txt" >>"$WORK/pairs.txt"
done <"$WORK/logins.txt"
printf '%s\n' "褥瘡" "デイサービス" "ショートステイ" "きざみ食" "服薬 確認" "転倒" "口腔ケア" \
  "ふらつき 見守り" >"$WORK/words.txt"
echo "members logged in: $(wc -l <"$WORK/logins.txt"), member/group pairs: $(wc -l <"$WORK/pairs.txt")"

measure() {  # prints "rps p50 p99 non2xx"
  local out
  out=$(wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency "$@")
  echo "$out" >>"$WORK/wrk.log"
  awk '/Requests\/sec/{rps=$2} / 50%/{p50=$2} / 99%/{p99=$2} /Non-2xx/{bad=$5}
       END{printf "%s %s %s %s\n", rps, p50, p99, bad+0}' <<<"$out"
}
report() {  # name rps p50 p99 non2xx target
  printf "   %-34s %10s req/s  p50 %8s  p99 %8s  non-2xx %s   (%s)\n" "$1" "$2" "$3" "$4" "$5" "$6"
}
to_ms() {
  python3 -c "import sys,re; v=sys.argv[1]; n=float(re.match(r'[0-9.]+',v).group());
print(n/1000 if v.endswith('us') else n*1000 if v.endswith('s') and not v.endswith('ms') else n)" "$1"
}
verdict() {
  python3 -c "import sys; v,l=float(sys.argv[1]),float(sys.argv[3]); ok=v<l if sys.argv[2]=='<' else v>=l; print('met' if ok else 'NOT met')" "$1" "$2" "$3"
}

# Warm-up, as a server that has been running (the search reads an index of
# its own, so it is warmed up too).
wrk -t2 -c8 -d5s -s bench/care_scale.lua "$BASE" -- timeline "$WORK/pairs.txt" >/dev/null
wrk -t2 -c8 -d3s -s bench/care_scale.lua "$BASE" -- group-search "$WORK/pairs.txt" \
  "$WORK/words.txt" >/dev/null

echo
echo "== 7.1 group timeline, first page of 30 with read state (random member and group)"
read -r RPS P50 P99 BAD < <(measure -s bench/care_scale.lua "$BASE" -- timeline "$WORK/pairs.txt")
report "timeline" "$RPS" "$P50" "$P99" "$BAD" "p99 < 15 ms: $(verdict "$(to_ms "$P99")" '<' 15)"

echo
echo "== 7.2 free-word search within one group (random member, group and words)"
read -r RPS P50 P99 BAD < <(measure -s bench/care_scale.lua "$BASE" -- group-search \
  "$WORK/pairs.txt" "$WORK/words.txt")
report "search in a group" "$RPS" "$P50" "$P99" "$BAD" "p99 < 20 ms: $(verdict "$(to_ms "$P99")" '<' 20)"

echo
echo "== 7.3 free-word search across all the member's groups"
read -r RPS P50 P99 BAD < <(measure -s bench/care_scale.lua "$BASE" -- all-search \
  "$WORK/pairs.txt" "$WORK/words.txt")
report "search across groups" "$RPS" "$P50" "$P99" "$BAD" "p99 < 200 ms: $(verdict "$(to_ms "$P99")" '<' 200)"

echo
echo "== 7.4 WebSocket fan-out: $CLIENTS clients, posts to group $CARE_FANOUT_GROUP (51 members)"
FANOUT=$(node bench/care_ws_fanout.mjs "$BASE" "$CARE_PASSWORD" "$CLIENTS" 100 \
  "$CARE_FANOUT_GROUP" "$CARE_FANOUT_AUTHOR")
RSS_KB=$(awk '/VmHWM/{print $2}' "/proc/$SERVER_PID/status")
echo "   $FANOUT"
P99=$(python3 -c "import json,sys; v=json.loads(sys.argv[1])['p99_ms']; print(1e9 if v is None else v)" "$FANOUT")
echo "   delivery p99 $P99 ms (p99 < 100 ms: $(verdict "$P99" '<' 100));" \
  "server peak RSS $((RSS_KB / 1024)) MB (< 300 MB: $(verdict "$((RSS_KB / 1024))" '<' 300))"
echo
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
