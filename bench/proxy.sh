#!/usr/bin/env bash
# Proxy benchmark: direct vs cutover vs nginx / haproxy / node-http-proxy /
# @fastify/http-proxy, on this machine, in one run.
#
#   bash bench/proxy.sh
#
# Knobs (environment):
#   DURATION=10          seconds per measured wrk run
#   WARMUP=3             seconds of discarded load before each measured run (0 = none)
#   START_WARMUP=10      seconds of discarded /small load right after a target starts (JIT:
#                        a fresh cutover needs ~10 s before its rate settles)
#   CONNECTIONS=50       connections for the throughput runs
#   LATENCY_CONNECTIONS=1  connections for the latency run
#   SCENARIOS=all        comma list of target ids (see TARGETS below), e.g. direct,nginx,cutover-legacy;
#                        `all` leaves out the TLS targets (*-tls), `tls` adds them all (e.g. SCENARIOS=all,tls)
#   LOADS=all            comma list of load ids (see LOADS_TABLE below)
#   ROUNDS=1             repeat the whole target sequence (interleaved) ...
#   AGGREGATE=quietest   ... and report, per cell, the round in which the rest of the machine
#                        used the least CPU (quietest), or the median of every number (median)
#   NICE=0               e.g. -10: run proxy, backends and wrk at a higher priority than other
#                        work on a shared machine (root only; slows everyone else down meanwhile;
#                        see docs/benchmarks.md before using it on a machine others are using)
#   PIN=1                1: proxy under test on PROXY_CPU, backend + wrk on LOAD_CPU (taskset); 0: no pinning
#   PROXY_CPU=0 LOAD_CPU=1
#   BACKEND_WORKERS=1    node:cluster workers per backend process
#   SLOW_DELAY_MS=10     delay of the "slow" candidate backend
#   BASE_PORT=18100      ports BASE+1..BASE+4 backends, BASE+80 proxy, BASE+90 cutover admin
#   QUIET_PCT=30         before each measured run, wait until the rest of the machine uses less
#   QUIET_WAIT=30          than QUIET_PCT % of a core, for at most QUIET_WAIT s (0 = don't wait)
#   BENCH_LOCK=/tmp/cutover-bench.lock  benchmarks on this machine take this flock so they
#   LOCK_WAIT=1800                       never measure at the same time (LOCK_WAIT s at most)
#   CUTOVER_REF=         a git revision: adds "<id>@ref" twins of the cutover targets running
#                        that revision's src/ (e.g. CUTOVER_REF=HEAD~1 to judge the last commit)
#   SKIP_INSTALL=0       1: do not install missing peers
#   RESULTS_DIR=bench/results
#
# Every process started here is stopped on exit. All load goes to 127.0.0.1.
#
# The whole script is one function called on the last line, so bash has read
# all of it before anything runs: editing this file while someone runs it is safe.
set -euo pipefail

