#!/usr/bin/env bash
# Clinical data at scale (scripts/bench-all section 6): read latency and
# throughput with BENCH_SCALE_PATIENTS patients and BENCH_SCALE_RESOURCES
# resources loaded (default 100,000 / 10,000,000).
#   bench/clinical_scale_bench.sh [BUILD_DIR]
# Environment:
#   BENCH_SCALE_RESOURCES  resources to load (default 10000000)
#   BENCH_SCALE_PATIENTS   patients (default: resources / 100)
#   BENCH_SCALE_DIR        data dir, kept between runs so that the load is done
#                          once (default /var/tmp/tsunagu-scale-<patients>-<resources>)
#   BENCH_SCALE_SECONDS    seconds per wrk measurement (default 15)
#   BENCH_SCALE_THREADS    the server's worker threads (default 2)
#   BENCH_SCALE_LOAD       0: do not load (or resume loading); measure the
#                          data dir as it stands
#   BENCH_SCALE_DB         sqlite (default) or postgres: then BENCH_SCALE_PG_URL
#                          names a running PostgreSQL server (e.g. one started
#                          with scripts/pg-cluster) that keeps the loaded data
#                          between runs; the data dir defaults to
#                          /var/tmp/tsunagu-scale-pg-<patients>-<resources>
# Measures, with wrk (-t2 -c32, random patient / code / id per request, Lua
# script bench/clinical_scale.lua) against `tsunagu serve --threads 2`
# (BENCH_SCALE_THREADS):
#  1. GET /api/v1/patients/:rid/timeline?limit=50 (the web app's first page),
#     as the clinic's physician (session cookie); target p99 < 20 ms
#  2. FHIR GET /fhir/Observation?patient=<rid>&code=<system>|<code> as the
#     clinic's system client (bearer token); target p99 < 30 ms
#  3. FHIR GET /fhir/Observation/<id> vs nginx serving a static file of the
#     same size, in the same run; target >= 60 % of nginx's requests/s
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
BUILD=${1:-build-bench}
BIN=$REPO/$BUILD/tsunagu
LOADER=$REPO/$BUILD/bench/clinical_scale_load
RESOURCES=${BENCH_SCALE_RESOURCES:-10000000}
PATIENTS=${BENCH_SCALE_PATIENTS:-$((RESOURCES / 100))}
DBKIND=${BENCH_SCALE_DB:-sqlite}
DBARGS=()
case $DBKIND in
  sqlite) DIR=${BENCH_SCALE_DIR:-/var/tmp/tsunagu-scale-$PATIENTS-$RESOURCES} ;;
  postgres)
    [[ -n ${BENCH_SCALE_PG_URL:-} ]] || {
      echo "BENCH_SCALE_DB=postgres needs BENCH_SCALE_PG_URL (a running server)" >&2; exit 1; }
    DBARGS=(--db "$BENCH_SCALE_PG_URL")
    DIR=${BENCH_SCALE_DIR:-/var/tmp/tsunagu-scale-pg-$PATIENTS-$RESOURCES} ;;
  *) echo "BENCH_SCALE_DB must be sqlite or postgres" >&2; exit 1 ;;
esac
DURATION=${BENCH_SCALE_SECONDS:-15}
THREADS=${BENCH_SCALE_THREADS:-2}
for f in "$BIN" "$LOADER"; do
  [[ -x $f ]] || { echo "missing $f: build the tsunagu and clinical_scale_load targets" >&2; exit 1; }
