#!/usr/bin/env bash
# Shadow-mode benchmark: what mirroring and comparing costs the client.
# cutover in legacy mode (the baseline) against cutover in shadow mode with a
# candidate that answers the same, differently, 10x+ slower, or never.
#
#   bash bench/shadow.sh
#
# Written beside bench/proxy.sh (same backend, same wrk report hook, same
# pinning) rather than inside it: its scenario table is one line per target,
# but its file belongs to the proxy benchmark.
#
# Two measurements per target:
#   throughput  wrk, CONNECTIONS connections, no pacing: requests/s at saturation
#   paced       wrk with bench/wrk/paced.lua: PACED_CONNECTIONS connections each
#               waiting PACE_MS between requests, so every target gets about the
#               same offered load (Debian's wrk has no -R); compare p99 here
#
# Knobs (environment):
#   DURATION=5 WARMUP=3 CONNECTIONS=50 PACED_CONNECTIONS=20 PACE_MS=10
#   PIN=1 PROXY_CPU=0 LOAD_CPU=1   proxy (and its comparer thread) on one core, the rest on another
#   SLOW_DELAY_MS=10               delay of the slow candidate
#   CANDIDATE_SCHED=idle           idle: candidate backends run at SCHED_IDLE on their core, so
#                                  they only use cycles the legacy backend and wrk leave free (in
#                                  production the rewrite runs on its own machine; here it would
#                                  otherwise take the legacy backend's core from it, and a slower
#                                  legacy answer is not something cutover did); normal: as before
#   TARGETS=all                    comma list of target ids (see TARGET_TABLE)
#   LOADS=all                      comma list of load ids (see LOAD_TABLE)
#   PAIRED=1 PAIRS=6               paired A/B (default): legacy-mode and target cutovers side by
#                                  side, runs alternating A B / B A, PAIRS pairs per load; the
#                                  report gives the median of the per-pair ratios
#   FRESH=1                        PAIRED=1: new A and B processes for every pair (0: one A for
#                                  the whole run and one B per target, as before; faster)
#   REPEAT=1                       PAIRED=0: run the whole target list this many times, interleaved
#                                  (A B C A B C ...); the report shows medians, so a
#                                  burst of load from something else on the machine
#                                  hits every target alike
#   BASE_PORT=18200 RESULTS_DIR=bench/results
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
NODE="$ROOT/node_modules/.bin/node"