main() {

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
NODE="$ROOT/node_modules/.bin/node"

DURATION=${DURATION:-10}
WARMUP=${WARMUP:-3}
START_WARMUP=${START_WARMUP:-10}
CONNECTIONS=${CONNECTIONS:-50}
LATENCY_CONNECTIONS=${LATENCY_CONNECTIONS:-1}
SCENARIOS=${SCENARIOS:-all}
LOADS=${LOADS:-all}
PIN=${PIN:-1}
PROXY_CPU=${PROXY_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
BACKEND_WORKERS=${BACKEND_WORKERS:-1}
SLOW_DELAY_MS=${SLOW_DELAY_MS:-10}
BASE_PORT=${BASE_PORT:-18100}
SKIP_INSTALL=${SKIP_INSTALL:-0}
RESULTS_DIR=${RESULTS_DIR:-$ROOT/bench/results}
START_TIMEOUT=${START_TIMEOUT:-20}
ROUNDS=${ROUNDS:-1}
AGGREGATE=${AGGREGATE:-quietest}
NICE=${NICE:-0}
CUTOVER_REF=${CUTOVER_REF:-}
QUIET_PCT=${QUIET_PCT:-30}
QUIET_WAIT=${QUIET_WAIT:-30}
BENCH_LOCK=${BENCH_LOCK:-/tmp/cutover-bench.lock}
LOCK_WAIT=${LOCK_WAIT:-1800}

# ---------------------------------------------------------------------------
# Scenario tables. Adding a scenario is one line here.
#
# TARGETS: id | label | kind | arg | candidate backend
#   kind direct   : wrk straight at the legacy backend
#   kind cutover  : arg "flags" = `run --legacy --candidate ...`; arg "<file>.yaml" =
#                   bench/configs/<file>.yaml with ${LISTEN} ${ADMIN} ${DATA_DIR}
#                   ${LEGACY_URL} ${CANDIDATE_URL} filled in, run with -c
#   kind nginx | haproxy | node-http-proxy | fastify-http-proxy : the peers
#   kind undici-floor : bench/peers/undici-floor.ts, the least a proxy on cutover's stack
#                       (node:http + undici dispatch) can do; what cutover costs above it is its own
#   for the node kinds (node-http-proxy, fastify-http-proxy, undici-floor), arg = extra node flags:
#   the floor gets the young-generation size `cutover run` gives itself (src/cli/runtime-flags.ts),
#   so it stays the floor; the "-semi16" fastify row shows what that flag does for a peer
#   candidate backend: normal | slow (SLOW_DELAY_MS) | hang (never answers)
# The young-generation flag `cutover run` gives itself, read from its source so the rows below follow it.
CUTOVER_NODE_FLAGS="--max-semi-space-size=$("$NODE" --input-type=module -e "import { DEFAULT_SEMI_SPACE_MB } from '$ROOT/src/cli/runtime-flags.ts'; console.log(DEFAULT_SEMI_SPACE_MB)")"
TARGETS=(
  "direct|direct (no proxy)|direct||normal"
  "cutover-legacy|cutover, legacy mode|cutover|flags|normal"
  "cutover-telemetry-off|cutover, legacy, telemetry off|cutover|telemetry-off.yaml|normal"
  "cutover-canary50|cutover, canary 50%|cutover|canary50.yaml|normal"
  "nginx|nginx (1 worker)|nginx||normal"
  "haproxy|haproxy (nbthread 1)|haproxy||normal"
  "node-http-proxy|node-http-proxy|node-http-proxy||normal"
  "fastify-http-proxy|@fastify/http-proxy|fastify-http-proxy||normal"
  "fastify-http-proxy-semi16|@fastify/http-proxy, $CUTOVER_NODE_FLAGS|fastify-http-proxy|$CUTOVER_NODE_FLAGS|normal"
  "undici-floor|floor: node:http + undici dispatch, nothing else|undici-floor|$CUTOVER_NODE_FLAGS|normal"
  # TLS on the client side (a self-signed P-256 certificate made for the run; the backend stays plain HTTP).
  "cutover-tls|cutover, legacy mode, TLS|cutover|tls.yaml|normal"
  "nginx-tls|nginx (1 worker), TLS|nginx|tls|normal"
  "haproxy-tls|haproxy (nbthread 1), TLS|haproxy|tls|normal"
)
# Later, for example:
#  "cutover-shadow-slow|cutover, shadow (candidate 10x slower)|cutover|shadow.yaml|slow"
#  "cutover-shadow-hang|cutover, shadow (candidate never answers)|cutover|shadow.yaml|hang"

# LOADS_TABLE: id | path | connections | backend core (with PIN=1)
#   load : backend shares LOAD_CPU with wrk, the proxy has PROXY_CPU to itself (throughput)
#   proxy: backend shares PROXY_CPU with the proxy, wrk has LOAD_CPU to itself (latency: a
#          request then crosses cores twice whether or not a proxy is in the path, so
#          "p99 - direct" is the proxy's own cost, not the cost of extra cross-core wake-ups)
LOADS_TABLE=(
  "small-c${CONNECTIONS}|/small|${CONNECTIONS}|load"
  "large-c${CONNECTIONS}|/large|${CONNECTIONS}|load"
  "small-c${LATENCY_CONNECTIONS}|/small|${LATENCY_CONNECTIONS}|proxy"
)

# ---------------------------------------------------------------------------
PORT_LEGACY=$((BASE_PORT + 1))
PORT_CANDIDATE=$((BASE_PORT + 2))
PORT_SLOW=$((BASE_PORT + 3))
PORT_HANG=$((BASE_PORT + 4))
PORT_PROXY=$((BASE_PORT + 80))
PORT_ADMIN=$((BASE_PORT + 90))

log() { printf '[bench] %s\n' "$*" >&2; }
die() { printf '[bench] error: %s\n' "$*" >&2; exit 1; }

selected() { # selected LIST ID
  [[ ",$1," == *",$2,"* ]] && return 0
  if [[ "$2" == *-tls ]]; then [[ ",$1," == *",tls,"* ]]; else [[ ",$1," == *",all,"* ]]; fi
}

# Command prefixes that pin a process to a core (empty when PIN=0).
# With NICE, also raise priority. Under autogroup scheduling (sched_autogroup_enabled,
# the default on most kernels) plain `nice` only ranks processes within one session,
# so each process gets its own session (start_bg, or setsid -w for wrk) and that
# session's autogroup gets the NICE value too.
PIN_PROXY=(); PIN_LOAD=(); FG=()
if [[ "$NICE" != 0 ]]; then
  PIN_PROXY=(bash -c 'echo "$0" >/proc/self/autogroup 2>/dev/null || true; exec nice -n "$0" "$@"' "$NICE")
  PIN_LOAD=("${PIN_PROXY[@]}")
  FG=(setsid -w)
fi
if [[ "$PIN" == 1 ]]; then PIN_PROXY+=(taskset -c "$PROXY_CPU"); PIN_LOAD+=(taskset -c "$LOAD_CPU"); fi

# --- processes --------------------------------------------------------------
TMP=$(mktemp -d /tmp/cutover-bench.XXXXXX)
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# One benchmark at a time on this machine: two load generators on 2 cores
# measure each other. bench/shadow.sh and friends can take the same lock.
exec 9>>"$BENCH_LOCK"
if ! flock -n 9; then
  log "another benchmark holds $BENCH_LOCK; waiting up to ${LOCK_WAIT}s"
  flock -w "$LOCK_WAIT" 9 || die "gave up waiting for $BENCH_LOCK"
fi

# start_bg NAME CMD...: runs CMD in its own process group, logs to $TMP/NAME.log; sets STARTED_PID
start_bg() {
  local name=$1; shift
  setsid "$@" >"$TMP/$name.log" 2>&1 < /dev/null &
  STARTED_PID=$!
  PIDS+=("$STARTED_PID")
}

stop_pid() {
  local pid=$1 i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# wait_ready URL PID TIMEOUT_S: 0 when URL answers 200, 1 on timeout or if PID died
wait_ready() {
  local url=$1 pid=$2 deadline=$((SECONDS + $3)) code
  while ((SECONDS < deadline)); do
    kill -0 "$pid" 2>/dev/null || return 1
    code=$(curl -sk -o /dev/null -w '%{http_code}' --max-time 1 "$url" || true)
    [[ "$code" == 200 ]] && return 0
    sleep 0.2
  done
  return 1
}

# Sum of user+system CPU ticks of PID and its descendants.
cpu_ticks() {
  local total=0 p stat rest fields kids
  local queue=("$@")
  while ((${#queue[@]})); do
    p=${queue[0]}; queue=("${queue[@]:1}")
    if stat=$(cat "/proc/$p/stat" 2>/dev/null); then
      rest=${stat##*) }
      read -r -a fields <<<"$rest"
      total=$((total + fields[11] + fields[12]))
    fi
    kids=$(pgrep -P "$p" 2>/dev/null || true)
    for k in $kids; do queue+=("$k"); done
  done
  echo "$total"
}
CLK_TCK=$(getconf CLK_TCK)

# Busy ticks of the whole machine (all cores), from /proc/stat. irq and softirq
# count too: the kernel charges them to whichever task was running, so they are
# inside the per-process numbers as well.
machine_busy_ticks() {
  local _cpu user nice system idle iowait irq softirq steal _rest
  read -r _cpu user nice system idle iowait irq softirq steal _rest </proc/stat
  echo $((user + nice + system + irq + softirq + steal))
}

# wait_quiet: with our processes idle, wait until the rest of the machine uses
# less than QUIET_PCT % of one core (1 s samples), for at most QUIET_WAIT s.
wait_quiet() {
  ((QUIET_WAIT > 0)) || return 0
  local deadline=$((SECONDS + QUIET_WAIT)) b0 b1 pct waited=0
  while :; do
    b0=$(machine_busy_ticks); sleep 1; b1=$(machine_busy_ticks)
    pct=$(( (b1 - b0) * 100 / CLK_TCK ))
    ((pct < QUIET_PCT)) && break
    if ((SECONDS >= deadline)); then log "machine still busy (${pct}% of a core used by others); measuring anyway"; break; fi
    ((waited == 0)) && log "machine busy (${pct}% of a core used by others); waiting up to ${QUIET_WAIT}s"
    waited=1
  done
}

# CPU milliseconds used so far by this shell's waited-for children (bash `times`,
# which must run in this shell, not a subshell). Sets CHILDREN_MS.
children_cpu_ms() {
  local _l1 user sys
  times >"$TMP/times"
  { read -r _l1; read -r user sys; } <"$TMP/times"
  CHILDREN_MS=$(awk -v u="${user%s}" -v s="${sys%s}" 'function ms(t,  m) { m = t; sub(/m.*/, "", m); sub(/^[0-9]+m/, "", t); return (m * 60 + t) * 1000 }
    BEGIN { printf "%d\n", ms(u) + ms(s) }')
}

# --- peers ------------------------------------------------------------------
PEERS_DIR="$ROOT/bench/.peers"
install_peers() {
  local missing=()
  command -v wrk >/dev/null || missing+=(wrk)
  command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || missing+=(nginx)
  command -v haproxy >/dev/null || [[ -x /usr/sbin/haproxy ]] || missing+=(haproxy)
  command -v taskset >/dev/null || missing+=(util-linux)
  if ((${#missing[@]})); then
    [[ "$SKIP_INSTALL" == 1 ]] && die "missing ${missing[*]} and SKIP_INSTALL=1"
    log "installing Debian packages: ${missing[*]}"
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
    # the nginx package starts a system nginx on :80; we only want the binary
    if [[ " ${missing[*]} " == *" nginx "* ]]; then
      systemctl stop nginx 2>/dev/null || service nginx stop 2>/dev/null || true
    fi
    if [[ " ${missing[*]} " == *" haproxy "* ]]; then
      systemctl stop haproxy 2>/dev/null || service haproxy stop 2>/dev/null || true
    fi
  fi
  SKIP_INSTALL="$SKIP_INSTALL" bash "$ROOT/bench/peers/install-npm-peers.sh" || die "could not install the npm peers"
}
export PATH="$PATH:/usr/sbin:/sbin"
install_peers

peer_version() { "$NODE" -p "require('$PEERS_DIR/node_modules/$1/package.json').version" 2>/dev/null || echo "?"; }

# --- backends ---------------------------------------------------------------
for p in "$PORT_LEGACY" "$PORT_CANDIDATE" "$PORT_SLOW" "$PORT_HANG" "$PORT_PROXY" "$PORT_ADMIN"; do
  port_busy "$p" && die "port $p on 127.0.0.1 is in use; set BASE_PORT to move the bench ports"
done

declare -gA BACKEND_PORT=([normal]=$PORT_CANDIDATE [slow]=$PORT_SLOW [hang]=$PORT_HANG)
declare -gA BACKEND_PID=()
start_backend() { # start_backend ROLE PORT EXTRA_ARGS...
  local role=$1 port=$2; shift 2
  start_bg "backend-$role" "${PIN_LOAD[@]}" "$NODE" bench/backend.ts --port "$port" --workers "$BACKEND_WORKERS" "$@"
  BACKEND_PID[$role]=$STARTED_PID
  local probe="http://127.0.0.1:$port/small"
  if [[ "$role" == candidate-hang ]]; then
    local deadline=$((SECONDS + 10))
    until port_busy "$port"; do ((SECONDS < deadline)) || die "backend $role did not start: $(cat "$TMP/backend-$role.log")"; sleep 0.2; done
  else
    wait_ready "$probe" "$STARTED_PID" 10 || die "backend $role did not start: $(cat "$TMP/backend-$role.log")"
  fi
}

# place_backends load|proxy: move every backend process (all threads, cluster
# workers too) to LOAD_CPU or PROXY_CPU; a no-op without pinning.
BACKENDS_ON=load
place_backends() {
  [[ "$PIN" == 1 && "$1" != "$BACKENDS_ON" ]] || return 0
  local cpu=$LOAD_CPU p k queue=()
  [[ "$1" == proxy ]] && cpu=$PROXY_CPU
  queue=("${BACKEND_PID[@]}")
  while ((${#queue[@]})); do
    p=${queue[0]}; queue=("${queue[@]:1}")
    taskset -a -p -c "$cpu" "$p" >/dev/null 2>&1 || true
    for k in $(pgrep -P "$p" 2>/dev/null || true); do queue+=("$k"); done
  done
  BACKENDS_ON=$1
}

# CUTOVER_REF=<git rev>: every cutover target gets a twin "<id>@ref" that runs
# the data plane as of that revision (git archive of src/ into the temp dir), so
# a change can be judged against its parent in the same run.
REF_DIR=""
if [[ -n "$CUTOVER_REF" ]]; then
  REF_DIR="$TMP/ref"
  mkdir -p "$REF_DIR"
  git archive "$CUTOVER_REF" src package.json | tar -x -C "$REF_DIR" || die "cannot export $CUTOVER_REF"
  ln -s "$ROOT/node_modules" "$REF_DIR/node_modules"
  ref_short=$(git rev-parse --short "$CUTOVER_REF")
  twins=()
  for row in "${TARGETS[@]}"; do
    IFS='|' read -r id label kind arg cand <<<"$row"
    [[ "$kind" == cutover ]] && twins+=("$id@ref|$label @ $ref_short|$kind|$arg|$cand")
  done
  TARGETS+=("${twins[@]}")
fi

# Which candidate backends do the selected targets need?
declare -gA NEED_CANDIDATE=()
SELECTED_TARGETS=()
for row in "${TARGETS[@]}"; do
  IFS='|' read -r id _ _ _ cand <<<"$row"
  selected "$SCENARIOS" "$id" || continue
  SELECTED_TARGETS+=("$row")
  NEED_CANDIDATE[$cand]=1
done
((${#SELECTED_TARGETS[@]})) || die "SCENARIOS=$SCENARIOS selects no target"
# One certificate for every TLS target of the run (cutover reads cert and key; haproxy one file with both).
TLS_CERT="$TMP/tls.crt"; TLS_KEY="$TMP/tls.key"; TLS_PEM="$TMP/tls.pem"
if [[ " ${SELECTED_TARGETS[*]} " == *"-tls|"* ]]; then
  command -v openssl >/dev/null || die "the TLS targets need openssl (apt-get install -y openssl)"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$TLS_KEY" -out "$TLS_CERT" \
    -days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null || die "openssl could not make a certificate"
  cat "$TLS_CERT" "$TLS_KEY" >"$TLS_PEM"
fi
SELECTED_LOADS=()
for row in "${LOADS_TABLE[@]}"; do
  IFS='|' read -r id _ _ <<<"$row"
  selected "$LOADS" "$id" && SELECTED_LOADS+=("$row")
done
((${#SELECTED_LOADS[@]})) || die "LOADS=$LOADS selects no load"

start_backend legacy "$PORT_LEGACY"
[[ -n "${NEED_CANDIDATE[normal]:-}" ]] && start_backend candidate "$PORT_CANDIDATE"
[[ -n "${NEED_CANDIDATE[slow]:-}" ]] && start_backend candidate-slow "$PORT_SLOW" --delay-ms "$SLOW_DELAY_MS"
[[ -n "${NEED_CANDIDATE[hang]:-}" ]] && start_backend candidate-hang "$PORT_HANG" --hang
LEGACY_URL="http://127.0.0.1:$PORT_LEGACY"
EXPECT_SMALL=$(curl -s -o /dev/null -w '%{size_download}' "$LEGACY_URL/small")
EXPECT_LARGE=$(curl -s -o /dev/null -w '%{size_download}' "$LEGACY_URL/large")

# --- targets ----------------------------------------------------------------
# start_target KIND ARG CANDIDATE_URL -> sets TARGET_URL, TARGET_PID (empty for direct); 1 on failure
TARGET_URL=""; TARGET_PID=""; TARGET_LOG=""
start_target() {
  local kind=$1 arg=$2 cand_url=$3 id=$4 code
  TARGET_PID=""; TARGET_LOG="$TMP/$id.log"
  TARGET_URL="http://127.0.0.1:$PORT_PROXY"
  [[ "$id" == *-tls ]] && TARGET_URL="https://127.0.0.1:$PORT_PROXY"
  case "$kind" in
    direct)
      TARGET_URL=$LEGACY_URL
      return 0 ;;
    nginx)
      mkdir -p "$TMP/nginx"
      cat >"$TMP/nginx/nginx.conf" <<EOF
worker_processes 1;
daemon off;
master_process on;
pid $TMP/nginx/nginx.pid;
error_log stderr warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $TMP/nginx/client_body;
  proxy_temp_path $TMP/nginx/proxy;
  fastcgi_temp_path $TMP/nginx/fastcgi;
  uwsgi_temp_path $TMP/nginx/uwsgi;
  scgi_temp_path $TMP/nginx/scgi;
  keepalive_timeout 65s;
  keepalive_requests 1000000;
  upstream legacy {
    server 127.0.0.1:$PORT_LEGACY;
    keepalive 256;
    keepalive_requests 1000000;
    keepalive_timeout 60s;
  }
  server {
    $([[ "$arg" == tls ]] && printf 'listen 127.0.0.1:%s ssl; ssl_certificate %s; ssl_certificate_key %s; ssl_session_cache shared:SSL:10m;' "$PORT_PROXY" "$TLS_CERT" "$TLS_KEY" || printf 'listen 127.0.0.1:%s;' "$PORT_PROXY")
    location / {
      proxy_pass http://legacy;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
EOF
      start_bg "$id" "${PIN_PROXY[@]}" nginx -e stderr -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" ;;
    haproxy)
      cat >"$TMP/haproxy.cfg" <<EOF
global
  nbthread 1
  maxconn 4096
defaults
  mode http
  option http-keep-alive
  http-reuse always
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  timeout http-keep-alive 60s
frontend bench
  bind 127.0.0.1:$PORT_PROXY$([[ "$arg" == tls ]] && printf ' ssl crt %s' "$TLS_PEM")
  default_backend legacy
backend legacy
  server legacy 127.0.0.1:$PORT_LEGACY
EOF
      start_bg "$id" "${PIN_PROXY[@]}" haproxy -db -f "$TMP/haproxy.cfg" ;;
    node-http-proxy|fastify-http-proxy|undici-floor)
      local node_flags=()
      [[ -n "$arg" ]] && read -r -a node_flags <<<"$arg"
      start_bg "$id" "${PIN_PROXY[@]}" "$NODE" --no-deprecation "${node_flags[@]}" "bench/peers/$kind.ts" \
        --listen "127.0.0.1:$PORT_PROXY" --upstream "$LEGACY_URL" ;;
    cutover)
      local data_dir="$TMP/cutover-data-$id" main_ts="$ROOT/src/cli/main.ts"
      [[ "$id" == *@ref ]] && main_ts="$REF_DIR/src/cli/main.ts"
      mkdir -p "$data_dir"
      if [[ "$arg" == flags ]]; then
        start_bg "$id" "${PIN_PROXY[@]}" "$NODE" "$main_ts" run \
          --legacy "$LEGACY_URL" --candidate "$cand_url" \
          --listen "127.0.0.1:$PORT_PROXY" --admin "127.0.0.1:$PORT_ADMIN" --data-dir "$data_dir"
      else
        local template="bench/configs/$arg" cfg="$TMP/$id.yaml" text
        [[ -f "$template" ]] || { echo "missing $template" >"$TARGET_LOG"; return 1; }
        text=$(<"$template")
        text=${text//'${LISTEN}'/"127.0.0.1:$PORT_PROXY"}
        text=${text//'${ADMIN}'/"127.0.0.1:$PORT_ADMIN"}
        text=${text//'${DATA_DIR}'/"$data_dir"}
        text=${text//'${LEGACY_URL}'/"$LEGACY_URL"}
        text=${text//'${CANDIDATE_URL}'/"$cand_url"}
        text=${text//'${TLS_CERT}'/"$TLS_CERT"}
        text=${text//'${TLS_KEY}'/"$TLS_KEY"}
        printf '%s\n' "$text" >"$cfg"
        start_bg "$id" "${PIN_PROXY[@]}" "$NODE" "$main_ts" run -c "$cfg"
      fi ;;
    *) echo "unknown target kind $kind" >"$TARGET_LOG"; return 1 ;;
  esac
  TARGET_PID=$STARTED_PID
  if ! wait_ready "$TARGET_URL/small" "$TARGET_PID" "$START_TIMEOUT"; then
    if kill -0 "$TARGET_PID" 2>/dev/null; then
      echo "[bench] no 200 from $TARGET_URL/small within ${START_TIMEOUT}s" >>"$TARGET_LOG"
    else
      wait "$TARGET_PID" 2>/dev/null && code=0 || code=$?
      echo "[bench] exited with status $code before answering" >>"$TARGET_LOG"
    fi
    return 1
  fi
}

# check_target URL: both bodies come back 200 with the backend's sizes
check_target() {
  local small large
  small=$(curl -sk -o /dev/null -w '%{http_code} %{size_download}' --max-time 5 "$1/small" || true)
  large=$(curl -sk -o /dev/null -w '%{http_code} %{size_download}' --max-time 5 "$1/large" || true)
  [[ "$small" == "200 $EXPECT_SMALL" && "$large" == "200 $EXPECT_LARGE" ]] && return 0
  echo "unexpected responses: /small -> '$small' (want '200 $EXPECT_SMALL'), /large -> '$large' (want '200 $EXPECT_LARGE')" >>"$TARGET_LOG"
  return 1
}

# --- run --------------------------------------------------------------------
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$RESULTS_DIR"
ROWS="$TMP/rows.jsonl"
: >"$ROWS"
json_str() { # minimal JSON string escaping for log excerpts
  local s=$1
  s=${s//\\/\\\\}; s=${s//\"/\\\"}; s=${s//$'\t'/ }; s=${s//$'\r'/}; s=${s//$'\n'/\\n}
  printf '"%s"' "$s"
}

WRK_TIMEOUT=$((DURATION > 5 ? DURATION : 5))
declare -gA FAILED=()
# run_target ROUND ROW: start one target, run every selected load against it, stop it.
run_target() {
  local round=$1 row=$2 id label kind arg cand cand_url detail load load_id path conns backend_core url
  local proxy_t0 backend_t0 machine_t0 wrk_ms0 t0 t1 wrk_ms machine_ticks backend_ticks proxy_ticks out wrkjson
  IFS='|' read -r id label kind arg cand <<<"$row"
  [[ -n "${FAILED[$id]:-}" ]] && return 0
  cand_url="http://127.0.0.1:${BACKEND_PORT[$cand]}"
  log "round $round/$ROUNDS, target $id: starting"
  if ! start_target "$kind" "$arg" "$cand_url" "$id" || ! check_target "$TARGET_URL"; then
    detail=$(tail -c 2000 "$TARGET_LOG" 2>/dev/null || true)
    log "target $id: FAILED TO START; its output:"
    printf '%s\n' "$detail" | sed 's/^/    /' >&2
    printf '{"target":"%s","label":"%s","status":"failed to start","detail":%s}\n' \
      "$id" "$label" "$(json_str "$detail")" >>"$ROWS"
    FAILED[$id]=1
    if [[ -n "$TARGET_PID" ]]; then stop_pid "$TARGET_PID"; fi
    return 0
  fi
  if ((START_WARMUP > 0)); then
    place_backends load
    "${FG[@]}" "${PIN_LOAD[@]}" timeout $((START_WARMUP + 10)) wrk -t1 -c"$CONNECTIONS" -d"${START_WARMUP}s" --timeout "${WRK_TIMEOUT}s" \
      "$TARGET_URL/small" >/dev/null 2>&1 || true
  fi
  for load in "${SELECTED_LOADS[@]}"; do
    IFS='|' read -r load_id path conns backend_core <<<"$load"
    url="$TARGET_URL$path"
    place_backends "$backend_core"
    if ((WARMUP > 0)); then
      "${FG[@]}" "${PIN_LOAD[@]}" timeout $((WARMUP + 10)) wrk -t1 -c"$conns" -d"${WARMUP}s" --timeout "${WRK_TIMEOUT}s" "$url" >/dev/null 2>&1 || true
    fi
    wait_quiet
    proxy_t0=0; backend_t0=$(cpu_ticks "${BACKEND_PID[@]}")
    if [[ -n "$TARGET_PID" ]]; then proxy_t0=$(cpu_ticks "$TARGET_PID"); fi
    machine_t0=$(machine_busy_ticks)
    children_cpu_ms; wrk_ms0=$CHILDREN_MS
    t0=$(date +%s%N)
    "${FG[@]}" "${PIN_LOAD[@]}" timeout $((DURATION + 15)) wrk -t1 -c"$conns" -d"${DURATION}s" --latency --timeout "${WRK_TIMEOUT}s" \
      -s bench/wrk/report.lua "$url" >"$TMP/wrk.out" 2>&1 || true
    t1=$(date +%s%N)
    children_cpu_ms; wrk_ms=$((CHILDREN_MS - wrk_ms0))
    machine_ticks=$(( $(machine_busy_ticks) - machine_t0 ))
    backend_ticks=$(( $(cpu_ticks "${BACKEND_PID[@]}") - backend_t0 ))
    proxy_ticks=null
    if [[ -n "$TARGET_PID" ]]; then proxy_ticks=$(( $(cpu_ticks "$TARGET_PID") - proxy_t0 )); fi
    out=$(<"$TMP/wrk.out")
    printf '%s\n' "$out" >>"$TMP/wrk-$id.log"
    wrkjson=$(printf '%s\n' "$out" | sed -n 's/^WRKJSON //p' | tail -n1)
    if [[ -z "$wrkjson" ]]; then
      log "target $id load $load_id: wrk produced no result"
      printf '%s\n' "$out" | sed 's/^/    /' >&2
      printf '{"target":"%s","label":"%s","round":%s,"load":"%s","path":"%s","connections":%s,"status":"wrk failed","detail":%s}\n' \
        "$id" "$label" "$round" "$load_id" "$path" "$conns" "$(json_str "$out")" >>"$ROWS"
      continue
    fi
    printf '{"target":"%s","label":"%s","round":%s,"load":"%s","path":"%s","connections":%s,"backendCore":"%s","status":"ok","wallNs":%s,"proxyCpuTicks":%s,"backendCpuTicks":%s,"wrkCpuMs":%s,"machineBusyTicks":%s,"wrk":%s}\n' \
      "$id" "$label" "$round" "$load_id" "$path" "$conns" "$backend_core" "$((t1 - t0))" "$proxy_ticks" "$backend_ticks" "$wrk_ms" "$machine_ticks" "$wrkjson" >>"$ROWS"
    log "target $id load $load_id: $(printf '%s' "$wrkjson" | sed -E 's/.*"rps":([0-9.]+).*"p50":([0-9]+).*"p99":([0-9]+).*/\1 rps, p50 \2 us, p99 \3 us/')"
  done
  if [[ -n "$TARGET_PID" ]] && ! kill -0 "$TARGET_PID" 2>/dev/null; then
    log "target $id: exited during the run; its output:"; tail -n 20 "$TARGET_LOG" | sed 's/^/    /' >&2
  fi
  if [[ -n "$TARGET_PID" ]]; then stop_pid "$TARGET_PID"; fi
  sleep 1
}

# Rounds interleave the targets (round 1: all targets, round 2: all targets, ...)
# so a burst of foreign load hits one sample of each rather than one target.
for round in $(seq 1 "$ROUNDS"); do
  for row in "${SELECTED_TARGETS[@]}"; do run_target "$round" "$row"; done
done

# --- report -----------------------------------------------------------------
nginx_v=$( (nginx -v 2>&1 || true) | sed 's/.*nginx\///')
haproxy_v=$( (haproxy -v 2>/dev/null || true) | sed -n '1s/^HAProxy version \([^ ]*\).*/\1/p')
wrk_v=$( (wrk -v 2>&1 || true) | sed -n '1s/^wrk \([^ ]*\).*/\1/p')
cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
mem_kb=$(sed -n 's/^MemTotal:[[:space:]]*\([0-9]*\).*/\1/p' /proc/meminfo)
git_rev=$(git rev-parse --short HEAD 2>/dev/null || echo "?")
if [[ -n "$(git status --porcelain -- src 2>/dev/null | head -n1)" ]]; then git_rev="$git_rev+uncommitted src changes"; fi
cat >"$TMP/meta.json" <<EOF
{
  "stamp": "$STAMP",
  "command": "bash bench/proxy.sh",
  "gitRev": "$git_rev",
  "settings": {"cutoverRef": "$CUTOVER_REF", "startWarmup": $START_WARMUP, "quietPct": $QUIET_PCT, "quietWait": $QUIET_WAIT, "duration": $DURATION, "warmup": $WARMUP, "connections": $CONNECTIONS, "latencyConnections": $LATENCY_CONNECTIONS,
               "rounds": $ROUNDS, "aggregate": "$AGGREGATE", "nice": $NICE, "pin": $PIN, "proxyCpu": "$PROXY_CPU", "loadCpu": "$LOAD_CPU", "backendWorkers": $BACKEND_WORKERS, "wrkThreads": 1, "clkTck": $CLK_TCK},
  "machine": {"cpus": $(nproc), "cpuModel": $(json_str "$cpu_model"), "memGiB": $((mem_kb / 1024 / 1024)), "kernel": "$(uname -r)"},
  "versions": {"node": "$("$NODE" -v)", "nginx": "$nginx_v", "haproxy": "$haproxy_v", "wrk": "$wrk_v",
               "http-proxy": "$(peer_version http-proxy)", "@fastify/http-proxy": "$(peer_version @fastify/http-proxy)",
               "fastify": "$(peer_version fastify)", "undici (fastify)": "$(peer_version undici)",
               "undici (cutover)": "$("$NODE" -p "require('$ROOT/node_modules/undici/package.json').version" 2>/dev/null || echo "?")"},
  "loads": [$(for l in "${SELECTED_LOADS[@]}"; do IFS='|' read -r a b c d <<<"$l"; printf '{"id":"%s","path":"%s","connections":%s,"backendCore":"%s"},' "$a" "$b" "$c" "$d"; done | sed 's/,$//')]
}
EOF
OUT="$RESULTS_DIR/proxy-$STAMP.json"
"$NODE" bench/report.ts --meta "$TMP/meta.json" --rows "$ROWS" --out "$OUT"
log "results written to ${OUT#"$ROOT"/}"
}

main "$@"
