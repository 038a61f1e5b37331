#!/usr/bin/env bash
# CPU instructions per proxied request, counted by valgrind's callgrind, for
# cutover and the proxies it is measured against. A count does not move with
# the load on the rest of the machine or with the host's speed, where a
# throughput ratio between two runs on a shared 2-vCPU VM swings by ±40 %
# (docs/benchmarks.md). It complements bench/proxy.sh; it does not replace it.
#
#   bash bench/instructions.sh
#
# Each target runs under callgrind with instrumentation off. After WARM
# requests (the JIT settles; fewer leaves TurboFan compiling inside the
# measured window), the target is measured twice:
#   idle      IDLE_SECONDS with no traffic: what its timers cost per second
#             (store flushes, health probes, event-loop monitors);
#   requests  exactly REQUESTS requests per path from bench/fixed-requests.ts.
# The process's user-space instructions (every thread: JS, GC helpers, libuv
# pool) are dumped after each. Under valgrind a request takes ~50x longer, so
# timer work would be charged to requests ~50x more than at real speed: the
# "net" column subtracts the idle rate times the run's duration.
#
# What a count leaves out: the kernel (socket syscalls and loopback TCP, about
# half of a small request's CPU here, and the same for every proxy since they
# all make the same syscalls per request), and how fast the instructions run
# (cache misses, branch prediction). So a ratio of counts is larger than the
# throughput ratio of the same two proxies: use it to see where cutover's own
# work goes and whether a change added to it, not as a throughput prediction.
#
# Repeatability: the floor counts within 1 % from run to run; cutover, a far
# larger process (worker thread, store, timers), has counted the same build
# 30 % apart between runs an hour apart (docs/benchmarks.md, "Telemetry's
# cost"). Compare two builds only within one run, and repeat it.
#
# Knobs (environment):
#   TARGETS=cutover-legacy,cutover-telemetry-off,undici-floor,fastify-http-proxy
#   PATHS=/small,/large  WARM=30000  REQUESTS=20000  CONNECTIONS=8  IDLE_SECONDS=15
#   BASE_PORT=18300  BENCH_LOCK=/tmp/cutover-bench.lock  LOCK_WAIT=1800
#
# The whole script is one function called on the last line, so editing this
# file while it runs is safe.
set -euo pipefail