DURATION=${DURATION:-5}
WARMUP=${WARMUP:-3}
CONNECTIONS=${CONNECTIONS:-50}
PACED_CONNECTIONS=${PACED_CONNECTIONS:-20}
PACE_MS=${PACE_MS:-10}
PIN=${PIN:-1}
PROXY_CPU=${PROXY_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
SLOW_DELAY_MS=${SLOW_DELAY_MS:-10}
CANDIDATE_SCHED=${CANDIDATE_SCHED:-idle}
TARGETS=${TARGETS:-all}
LOADS=${LOADS:-all}
BASE_PORT=${BASE_PORT:-18200}
RESULTS_DIR=${RESULTS_DIR:-$ROOT/bench/results}
REPEAT=${REPEAT:-1}
PAIRED=${PAIRED:-1}
PAIRS=${PAIRS:-6}
FRESH=${FRESH:-1}

# id | label | mode | candidate | runner
#   candidate: normal (same answers), differ (other JSON values), slow (SLOW_DELAY_MS), hang (never answers)
#   runner: cli (`cutover run -c`, all default features) or nocompare
#           (bench/run-without-comparison.ts: same data plane, no comparer subscribed)
TARGET_TABLE=(
  "legacy|cutover, legacy mode (baseline)|legacy|normal|cli"
  "legacy-again|A/A control: a second legacy-mode cutover (what identical configs differ by here)|legacy|normal|cli"
  "shadow-nocompare|shadow, same answers, comparison feature off|shadow|normal|nocompare"
  "shadow-same|shadow, candidate answers the same|shadow|normal|cli"
  "shadow-differ|shadow, candidate answers differ (full JSON diff)|shadow|differ|cli"
  "shadow-slow|shadow, candidate ${SLOW_DELAY_MS} ms slower|shadow|slow|cli"
  "shadow-hang|shadow, candidate never answers|shadow|hang|cli"
)
# id | path | connections | wrk script
LOAD_TABLE=(
  "throughput-small|/small|$CONNECTIONS|bench/wrk/report.lua"
  "throughput-large|/large|$CONNECTIONS|bench/wrk/report.lua"
  "paced-small|/small|$PACED_CONNECTIONS|bench/wrk/paced.lua"
)

PORT_LEGACY=$((BASE_PORT + 1)); PORT_NORMAL=$((BASE_PORT + 2)); PORT_SLOW=$((BASE_PORT + 3))
PORT_HANG=$((BASE_PORT + 4)); PORT_DIFFER=$((BASE_PORT + 5)); PORT_PROXY=$((BASE_PORT + 80)); PORT_ADMIN=$((BASE_PORT + 90))

log() { printf '[shadow-bench] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
selected() { [[ "$1" == all || ",$1," == *",$2,"* ]]; }
command -v wrk >/dev/null || die "wrk is not installed (apt-get install wrk)"

PIN_PROXY=(); PIN_LOAD=()
if [[ "$PIN" == 1 ]]; then PIN_PROXY=(taskset -c "$PROXY_CPU"); PIN_LOAD=(taskset -c "$LOAD_CPU"); fi
case "$CANDIDATE_SCHED" in
  idle) CANDIDATE=("${PIN_LOAD[@]}" chrt --idle 0) ;;
  normal) CANDIDATE=("${PIN_LOAD[@]}") ;;
  *) die "CANDIDATE_SCHED must be idle or normal, not '$CANDIDATE_SCHED'" ;;
esac

