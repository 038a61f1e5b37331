/**
 * Turns the rows bench/proxy.sh collected into markdown tables (stdout) and one
 * JSON document (--out). Also evaluates the acceptance targets in CHECKS.
 *
 *   node bench/report.ts --meta meta.json --rows rows.jsonl --out bench/results/proxy-<stamp>.json
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface WrkResult {
  requests: number;
  duration_us: number;
  bytes: number;
  rps: number;
  errors: { connect: number; read: number; write: number; status: number; timeout: number };
  latency_us: { min: number; mean: number; stdev: number; max: number; p50: number; p75: number; p90: number; p99: number; p999: number };
}

interface Row {
  target: string;
  round?: number;
  label: string;
  status: string;
  load?: string;
  path?: string;
  connections?: number;
  wallNs?: number;
  proxyCpuTicks?: number | null;
  backendCpuTicks?: number;
  wrkCpuMs?: number;
  machineBusyTicks?: number;
  detail?: string;
  wrk?: WrkResult;
}

interface Load {
  id: string;
  path: string;
  connections: number;
  /** With pinning: the backend shares the core of wrk (`load`) or of the proxy (`proxy`). */
  backendCore?: 'load' | 'proxy';
}

interface Meta {
  stamp: string;
  command: string;
  gitRev: string;
  settings: { startWarmup?: number; rounds: number; aggregate?: 'quietest' | 'median'; nice: number; duration: number; warmup: number; connections: number; latencyConnections: number; pin: number; proxyCpu: string; loadCpu: string; backendWorkers: number; clkTck: number };
  machine: { cpus: number; cpuModel: string; memGiB: number; kernel: string };
  versions: Record<string, string>;
  loads: Load[];
}

/** Derived numbers for one (target, load) measurement. */
interface Measurement {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  /** Proxy CPU time per request (µs): its cost, whether or not it was the bottleneck. */
  proxyUsPerRequest: number | null;
  /** CPU use during the measured run, in % of one core. */
  proxyCpuPct: number | null;
  backendCpuPct: number | null;
  wrkCpuPct: number | null;
  /** Everything else on the machine (other engineers' processes, kernel): noise. */
  otherCpuPct: number | null;
  /** Rounds that produced a result, and (max - min) / median of their rps. */
  rounds: number;
  rpsSpread: number;
}

/**
 * Acceptance targets. `throughput` checks apply to every load run at
 * CONNECTIONS, `latency` checks to every load run at LATENCY_CONNECTIONS.
 */
type Check =
  | { target: string; kind: 'rps-ratio'; vs: string; min: number; gate: boolean }
  | { target: string; kind: 'p99-delta-us'; vs: string; max: number; gate: boolean };
const CHECKS: Check[] = [
  { target: 'cutover-legacy', kind: 'rps-ratio', vs: 'fastify-http-proxy', min: 1.6, gate: true },
  { target: 'cutover-legacy', kind: 'rps-ratio', vs: 'nginx', min: 0.2, gate: true },
  { target: 'cutover-legacy', kind: 'p99-delta-us', vs: 'direct', max: 400, gate: true },
  // Telemetry at its defaults costs at most 10 % of legacy-mode throughput (issue: telemetry).
  { target: 'cutover-legacy', kind: 'rps-ratio', vs: 'cutover-telemetry-off', min: 0.9, gate: true },
  { target: 'cutover-canary50', kind: 'rps-ratio', vs: 'fastify-http-proxy', min: 1.6, gate: false },
  // Context for the fastify target: can node:http + undici reach it at all on this machine?
  { target: 'undici-floor', kind: 'rps-ratio', vs: 'fastify-http-proxy', min: 1.6, gate: false },
  { target: 'cutover-canary50', kind: 'rps-ratio', vs: 'nginx', min: 0.2, gate: false },
  { target: 'cutover-canary50', kind: 'p99-delta-us', vs: 'direct', max: 400, gate: false },
  // With TLS on the client side, the same bar against nginx doing TLS too.
  { target: 'cutover-tls', kind: 'rps-ratio', vs: 'nginx-tls', min: 0.2, gate: false },
];

/** Columns of ratios in every table: throughput relative to these targets. */
const RATIO_BASES: { id: string; header: string }[] = [
  { id: 'direct', header: '× direct' },
  { id: 'nginx', header: '× nginx' },
  { id: 'fastify-http-proxy', header: '× fastify' },
];

