#!/usr/bin/env bash
# What telemetry costs per request, in CPU instructions, counted by valgrind's
# callgrind: a count does not change with the load on the rest of the machine
# or with the host's speed, where a throughput ratio between two runs on a
# shared 2-vCPU VM swings by ±40 % (docs/benchmarks.md). cutover runs twice
# from the same config, telemetry at its defaults and `telemetry.enabled:
# false`, under callgrind with instrumentation off; after WARM requests per
# path (the JIT settles), instrumentation goes on, exactly REQUESTS requests
# go through, and the process's user-space instructions (every thread: proxy,
# GC helpers, libuv pool) are dumped. Kernel work (the socket syscalls, about
# a third of a request's CPU here) is not counted, so the percentage printed
# overstates telemetry's share of the whole cost.
#
# Under valgrind a request takes ~50x longer, so work done on timers (the
# store flush every 5 s, health probes, prom-client's event-loop monitor)
# would be charged to requests ~50x more than at real speed. So each variant
# is also measured idle for IDLE_SECONDS, and the table shows the cost per
# request both raw and net of that idle rate times the run's duration.
#
#   bash bench/telemetry-cost.sh
#
# Knobs: WARM=3000 REQUESTS=10000 CONNECTIONS=8 PATHS=/small,/large IDLE_SECONDS=20 BASE_PORT=18300
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
NODE="$ROOT/node_modules/.bin/node"
WARM=${WARM:-3000}
REQUESTS=${REQUESTS:-10000}
CONNECTIONS=${CONNECTIONS:-8}
PATHS=${PATHS:-/small,/large}
IDLE_SECONDS=${IDLE_SECONDS:-20}
BASE_PORT=${BASE_PORT:-18300}
PORT_LEGACY=$((BASE_PORT + 1)); PORT_PROXY=$((BASE_PORT + 80)); PORT_ADMIN=$((BASE_PORT + 90))

log() { printf '[telemetry-cost] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
if ! command -v valgrind >/dev/null || ! command -v callgrind_control >/dev/null; then
  log "installing valgrind"
  apt-get install -y valgrind >/dev/null 2>&1 || { apt-get update >/dev/null 2>&1 && apt-get install -y valgrind >/dev/null 2>&1; } || die "valgrind is not installed and apt-get could not install it"
fi

TMP=$(mktemp -d /tmp/cutover-telemetry-cost.XXXXXX)
PIDS=()
cleanup() { local p; for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$TMP"; }
trap cleanup EXIT

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for p in "$PORT_LEGACY" "$PORT_PROXY" "$PORT_ADMIN"; do port_busy "$p" && die "port $p is in use; set BASE_PORT"; done
wait_ok() { # URL SECONDS
  local d=$((SECONDS + $2))
  until [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$1" || true) == 200 ]]; do ((SECONDS < d)) || return 1; sleep 1; done
}

"$NODE" bench/backend.ts --port "$PORT_LEGACY" >"$TMP/backend.log" 2>&1 &
PIDS+=($!)
wait_ok "http://127.0.0.1:$PORT_LEGACY/small" 20 || die "backend did not start: $(cat "$TMP/backend.log")"

# dump_ir PID VARIANT: asks callgrind for a dump, waits for the file, prints its instruction count
dump_ir() {
  local pid=$1 variant=$2 before dump ir
  before=$(ls "$TMP"/cg-"$variant".* 2>/dev/null | wc -l)
  callgrind_control -d "$pid" >/dev/null 2>&1
  for _ in $(seq 1 60); do (($(ls "$TMP"/cg-"$variant".* 2>/dev/null | wc -l) > before)) && break; sleep 0.5; done
  dump=$(ls -t "$TMP"/cg-"$variant".* | head -1)
  ir=$(awk '/^(summary|totals):/ {print $2; exit}' "$dump")
  [[ -n "$ir" ]] || die "no instruction count in $dump"
  echo "$ir"
}

declare -A IR=() SECS=() IDLE=()
for variant in on off; do
  cfg="$TMP/cutover-$variant.yaml"
  {
    echo "version: 1"
    echo "listen: 127.0.0.1:$PORT_PROXY"
    echo "admin: { listen: 127.0.0.1:$PORT_ADMIN }"
    echo "dataDir: $TMP/data-$variant"
    echo "backends:"
    echo "  legacy: { url: http://127.0.0.1:$PORT_LEGACY }"
    echo "  candidate: { url: http://127.0.0.1:$PORT_LEGACY }"
    [[ $variant == off ]] && echo "telemetry: { enabled: false }"
  } >"$cfg"
  log "telemetry $variant: starting cutover under callgrind (slow: a minute or two)"
  valgrind --tool=callgrind --instr-atstart=no --smc-check=all-non-file \
    --callgrind-out-file="$TMP/cg-$variant.%p" "$NODE" src/cli/main.ts run -c "$cfg" >"$TMP/cutover-$variant.log" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  wait_ok "http://127.0.0.1:$PORT_PROXY/small" 300 || die "cutover did not start under valgrind: $(tail -20 "$TMP/cutover-$variant.log")"
  callgrind_control -i on "$pid" >/dev/null 2>&1
  for path in ${PATHS//,/ }; do
    url="http://127.0.0.1:$PORT_PROXY$path"
    "$NODE" bench/fixed-requests.ts --url "$url" --requests "$WARM" --connections "$CONNECTIONS" >/dev/null
    if [[ -z "${IDLE[$variant]:-}" ]]; then
      # Idle after the warm-up, so start-up compilation is not counted as background work.
      callgrind_control -z "$pid" >/dev/null 2>&1
      t0=$(date +%s.%N); sleep "$IDLE_SECONDS"; ir=$(dump_ir "$pid" "$variant"); t1=$(date +%s.%N)
      IDLE[$variant]=$(awk -v ir="$ir" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", ir / (b - a) }')
      log "telemetry $variant idle: ${IDLE[$variant]} instructions/s"
    fi
    callgrind_control -z "$pid" >/dev/null 2>&1
    t0=$(date +%s.%N)
    out=$("$NODE" bench/fixed-requests.ts --url "$url" --requests "$REQUESTS" --connections "$CONNECTIONS")
    ir=$(dump_ir "$pid" "$variant"); t1=$(date +%s.%N)
    IR["$variant $path"]=$ir
    SECS["$variant $path"]=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
    log "telemetry $variant $path: $ir instructions for $REQUESTS requests ($out)"
  done
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
done

echo "| path | instr./request, telemetry on | off | cost | share | on, net of idle | off, net of idle | cost, net | share, net |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
for path in ${PATHS//,/ }; do
  awk -v p="$path" -v on="${IR["on $path"]}" -v off="${IR["off $path"]}" -v n="$REQUESTS" \
    -v son="${SECS["on $path"]}" -v soff="${SECS["off $path"]}" -v ion="${IDLE[on]}" -v ioff="${IDLE[off]}" 'BEGIN {
    a = on / n; b = off / n
    na = (on - ion * son) / n; nb = (off - ioff * soff) / n
    printf "| %s | %.0f | %.0f | %+.0f | %+.1f %% | %.0f | %.0f | %+.0f | %+.1f %% |\n", p, a, b, a - b, (a - b) / b * 100, na, nb, na - nb, (na - nb) / nb * 100 }'
done
echo
echo "Idle: telemetry on ${IDLE[on]} instructions/s, off ${IDLE[off]} instructions/s."
echo
echo "REQUESTS=$REQUESTS WARM=$WARM CONNECTIONS=$CONNECTIONS, git $(git rev-parse --short HEAD), $("$NODE" -v), $(valgrind --version)"