TMP=$(mktemp -d /tmp/cutover-shadow-bench.XXXXXX)
PIDS=()
stop_pid() {
  local pid=$1 i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() { local p; for p in "${PIDS[@]}"; do stop_pid "$p"; done; rm -rf "$TMP"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

start_bg() { local name=$1; shift; setsid "$@" >"$TMP/$name.log" 2>&1 </dev/null & STARTED_PID=$!; PIDS+=("$STARTED_PID"); }
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() { local d=$((SECONDS + 15)); until port_busy "$1"; do ((SECONDS < d)) || die "nothing listens on $1: $(cat "$TMP"/*.log)"; sleep 0.2; done; }
wait_ok() { local d=$((SECONDS + 20)); until [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$1" || true) == 200 ]]; do ((SECONDS < d)) || return 1; sleep 0.2; done; }

for p in "$PORT_LEGACY" "$PORT_NORMAL" "$PORT_SLOW" "$PORT_HANG" "$PORT_DIFFER" "$PORT_PROXY" "$((PORT_PROXY + 1))" "$PORT_ADMIN" "$((PORT_ADMIN + 1))"; do
  port_busy "$p" && die "port $p is in use; set BASE_PORT"
done

start_bg legacy "${PIN_LOAD[@]}" "$NODE" bench/backend.ts --port "$PORT_LEGACY"; wait_ok "http://127.0.0.1:$PORT_LEGACY/small"
start_bg normal "${CANDIDATE[@]}" "$NODE" bench/backend.ts --port "$PORT_NORMAL"; wait_ok "http://127.0.0.1:$PORT_NORMAL/small"
start_bg slow "${CANDIDATE[@]}" "$NODE" bench/backend.ts --port "$PORT_SLOW" --delay-ms "$SLOW_DELAY_MS"; wait_ok "http://127.0.0.1:$PORT_SLOW/small"
start_bg hang "${CANDIDATE[@]}" "$NODE" bench/backend.ts --port "$PORT_HANG" --hang; wait_port "$PORT_HANG"
start_bg differ "${CANDIDATE[@]}" "$NODE" bench/differing-backend.ts --port "$PORT_DIFFER" --legacy "http://127.0.0.1:$PORT_LEGACY"; wait_ok "http://127.0.0.1:$PORT_DIFFER/small"
declare -A CAND_PORT=([normal]=$PORT_NORMAL [slow]=$PORT_SLOW [hang]=$PORT_HANG [differ]=$PORT_DIFFER)

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$RESULTS_DIR"
ROWS="$TMP/rows.jsonl"; : >"$ROWS"
WRK_TIMEOUT=$((DURATION > 5 ? DURATION : 5))

# Busy ticks of the whole machine, from /proc/stat.
machine_busy_ticks() {
  local _cpu user nice system idle iowait irq softirq steal _rest
  read -r _cpu user nice system idle iowait irq softirq steal _rest </proc/stat
  echo $((user + nice + system + irq + softirq + steal))
}
CORES=$(nproc); CLK_TCK=$(getconf CLK_TCK)
# Other people's benchmarks on a shared machine wreck a latency run. Before each
# measured run, wait (up to QUIET_WAIT_S) for a second in which the machine is
# at most QUIET_PCT % busy; the row records how quiet it was and how busy the
# whole machine was during the run, so contaminated runs can be spotted.
QUIET_WAIT_S=${QUIET_WAIT_S:-20}; QUIET_PCT=${QUIET_PCT:-15}
QUIET_BUSY=0
wait_quiet() {
  local deadline=$((SECONDS + QUIET_WAIT_S)) t0 pct
  while :; do
    t0=$(machine_busy_ticks); sleep 1
    pct=$(( ( $(machine_busy_ticks) - t0 ) * 100 / (CLK_TCK * CORES) ))
    QUIET_BUSY=$pct
    ((pct <= QUIET_PCT)) && return 0
    ((SECONDS < deadline)) || { log "machine still ${pct}% busy after ${QUIET_WAIT_S}s; measuring anyway"; return 0; }
  done
}

# start_cutover ID MODE CANDIDATE RUNNER SLOT: starts one cutover on the
# ports of SLOT (0 or 1); sets CUT_PID, CUT_URL, CUT_ADMIN.
start_cutover() {
  local id=$1 mode=$2 cand=$3 runner=$4 slot=$5 text
  local listen="127.0.0.1:$((PORT_PROXY + slot))" admin="127.0.0.1:$((PORT_ADMIN + slot))"
  local data_dir="$TMP/data-$id-$slot-$RANDOM"; mkdir -p "$data_dir"
  text=$(<bench/configs/shadow.yaml)
  text=${text//'${LISTEN}'/"$listen"}; text=${text//'${ADMIN}'/"$admin"}
  text=${text//'${DATA_DIR}'/"$data_dir"}; text=${text//'${LEGACY_URL}'/"http://127.0.0.1:$PORT_LEGACY"}
  text=${text//'${CANDIDATE_URL}'/"http://127.0.0.1:${CAND_PORT[$cand]}"}; text=${text//'${MODE}'/"$mode"}
  printf '%s\n' "$text" >"$TMP/$id-$slot.yaml"
  log "target $id: starting"
  if [[ "$runner" == nocompare ]]; then
    start_bg "cutover-$id-$slot" "${PIN_PROXY[@]}" "$NODE" bench/run-without-comparison.ts "$TMP/$id-$slot.yaml"
  else
    start_bg "cutover-$id-$slot" "${PIN_PROXY[@]}" "$NODE" src/cli/main.ts run -c "$TMP/$id-$slot.yaml"
  fi
  CUT_PID=$STARTED_PID; CUT_URL="http://$listen"; CUT_ADMIN="http://$admin"
  wait_ok "$CUT_URL/small" || die "cutover ($id) did not start: $(tail -c 2000 "$TMP/cutover-$id-$slot.log")"
}

# measure ID LABEL LOAD_ROW BASE_URL EXTRA_JSON: one measured wrk run, appended to ROWS.
measure() {
  local id=$1 label=$2 load=$3 base=$4 extra=$5 load_id path conns script out wrkjson m0 w0 busy_pct
  IFS='|' read -r load_id path conns script <<<"$load"
  wait_quiet
  m0=$(machine_busy_ticks); w0=$(date +%s%N)
  out=$(PACE_MS=$PACE_MS "${PIN_LOAD[@]}" timeout $((DURATION + 15)) wrk -t1 -c"$conns" -d"${DURATION}s" --timeout "${WRK_TIMEOUT}s" -s "$script" "$base$path" 2>&1 || true)
  busy_pct=$(( ( $(machine_busy_ticks) - m0 ) * 100 * 1000000000 / (CLK_TCK * CORES * ( $(date +%s%N) - w0 )) ))
  wrkjson=$(printf '%s\n' "$out" | sed -n 's/^WRKJSON //p' | tail -n1)
  [[ -n "$wrkjson" ]] || { log "wrk failed: $out"; return 0; }
  printf '{%s"target":"%s","label":"%s","load":"%s","path":"%s","connections":%s,"quietBeforePct":%s,"machineBusyPct":%s,"wrk":%s}\n' \
    "$extra" "$id" "$label" "$load_id" "$path" "$conns" "$QUIET_BUSY" "$busy_pct" "$wrkjson" >>"$ROWS"
  log "  $id $load_id (machine ${QUIET_BUSY}% busy before, ${busy_pct}% during): $(printf '%s' "$wrkjson" | sed -E 's/.*"rps":([0-9.]+).*"p50":([0-9]+).*"p99":([0-9]+).*/\1 rps, p50 \2 us, p99 \3 us/')"
}

warm() { # warm LOAD_ROW BASE_URL
  local load_id path conns script
  IFS='|' read -r load_id path conns script <<<"$1"
  ((WARMUP > 0)) || return 0
  PACE_MS=$PACE_MS "${PIN_LOAD[@]}" wrk -t1 -c"$conns" -d"${WARMUP}s" --timeout "${WRK_TIMEOUT}s" -s "$script" "$2$path" >/dev/null 2>&1 || true
}

# What the comparer did during a target's runs (compared vs skipped), so a fast
# shadow number cannot hide "nothing was compared".
record_comparison() { # record_comparison ID ADMIN_URL EXTRA_JSON
  sleep 1.5
  local comp
  comp=$(curl -s --max-time 10 "$2/api/v1/diffs?flush=1" || echo '{}')
  [[ -n "$comp" ]] || comp='{}'
  printf '{%s"target":"%s","comparison":%s}\n' "$3" "$1" "$comp" >>"$ROWS"
}

# measure_pair PAIR LOAD_ROW ID LABEL: one A and one B run, in the order A B for odd
# pairs and B A for even ones.
measure_pair() {
  local pair=$1 load=$2 id=$3 label=$4
  if ((pair % 2)); then
    measure legacy "cutover, legacy mode (baseline)" "$load" "$A_URL" "\"pair\":$pair,\"against\":\"$id\","
    measure "$id" "$label" "$load" "$B_URL" "\"pair\":$pair,"
  else
    measure "$id" "$label" "$load" "$B_URL" "\"pair\":$pair,"
    measure legacy "cutover, legacy mode (baseline)" "$load" "$A_URL" "\"pair\":$pair,\"against\":\"$id\","
  fi
}

if [[ "$PAIRED" == 1 ]]; then
  # Paired A/B: a legacy-mode cutover (A) and the target (B) run side by side on
  # the same core; only one gets load at a time, alternating A B / B A for
  # PAIRS pairs per load. Each pair's ratio compares two runs a few seconds
  # apart, so load from anything else on the machine hits both alike.
  # FRESH=1 starts a new A and B for every pair: two identical Node processes
  # can settle at speeds 10-20% apart for their whole life (what the JIT made of
  # their warm-up), and one long-lived A would tilt every pair the same way.
  if [[ "$FRESH" != 1 ]]; then
    start_cutover legacy legacy normal cli 0
    A_PID=$CUT_PID; A_URL=$CUT_URL
  fi
  for row in "${TARGET_TABLE[@]}"; do
    IFS='|' read -r id label mode cand runner <<<"$row"
    [[ "$id" == legacy ]] && continue
    selected "$TARGETS" "$id" || continue
    if [[ "$FRESH" == 1 ]]; then
      for pair in $(seq 1 "$PAIRS"); do
        start_cutover legacy legacy normal cli 0
        A_PID=$CUT_PID; A_URL=$CUT_URL
        start_cutover "$id" "$mode" "$cand" "$runner" 1
        B_PID=$CUT_PID; B_URL=$CUT_URL; B_ADMIN=$CUT_ADMIN
        for load in "${LOAD_TABLE[@]}"; do
          selected "$LOADS" "${load%%|*}" || continue
          warm "$load" "$A_URL"; warm "$load" "$B_URL"
          measure_pair "$pair" "$load" "$id" "$label"
        done
        record_comparison "$id" "$B_ADMIN" "\"pair\":$pair,"
        stop_pid "$B_PID"; stop_pid "$A_PID"
        sleep 1
      done
      continue
    fi
    start_cutover "$id" "$mode" "$cand" "$runner" 1
    B_PID=$CUT_PID; B_URL=$CUT_URL; B_ADMIN=$CUT_ADMIN
    for load in "${LOAD_TABLE[@]}"; do
      selected "$LOADS" "${load%%|*}" || continue
      warm "$load" "$A_URL"; warm "$load" "$B_URL"
      for pair in $(seq 1 "$PAIRS"); do measure_pair "$pair" "$load" "$id" "$label"; done
    done
    record_comparison "$id" "$B_ADMIN" '"pair":0,'
    stop_pid "$B_PID"
    sleep 1
  done
  [[ "$FRESH" == 1 ]] || stop_pid "$A_PID"
else
  for round in $(seq 1 "$REPEAT"); do
    for row in "${TARGET_TABLE[@]}"; do
      IFS='|' read -r id label mode cand runner <<<"$row"
      selected "$TARGETS" "$id" || continue
      log "round $round/$REPEAT"
      start_cutover "$id" "$mode" "$cand" "$runner" 0
      for load in "${LOAD_TABLE[@]}"; do
        selected "$LOADS" "${load%%|*}" || continue
        warm "$load" "$CUT_URL"
        measure "$id" "$label" "$load" "$CUT_URL" "\"round\":$round,"
      done
      [[ "$mode" == legacy ]] || record_comparison "$id" "$CUT_ADMIN" "\"round\":$round,"
      stop_pid "$CUT_PID"
      sleep 1
    done
  done
fi

OUT="$RESULTS_DIR/shadow-$STAMP.json"
CANDIDATE_SCHED=$CANDIDATE_SCHED "$NODE" - "$ROWS" "$OUT" <<'JS'
const fs = require('node:fs');
const [rowsFile, out] = process.argv.slice(2);
const rows = fs.readFileSync(rowsFile, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const errorsOf = (w) => w.errors.connect + w.errors.read + w.errors.write + w.errors.status + w.errors.timeout;
const lines = [];
const paired = rows.filter((r) => r.wrk && r.pair !== undefined && r.target !== 'legacy');
if (paired.length > 0) {
  // Paired A/B: per target and load, the median over pairs of target/legacy.
  const cells = new Map();
  for (const b of paired) {
    const a = rows.find((r) => r.wrk && r.target === 'legacy' && r.against === b.target && r.load === b.load && r.pair === b.pair);
    if (!a) continue;
    const k = `${b.target}|${b.load}`;
    if (!cells.has(k)) cells.set(k, { target: b.target, load: b.load, connections: b.connections, rpsRatio: [], p99Ratio: [], aRps: [], bRps: [], aP99: [], bP99: [], aP50: [], bP50: [], busy: [], errors: 0 });
    const c = cells.get(k);
    c.rpsRatio.push(b.wrk.rps / a.wrk.rps); c.p99Ratio.push(b.wrk.latency_us.p99 / a.wrk.latency_us.p99);
    c.aRps.push(a.wrk.rps); c.bRps.push(b.wrk.rps); c.aP99.push(a.wrk.latency_us.p99); c.bP99.push(b.wrk.latency_us.p99);
    c.aP50.push(a.wrk.latency_us.p50); c.bP50.push(b.wrk.latency_us.p50);
    c.busy.push(`${a.machineBusyPct}/${b.machineBusyPct}`);
    c.errors += errorsOf(a.wrk) + errorsOf(b.wrk);
  }
  lines.push('| target | load | conns | pairs | legacy req/s | target req/s | req/s ratio (median) | legacy p99 µs | target p99 µs | p99 change (median of pairs) | p99 ratio per pair | machine busy % A/B per pair | errors |');
  lines.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---:|');
  for (const c of cells.values()) {
    lines.push(`| ${c.target} | ${c.load} | ${c.connections} | ${c.rpsRatio.length} | ${median(c.aRps).toFixed(0)} | ${median(c.bRps).toFixed(0)} | ${median(c.rpsRatio).toFixed(2)}x | ${median(c.aP99)} | ${median(c.bP99)} | ${((median(c.p99Ratio) - 1) * 100).toFixed(1)}% | ${c.p99Ratio.map((x) => x.toFixed(2)).join(', ')} | ${c.busy.join(', ')} | ${c.errors} |`);
  }
} else {
  const cells = new Map();
  for (const r of rows.filter((r) => r.wrk)) {
    const k = `${r.target}|${r.load}`;
    if (!cells.has(k)) cells.set(k, { target: r.target, load: r.load, connections: r.connections, rps: [], p50: [], p99: [], busy: [], quiet: [], errors: 0 });
    const c = cells.get(k), w = r.wrk;
    c.rps.push(w.rps); c.p50.push(w.latency_us.p50); c.p99.push(w.latency_us.p99); c.busy.push(r.machineBusyPct); c.quiet.push(r.quietBeforePct);
    c.errors += errorsOf(w);
  }
  lines.push('| target | load | conns | runs | req/s (median) | vs legacy | p50 µs | p99 µs (median) | p99 vs legacy | p99 per run | machine busy % before / during, per run | errors |', '|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|---:|');
  for (const c of cells.values()) {
    const b = cells.get(`legacy|${c.load}`);
    const rps = median(c.rps), p99 = median(c.p99);
    const ratio = b ? (rps / median(b.rps)).toFixed(2) + 'x' : '-';
    const dp99 = b ? ((100 * (p99 - median(b.p99))) / median(b.p99)).toFixed(1) + '%' : '-';
    lines.push(`| ${c.target} | ${c.load} | ${c.connections} | ${c.rps.length} | ${rps.toFixed(0)} | ${ratio} | ${median(c.p50)} | ${p99} | ${dp99} | ${c.p99.join(', ')} | ${c.quiet.map((q, i) => `${q}/${c.busy[i]}`).join(', ')} | ${c.errors} |`);
  }
}
const comparisons = {};
for (const r of rows.filter((r) => r.comparison)) {
  const t = (comparisons[r.target] ??= { compared: 0, mismatchGroups: 0, skipped: {} });
  t.mismatchGroups = Math.max(t.mismatchGroups, (r.comparison.groups ?? []).length);
  for (const e of r.comparison.endpoints ?? []) {
    t.compared += e.compared;
    for (const [k, v] of Object.entries(e.skipped)) t.skipped[k] = (t.skipped[k] ?? 0) + v;
  }
}
lines.push('', '| target | compared | mismatch groups | skipped |', '|---|---:|---:|---|');
for (const [t, c] of Object.entries(comparisons)) lines.push(`| ${t} | ${c.compared} | ${c.mismatchGroups} | ${Object.entries(c.skipped).map(([k, v]) => `${k} ${v}`).join(', ') || '-'} |`);
lines.push('', `Candidate backends scheduled: ${process.env.CANDIDATE_SCHED} (CANDIDATE_SCHED).`);
fs.writeFileSync(out, JSON.stringify({ candidateSched: process.env.CANDIDATE_SCHED, rows }, null, 2));
console.log(lines.join('\n'));
JS
log "results written to ${OUT#"$ROOT"/}"