const { values } = parseArgs({ options: { meta: { type: 'string' }, rows: { type: 'string' }, out: { type: 'string' } }, strict: true });
if (!values.meta || !values.rows) throw new Error('--meta and --rows are required');
const meta = JSON.parse(readFileSync(values.meta, 'utf8')) as Meta;
const rows = readFileSync(values.rows, 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => JSON.parse(l) as Row);

const targets: { id: string; label: string }[] = [];
for (const r of rows) if (!targets.some((t) => t.id === r.target)) targets.push({ id: r.target, label: r.label });

function median(xs: number[]): number {
  const v = [...xs].sort((a, b) => a - b);
  const mid = v.length >> 1;
  return v.length % 2 === 1 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/** One round's numbers for (target, load). */
function sample(r: Row & { wrk: WrkResult }): Measurement {
  const e = r.wrk.errors;
  const wallS = (r.wallNs ?? 0) / 1e9;
  const pct = (ticks: number | null | undefined): number | null =>
    ticks === null || ticks === undefined || wallS <= 0 ? null : ((ticks / meta.settings.clkTck) / wallS) * 100;
  const proxy = pct(r.proxyCpuTicks);
  const backend = pct(r.backendCpuTicks);
  const wrk = r.wrkCpuMs === undefined || wallS <= 0 ? null : (r.wrkCpuMs / 1000 / wallS) * 100;
  const machine = pct(r.machineBusyTicks);
  const other = machine === null || backend === null || wrk === null ? null : machine - (proxy ?? 0) - backend - wrk;
  const proxyUs = r.proxyCpuTicks === null || r.proxyCpuTicks === undefined || r.wrk.requests === 0 ? null : ((r.proxyCpuTicks / meta.settings.clkTck) * 1e6) / r.wrk.requests;
  return {
    rps: r.wrk.rps,
    proxyUsPerRequest: proxyUs,
    p50: r.wrk.latency_us.p50,
    p99: r.wrk.latency_us.p99,
    errors: e.connect + e.read + e.write + e.status + e.timeout,
    proxyCpuPct: proxy,
    backendCpuPct: backend,
    wrkCpuPct: wrk,
    otherCpuPct: other,
    rounds: 1,
    rpsSpread: 0,
  };
}

const medianOrNull = (xs: (number | null)[]): number | null => {
  const v = xs.filter((x): x is number => x !== null);
  return v.length === 0 ? null : median(v);
};

/**
 * One number set per (target, load) out of its rounds. `quietest`: the round in
 * which the rest of the machine used the least CPU (noise only ever subtracts, so
 * that round is the best estimate of the uncontended result). `median`: the
 * median of every number on its own.
 */
function measurement(target: string, load: string): Measurement | undefined {
  const samples = rows
    .filter((x): x is Row & { wrk: WrkResult } => x.target === target && x.load === load && x.status === 'ok' && x.wrk !== undefined)
    .map(sample);
  if (samples.length === 0) return undefined;
  const rps = samples.map((m) => m.rps);
  const mid = median(rps);
  const spread = { rounds: samples.length, rpsSpread: mid === 0 ? 0 : (Math.max(...rps) - Math.min(...rps)) / mid };
  if (meta.settings.aggregate !== 'median') {
    const quietest = samples.reduce((best, m) => ((m.otherCpuPct ?? Infinity) < (best.otherCpuPct ?? Infinity) ? m : best));
    return { ...quietest, ...spread };
  }
  return {
    rps: mid,
    proxyUsPerRequest: medianOrNull(samples.map((m) => m.proxyUsPerRequest)),
    p50: median(samples.map((m) => m.p50)),
    p99: median(samples.map((m) => m.p99)),
    errors: samples.reduce((a, m) => a + m.errors, 0),
    proxyCpuPct: medianOrNull(samples.map((m) => m.proxyCpuPct)),
    backendCpuPct: medianOrNull(samples.map((m) => m.backendCpuPct)),
    wrkCpuPct: medianOrNull(samples.map((m) => m.wrkCpuPct)),
    otherCpuPct: medianOrNull(samples.map((m) => m.otherCpuPct)),
    ...spread,
  };
}

/**
 * Comparisons between two targets are paired by round: the ratio (or
 * difference) within each round in which both ran, then the median of those.
 * Rounds are interleaved, so both sides of a pair saw about the same machine;
 * this cancels most of the drift that moves every target at once.
 */
function perRound(target: string, load: string): Map<number, Measurement> {
  const byRound = new Map<number, Measurement>();
  for (const r of rows) {
    if (r.target === target && r.load === load && r.status === 'ok' && r.wrk !== undefined) byRound.set(r.round ?? 1, sample(r as Row & { wrk: WrkResult }));
  }
  return byRound;
}

function paired(target: string, base: string, load: string, f: (t: Measurement, b: Measurement) => number): { median: number; rounds: number[] } | undefined {
  const t = perRound(target, load);
  const b = perRound(base, load);
  const values: number[] = [];
  for (const round of [...t.keys()].sort((x, y) => x - y)) {
    const m = t.get(round);
    const other = b.get(round);
    if (m !== undefined && other !== undefined) values.push(f(m, other));
  }
  return values.length === 0 ? undefined : { median: median(values), rounds: values };
}
const rpsRatio = (target: string, base: string, load: string) => paired(target, base, load, (t, b) => (b.rps === 0 ? NaN : t.rps / b.rps));
const p99Delta = (target: string, base: string, load: string) => paired(target, base, load, (t, b) => t.p99 - b.p99);

function failure(target: string, load?: string): string | undefined {
  const r = rows.find((x) => x.target === target && x.status !== 'ok' && (x.load === undefined || x.load === load));
  return r?.status;
}

const fmtInt = (n: number): string => Math.round(n).toLocaleString('en-US');
const fmtUs = (us: number): string => (us < 1000 ? `${Math.round(us)} µs` : `${(us / 1000).toFixed(2)} ms`);
const fmtRatio = (r: number): string => `${r.toFixed(2)}×`;
const fmtPct = (p: number | null): string => (p === null ? '–' : `${Math.round(p)}`);
const fmtCpu = (m: Measurement): string =>
  [m.proxyCpuPct, m.backendCpuPct, m.wrkCpuPct, m.otherCpuPct === null ? null : Math.max(0, m.otherCpuPct)].map(fmtPct).join(' / ');
const fmtDelta = (us: number): string => `${us >= 0 ? '+' : '−'}${fmtUs(Math.abs(us))}`;

const out: string[] = [];
const s = meta.settings;
out.push(`### Run ${meta.stamp} (git ${meta.gitRev})`);
out.push('');
out.push(
  `Machine: ${meta.machine.cpus} cores (${meta.machine.cpuModel}), ${meta.machine.memGiB} GiB RAM, Linux ${meta.machine.kernel}. ` +
    `Versions: ${Object.entries(meta.versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}.`,
);
out.push(
  `Settings: wrk -t1, ${s.duration}s per run after ${s.warmup}s warm-up` +
    (s.startWarmup ? ` (and ${s.startWarmup}s more when a target starts)` : '') +
    `, ${s.rounds} round${s.rounds === 1 ? '' : 's'}` +
    (s.rounds > 1
      ? s.aggregate === 'median'
        ? ' (medians over rounds; spread = (max − min) / median of rps)'
        : ' (each cell is the round in which the rest of the machine was quietest; spread = (max − min) / median of rps over rounds)'
      : '') +

    (s.nice !== 0 ? `, nice ${s.nice}` : '') +
    '; ' +
    (s.pin === 1 ? `proxy pinned to CPU ${s.proxyCpu}, wrk to CPU ${s.loadCpu}, backend as each table says` : 'no CPU pinning') +
    `; backend workers: ${s.backendWorkers}.`,
);
out.push(
  'CPU columns are % of one core during the measured run; "other" is the rest of the machine (noise: it should be near 0). ' +
    '"proxy CPU µs/req" is what one request costs the proxy, a fair comparison even where the proxy is not the bottleneck.',
);
out.push('');

for (const load of meta.loads) {
  const layout =
    s.pin !== 1 ? '' : load.backendCore === 'proxy' ? `; backend on CPU ${s.proxyCpu} with the proxy, wrk alone on CPU ${s.loadCpu}` : `; proxy alone on CPU ${s.proxyCpu}, backend + wrk on CPU ${s.loadCpu}`;
  out.push(`#### ${load.path} (${load.path === '/large' ? '16 KiB' : '~200 B'}), ${load.connections} connection${load.connections === 1 ? '' : 's'}${layout}`);
  out.push('');
  const header = ['target', 'rps', ...(s.rounds > 1 ? ['rps spread'] : []), 'p50', 'p99', ...RATIO_BASES.map((b) => b.header), 'p99 − direct', 'proxy CPU µs/req', 'CPU % proxy / backend / wrk / other', 'errors'];
  out.push(`| ${header.join(' | ')} |`);
  out.push(`|${header.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`);
  const direct = measurement('direct', load.id);
  for (const t of targets) {
    const m = measurement(t.id, load.id);
    if (m === undefined) {
      const why = failure(t.id, load.id) ?? 'not run';
      out.push(`| ${t.label} | ${why} |${' |'.repeat(header.length - 2)}`);
      continue;
    }
    const ratios = RATIO_BASES.map((b) => {
      const base = measurement(b.id, load.id);
      return base === undefined || base.rps === 0 ? '–' : fmtRatio(m.rps / base.rps);
    });
    const delta = direct === undefined || t.id === 'direct' ? '–' : fmtDelta(m.p99 - direct.p99);
    out.push(
      `| ${t.label} | ${fmtInt(m.rps)} | ${s.rounds > 1 ? `${Math.round(m.rpsSpread * 100)}% | ` : ''}${fmtUs(m.p50)} | ${fmtUs(m.p99)} | ${ratios.join(' | ')} | ${delta} | ${m.proxyUsPerRequest === null ? '–' : m.proxyUsPerRequest.toFixed(1)} | ${fmtCpu(m)} | ${m.errors === 0 ? '0' : fmtInt(m.errors)} |`,
    );
  }
  out.push('');
}

interface CheckResult {
  target: string;
  load: string;
  check: string;
  value: string;
  perRound: string[];
  pass: boolean | null;
  gate: boolean;
}
const checkResults: CheckResult[] = [];
for (const c of CHECKS) {
  if (!targets.some((t) => t.id === c.target)) continue;
  const loads = meta.loads.filter((l) => (c.kind === 'rps-ratio' ? l.connections === s.connections : l.connections === s.latencyConnections));
  for (const load of loads) {
    const m = measurement(c.target, load.id);
    const base = measurement(c.vs, load.id);
    if (c.kind === 'rps-ratio') {
      const check = `rps ≥ ${c.min}× ${c.vs}`;
      if (m === undefined || base === undefined) {
        checkResults.push({ target: c.target, load: load.id, check, value: m === undefined ? (failure(c.target, load.id) ?? 'not run') : `${c.vs} not run`, perRound: [], pass: null, gate: c.gate });
      } else {
        const r = rpsRatio(c.target, c.vs, load.id);
        const v = r?.median ?? NaN;
        checkResults.push({ target: c.target, load: load.id, check, value: fmtRatio(v), perRound: r?.rounds.map(fmtRatio) ?? [], pass: v >= c.min, gate: c.gate });
      }
    } else {
      const check = `p99 ≤ ${c.vs} + ${c.max} µs`;
      if (m === undefined || base === undefined) {
        checkResults.push({ target: c.target, load: load.id, check, value: m === undefined ? (failure(c.target, load.id) ?? 'not run') : `${c.vs} not run`, perRound: [], pass: null, gate: c.gate });
      } else {
        const r = p99Delta(c.target, c.vs, load.id);
        const v = r?.median ?? NaN;
        checkResults.push({ target: c.target, load: load.id, check, value: fmtDelta(v), perRound: r?.rounds.map(fmtDelta) ?? [], pass: v <= c.max, gate: c.gate });
      }
    }
  }
}
if (checkResults.length > 0) {
  out.push('#### Targets');
  out.push('');
  out.push(
    'Each check compares the two targets within each round (rounds are interleaved, so both saw about the same machine) and takes the median over rounds.',
  );
  out.push('');
  out.push('| target | load | check | measured (median) | per round | result |');
  out.push('|---|---|---|---:|---|---|');
  for (const r of checkResults) {
    const verdict = r.pass === null ? 'pending' : r.pass ? 'met' : 'NOT met';
    out.push(`| ${r.target}${r.gate ? '' : ' (info)'} | ${r.load} | ${r.check} | ${r.value} | ${r.perRound.join(', ')} | ${verdict} |`);
  }
  out.push('');
}

process.stdout.write(out.join('\n') + '\n');

if (values.out) {
  const measured = rows.map((r) => (r.status === 'ok' && r.wrk !== undefined ? { ...r, derived: sample(r as Row & { wrk: WrkResult }) } : r));
  writeFileSync(values.out, JSON.stringify({ meta, rows: measured, checks: checkResults, markdown: out.join('\n') }, null, 2) + '\n');
}