done
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
case "$DIR/" in
  "$REPO"/*) echo "BENCH_SCALE_DIR must be outside the repository ($DIR)" >&2; exit 1 ;;
esac

WORK=$(mktemp -d /tmp/tsunagu-scale.XXXXXX)
SERVER_PID=
cleanup() {
  [[ -n $SERVER_PID ]] && kill "$SERVER_PID" 2>/dev/null || true
  [[ -f $WORK/nginx.pid ]] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -r)"
echo "date: $(date -u +%FT%TZ)   load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "database: $DBKIND; data: $DIR ($PATIENTS patients, $RESOURCES resources); server threads: $THREADS"
echo "disk: $(df -h --output=avail "$DIR" | tail -1 | tr -d ' ') free on $(df --output=target "$DIR" | tail -1)"

# Load once; a finished load is reused, an interrupted one resumes.
# BENCH_SCALE_LOAD=0 measures the data dir as it stands (a partial load: only
# the patients whose data is complete are asked for).
if [[ ${BENCH_SCALE_LOAD:-1} != 0 ]]; then
  "$LOADER" --data "$DIR" --patients "$PATIENTS" --resources "$RESOURCES" "${DBARGS[@]}"
fi
state() { awk -v k="$1" '$1==k{print $2}' "$DIR/scale/state"; }
SCALE_CLINIC_CODE=$(state clinic_code)
SCALE_CLINIC_LOGIN=scale.dr.clinic   # created by the loader
SCALE_PASSWORD=tsunagu-demo-2026     # app::kDemoPassword
LOADED_PATIENTS=$(state patients_with_resources)
head -n "$LOADED_PATIENTS" "$DIR/scale/patients.txt" >"$WORK/patients.txt"
if [[ $DBKIND == postgres ]]; then
  DB_SIZE="$(psql "$BENCH_SCALE_PG_URL" -Atc \
    "SELECT pg_size_pretty(pg_database_size(current_database()))") (PostgreSQL)"
else
  DB_SIZE="$(numfmt --to=iec "$(du -cb "$DIR"/tsunagu.db* | awk 'END{print $1}')") ($DIR/tsunagu.db*)"
fi
echo "loaded: $(state resources_written) resources of $LOADED_PATIENTS patients" \
  "(of $(state patients) registered) in $(state load_seconds | cut -d. -f1) s;" \
  "database $DB_SIZE"

# The clinic's system client (registered once, with its own key pair).
if [[ ! -f $DIR/scale/client_id ]]; then
  openssl ecparam -name secp384r1 -genkey -noout -out "$DIR/scale/client-private.pem" 2>/dev/null
  openssl ec -in "$DIR/scale/client-private.pem" -pubout -out "$DIR/scale/client-public.pem" 2>/dev/null
  "$BIN" admin add-client --data "$DIR" "${DBARGS[@]}" --facility "$SCALE_CLINIC_CODE" \
    --name "負荷試験クリニック 電子カルテ" --public-key "$DIR/scale/client-public.pem" \
    --scope "system/*.read" >"$DIR/scale/client_id.tmp"
  mv "$DIR/scale/client_id.tmp" "$DIR/scale/client_id"
fi
CLIENT_ID=$(tr -d '[:space:]' <"$DIR/scale/client_id")
sort -u "$DIR/scale/observation_ids.txt" >"$WORK/observation_ids.txt"

PORT=$(free_port)
BASE=http://127.0.0.1:$PORT
"$BIN" serve --data "$DIR" "${DBARGS[@]}" --port "$PORT" --threads "$THREADS" --access-log=false >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 600); do curl -sf "$BASE/healthz" >/dev/null && break; sleep 0.1; done
curl -sf "$BASE/healthz" >/dev/null || { cat "$WORK/server.log" >&2; exit 1; }

curl -sf -c "$WORK/cookies" -H 'content-type: application/json' \
  -d "{\"login_id\":\"$SCALE_CLINIC_LOGIN\",\"password\":\"$SCALE_PASSWORD\"}" \
  "$BASE/api/v1/auth/login" >/dev/null
COOKIE=$(awk '$6=="tsunagu_session"{print $7}' "$WORK/cookies")
token() { node bench/scale_token.mjs "$BASE" "$CLIENT_ID" "$DIR/scale/client-private.pem"; }

# wrk -t2 -c32 with the Lua script; prints "rps p50 p99 non2xx".
measure() {
  local out
  out=$(wrk -t2 -c32 -d"${DURATION}s" --latency "$@")
  echo "$out" >>"$WORK/wrk.log"
  awk '/Requests\/sec/{rps=$2} / 50%/{p50=$2} / 99%/{p99=$2} /Non-2xx/{bad=$5}
       END{printf "%s %s %s %s\n", rps, p50, p99, bad+0}' <<<"$out"
}
report() {  # name rps p50 p99 non2xx target
  printf "   %-34s %10s req/s  p50 %8s  p99 %8s  non-2xx %s   (%s)\n" "$1" "$2" "$3" "$4" "$5" "$6"
}
to_ms() {  # wrk latency (850.00us, 12.3ms, 1.2s) -> ms
  python3 -c "import sys,re; v=sys.argv[1]; n=float(re.match(r'[0-9.]+',v).group());
print(n/1000 if v.endswith('us') else n*1000 if v.endswith('s') and not v.endswith('ms') else n)" "$1"
}
verdict() {  # value op limit
  python3 -c "import sys; v,l=float(sys.argv[1]),float(sys.argv[3]); ok=v<l if sys.argv[2]=='<' else v>=l; print('met' if ok else 'NOT met')" "$1" "$2" "$3"
}

# A warm-up pass over random patients, as a server that has been running.
wrk -t2 -c8 -d5s -H "Cookie: tsunagu_session=$COOKIE" -s bench/clinical_scale.lua "$BASE" \
  -- timeline "$WORK/patients.txt" >/dev/null

echo
echo "== 6.1 timeline first page (GET /api/v1/patients/:rid/timeline?limit=50, random patient)"
read -r RPS P50 P99 BAD < <(measure -H "Cookie: tsunagu_session=$COOKIE" -s bench/clinical_scale.lua \
  "$BASE" -- timeline "$WORK/patients.txt")
report "timeline" "$RPS" "$P50" "$P99" "$BAD" "p99 < 20 ms: $(verdict "$(to_ms "$P99")" '<' 20)"

echo
echo "== 6.2 FHIR Observation?patient=<rid>&code=<JLAC10> (random patient and code)"
TOKEN=$(token)
read -r RPS P50 P99 BAD < <(measure -H "Authorization: Bearer $TOKEN" -s bench/clinical_scale.lua \
  "$BASE" -- search "$WORK/patients.txt" "$DIR/scale/lab_codes.txt")
report "Observation search" "$RPS" "$P50" "$P99" "$BAD" "p99 < 30 ms: $(verdict "$(to_ms "$P99")" '<' 30)"

echo
echo "== 6.3 FHIR Observation/<id> (random of $(wc -l <"$WORK/observation_ids.txt") ids) vs nginx static file"
TOKEN=$(token)
SAMPLE=$(head -1 "$WORK/observation_ids.txt")
SIZE=$(curl -sf -H "Authorization: Bearer $TOKEN" "$BASE/fhir/Observation/$SAMPLE" | wc -c)
NPORT=$(free_port)
mkdir -p "$WORK/nginx/html" "$WORK/nginx/logs"
head -c "$SIZE" /dev/zero | tr '\0' 'x' >"$WORK/nginx/html/observation.json"
cat >"$WORK/nginx/nginx.conf" <<CONF
worker_processes 2;
pid $WORK/nginx.pid;
error_log $WORK/nginx/logs/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  default_type application/fhir+json;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$NPORT;
    root $WORK/nginx/html;
  }
}
CONF
nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx"
sleep 0.3
read -r NG_RPS NG_P50 NG_P99 _ < <(measure "http://127.0.0.1:$NPORT/observation.json")
read -r RPS P50 P99 BAD < <(measure -H "Authorization: Bearer $TOKEN" -s bench/clinical_scale.lua \
  "$BASE" -- read "$WORK/observation_ids.txt")
RATIO=$(python3 -c "print(f'{float(\"$RPS\")/float(\"$NG_RPS\")*100:.1f}')")
report "nginx static file (${SIZE} B)" "$NG_RPS" "$NG_P50" "$NG_P99" 0 "reference"
report "Observation read by id" "$RPS" "$P50" "$P99" "$BAD" \
  "${RATIO} % of nginx, >= 60 %: $(verdict "$RATIO" '>=' 60)"
echo
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