main() {

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
NODE="$ROOT/node_modules/.bin/node"
TARGETS=${TARGETS:-cutover-legacy,cutover-telemetry-off,undici-floor,fastify-http-proxy}
PATHS=${PATHS:-/small,/large}
WARM=${WARM:-30000}
REQUESTS=${REQUESTS:-20000}
CONNECTIONS=${CONNECTIONS:-8}
IDLE_SECONDS=${IDLE_SECONDS:-15}
BASE_PORT=${BASE_PORT:-18300}
BENCH_LOCK=${BENCH_LOCK:-/tmp/cutover-bench.lock}
LOCK_WAIT=${LOCK_WAIT:-1800}
PORT_LEGACY=$((BASE_PORT + 1)); PORT_PROXY=$((BASE_PORT + 80)); PORT_ADMIN=$((BASE_PORT + 90))

log() { printf '[instructions] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# id | label
local -a TABLE=(
  "cutover-legacy|cutover, legacy mode"
  "cutover-telemetry-off|cutover, legacy, telemetry off"
  "undici-floor|floor: node:http + undici dispatch"
  "fastify-http-proxy|@fastify/http-proxy"
  "node-http-proxy|node-http-proxy"
)
local -A LABEL=()
local row
for row in "${TABLE[@]}"; do LABEL[${row%%|*}]=${row#*|}; done
local t
for t in ${TARGETS//,/ }; do [[ -n "${LABEL[$t]:-}" ]] || die "unknown target '$t' (known: ${!LABEL[*]})"; done

if ! command -v valgrind >/dev/null || ! command -v callgrind_control >/dev/null; then
  log "installing valgrind"
  apt-get install -y valgrind >/dev/null 2>&1 || { apt-get update >/dev/null 2>&1 && apt-get install -y valgrind >/dev/null 2>&1; } \
    || die "valgrind is not installed and apt-get could not install it"
fi
if [[ ",$TARGETS," == *",fastify-http-proxy,"* || ",$TARGETS," == *",node-http-proxy,"* ]]; then
  bash bench/peers/install-npm-peers.sh || die "could not install the npm peers"
fi

# Counts are not disturbed by other load, but this run would disturb a throughput benchmark.
exec 9>>"$BENCH_LOCK"
if ! flock -n 9; then
  log "another benchmark holds $BENCH_LOCK; waiting up to ${LOCK_WAIT}s"
  flock -w "$LOCK_WAIT" 9 || die "gave up waiting for $BENCH_LOCK"
fi

TMP=$(mktemp -d /tmp/cutover-instructions.XXXXXX)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$TMP"' EXIT

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for p in "$PORT_LEGACY" "$PORT_PROXY" "$PORT_ADMIN"; do port_busy "$p" && die "port $p is in use; set BASE_PORT"; done
wait_ok() { # URL SECONDS
  local d=$((SECONDS + $2))
  until [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$1" || true) == 200 ]]; do ((SECONDS < d)) || return 1; sleep 1; done
}

"$NODE" bench/backend.ts --port "$PORT_LEGACY" >"$TMP/backend.log" 2>&1 &
PIDS+=($!)
wait_ok "http://127.0.0.1:$PORT_LEGACY/small" 20 || die "backend did not start: $(cat "$TMP/backend.log")"

# command_for TARGET: the proxy's command line (one word per line)
command_for() {
  case $1 in
    cutover-legacy | cutover-telemetry-off)
      {
        echo "version: 1"
        echo "listen: 127.0.0.1:$PORT_PROXY"
        echo "admin: { listen: 127.0.0.1:$PORT_ADMIN }"
        echo "dataDir: $TMP/data-$1"
        echo "backends:"
        echo "  legacy: { url: http://127.0.0.1:$PORT_LEGACY }"
        echo "  candidate: { url: http://127.0.0.1:$PORT_LEGACY }"
        [[ $1 == cutover-telemetry-off ]] && echo "telemetry: { enabled: false }"
      } >"$TMP/$1.yaml"
      printf '%s\n' "$NODE" src/cli/main.ts run -c "$TMP/$1.yaml" ;;
    *)
      printf '%s\n' "$NODE" --no-deprecation "bench/peers/$1.ts" --listen "127.0.0.1:$PORT_PROXY" --upstream "http://127.0.0.1:$PORT_LEGACY" ;;
  esac
}

# dump_ir PID TARGET: asks callgrind for a dump, waits for the file, prints its instruction count
dump_ir() {
  local pid=$1 target=$2 before dump ir
  before=$(find "$TMP" -name "cg-$target.*" | wc -l)
  callgrind_control -d "$pid" >/dev/null 2>&1
  for _ in $(seq 1 120); do (($(find "$TMP" -name "cg-$target.*" | wc -l) > before)) && break; sleep 0.5; done
  dump=$(ls -t "$TMP"/cg-"$target".* | head -1)
  ir=$(awk '/^(summary|totals):/ {print $2; exit}' "$dump")
  [[ -n "$ir" ]] || die "no instruction count in $dump"
  echo "$ir"
}

local -A NET=() RAW=() IDLE=()
local target path pid url t0 t1 ir out
local -a cmd
for target in ${TARGETS//,/ }; do
  mapfile -t cmd < <(command_for "$target")
  log "$target: starting under callgrind (slow: a minute or two)"
  valgrind --tool=callgrind --instr-atstart=no --smc-check=all-non-file \
    --callgrind-out-file="$TMP/cg-$target.%p" "${cmd[@]}" >"$TMP/$target.log" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  wait_ok "http://127.0.0.1:$PORT_PROXY/small" 300 || die "$target did not start under valgrind: $(tail -20 "$TMP/$target.log")"
  callgrind_control -i on "$pid" >/dev/null 2>&1
  for path in ${PATHS//,/ }; do
    url="http://127.0.0.1:$PORT_PROXY$path"
    "$NODE" bench/fixed-requests.ts --url "$url" --requests "$WARM" --connections "$CONNECTIONS" >/dev/null
    if [[ -z "${IDLE[$target]:-}" ]]; then
      callgrind_control -z "$pid" >/dev/null 2>&1
      t0=$(date +%s.%N); sleep "$IDLE_SECONDS"; ir=$(dump_ir "$pid" "$target"); t1=$(date +%s.%N)
      IDLE[$target]=$(awk -v ir="$ir" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", ir / (b - a) }')
      log "$target idle: ${IDLE[$target]} instructions/s"
    fi
    callgrind_control -z "$pid" >/dev/null 2>&1
    t0=$(date +%s.%N)
    out=$("$NODE" bench/fixed-requests.ts --url "$url" --requests "$REQUESTS" --connections "$CONNECTIONS")
    ir=$(dump_ir "$pid" "$target"); t1=$(date +%s.%N)
    RAW["$target $path"]=$((ir / REQUESTS))
    NET["$target $path"]=$(awk -v ir="$ir" -v r="${IDLE[$target]}" -v a="$t0" -v b="$t1" -v n="$REQUESTS" 'BEGIN { printf "%.0f", (ir - r * (b - a)) / n }')
    log "$target $path: raw ${RAW["$target $path"]}, net ${NET["$target $path"]} instructions/request ($out)"
  done
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
done

echo "### Instructions per request (git $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(date -u +%Y-%m-%dT%H:%MZ))"
echo
echo "\`TARGETS=$TARGETS PATHS=$PATHS WARM=$WARM REQUESTS=$REQUESTS CONNECTIONS=$CONNECTIONS IDLE_SECONDS=$IDLE_SECONDS bash bench/instructions.sh\`"
echo
local ref=''
[[ ",$TARGETS," == *",fastify-http-proxy,"* ]] && ref=fastify-http-proxy
local floor=''
[[ ",$TARGETS," == *",undici-floor,"* ]] && floor=undici-floor
echo "| target | path | raw instr./req | idle instr./s | net instr./req | fastify ÷ target (net) | target ÷ floor (net) |"
echo "|---|---|---:|---:|---:|---:|---:|"
for path in ${PATHS//,/ }; do
  for target in ${TARGETS//,/ }; do
    awk -v l="${LABEL[$target]}" -v p="$path" -v raw="${RAW["$target $path"]}" -v idle="${IDLE[$target]}" -v net="${NET["$target $path"]}" \
      -v f="${ref:+${NET["$ref $path"]}}" -v fl="${floor:+${NET["$floor $path"]}}" 'BEGIN {
      printf "| %s | %s | %d | %.1f M | %d | %s | %s |\n", l, p, raw, idle / 1e6, net,
        f == "" ? "–" : sprintf("%.2f×", f / net), fl == "" ? "–" : sprintf("%+.1f %%", (net / fl - 1) * 100) }'
  done
done
if [[ ",$TARGETS," == *",cutover-legacy,"* && ",$TARGETS," == *",cutover-telemetry-off,"* ]]; then
  echo
  for path in ${PATHS//,/ }; do
    awk -v p="$path" -v on="${NET["cutover-legacy $path"]}" -v off="${NET["cutover-telemetry-off $path"]}" 'BEGIN {
      printf "Telemetry at its defaults on %s: %+d instructions per request (%+.1f %% of telemetry off, net of idle).\n", p, on - off, (on / off - 1) * 100 }'
  done
fi

}

main "$@"
