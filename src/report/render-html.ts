/**
 * The report as one self-contained HTML file: inline CSS and inline SVG
 * charts drawn here, no scripts, fonts or URLs, so it can be attached to a
 * ticket or archived as a CI artifact and still open years later, offline.
 */
import type { EndpointReport, Report, RouteReport, Verdict } from './build-report.ts';
import { DASH, describeState, formatMs, formatRate, formatRatio, formatTime, OUTCOME_LABEL, preview, VERDICT_LABEL } from './report-format.ts';

const esc = (v: string | number): string =>
  String(v).replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;color:#1d2430}
h1{font-size:1.6rem}h2{margin-top:2rem;border-bottom:1px solid #d5dae1}h3{margin-top:1.6rem}h4{margin:1.2rem 0 .4rem}
table{border-collapse:collapse;margin:.5rem 0 1rem;font-size:13px}th,td{border:1px solid #d5dae1;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f2f4f7}td.n{text-align:right;font-variant-numeric:tabular-nums}
.badge{display:inline-block;padding:.1rem .5rem;border-radius:.6rem;font-weight:600;font-size:12px}
.go{background:#d9f2e1;color:#14592e}.no-go{background:#fadcdc;color:#8a1c1c}.insufficient{background:#fbefcf;color:#6b4f00}
.fail{color:#8a1c1c;font-weight:600}.pass{color:#14592e}
.verdict{font-size:1.2rem;padding:.3rem .8rem}
ul.reasons li{margin:.2rem 0}
code{background:#f2f4f7;padding:0 .2rem;border-radius:.2rem}
svg text{font:12px system-ui,sans-serif;fill:#1d2430}
.muted{color:#677285}
`;

const COLOR: Record<Verdict, string> = { go: '#2e8b57', 'no-go': '#c0392b', insufficient: '#d4a017' };
const LEGACY_COLOR = '#7f8c9a';
const CANDIDATE_COLOR = '#2f6db5';

const badge = (v: Verdict): string => `<span class="badge ${v}">${esc(VERDICT_LABEL[v])}</span>`;

function table(headers: string[], rows: Array<Array<string | number>>, numeric: number[] = []): string {
  const head = `<tr>${headers.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>`;
  // Cells are escaped by the caller when they are already HTML (badges); plain values are escaped here.
  const body = rows.map((r) => `<tr>${r.map((c, i) => `<td${numeric.includes(i) ? ' class="n"' : ''}>${typeof c === 'number' ? esc(c) : c}</td>`).join('')}</tr>`).join('');
  return `<table>${head}${body}</table>`;
}

const label = (e: EndpointReport): string => `${e.route} ${e.endpoint}`;
const clip = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** A scale's top: the largest value, rounded up to a readable step. */
function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/** Mismatch rate per endpoint as bars, the 95% upper bound as a whisker. */
export function mismatchChart(endpoints: readonly EndpointReport[]): string {
  const rows = endpoints.filter((e) => e.comparison.compared > 0);
  if (rows.length === 0) return '<p class="muted">No compared pairs to chart.</p>';
  const left = 260;
  const width = 520;
  const rowH = 22;
  const top = 10;
  const max = niceMax(Math.max(...rows.map((e) => e.comparison.mismatchRateUpper ?? 0), 0.001));
  const x = (v: number) => left + (width * v) / max;
  const h = top + rows.length * rowH + 30;
  const bars = rows
    .map((e, i) => {
      const y = top + i * rowH;
      const rate = e.comparison.mismatchRate ?? 0;
      const upper = e.comparison.mismatchRateUpper ?? rate;
      return [
        `<text x="${left - 8}" y="${y + 14}" text-anchor="end">${esc(clip(label(e), 38))}</text>`,
        `<rect x="${left}" y="${y + 3}" width="${Math.max(1, x(rate) - left).toFixed(1)}" height="${rowH - 8}" fill="${COLOR[e.verdict]}"><title>${esc(`${label(e)}: ${formatRate(rate)}, upper bound ${formatRate(upper)}`)}</title></rect>`,
        `<line x1="${x(rate).toFixed(1)}" x2="${x(upper).toFixed(1)}" y1="${y + 11}" y2="${y + 11}" stroke="#1d2430" stroke-width="1.5"/>`,
        `<line x1="${x(upper).toFixed(1)}" x2="${x(upper).toFixed(1)}" y1="${y + 6}" y2="${y + 16}" stroke="#1d2430" stroke-width="1.5"/>`,
        `<text x="${(x(upper) + 6).toFixed(1)}" y="${y + 14}">${esc(formatRate(rate))}</text>`,
      ].join('');
    })
    .join('');
  const axisY = top + rows.length * rowH + 4;
  const ticks = [0, 0.25, 0.5, 0.75, 1]
    .map((f) => `<line x1="${x(f * max)}" x2="${x(f * max)}" y1="${top}" y2="${axisY}" stroke="#e3e7ec"/><text x="${x(f * max)}" y="${axisY + 16}" text-anchor="middle">${esc(formatRate(f * max))}</text>`)
    .join('');
  return `<svg role="img" aria-label="Mismatch rate per endpoint" width="${left + width + 80}" height="${h}" viewBox="0 0 ${left + width + 80} ${h}">${ticks}${bars}</svg>`;
}

/** Per endpoint, legacy and candidate: a bar to p95 and a whisker from p50 to p99. */
export function latencyChart(endpoints: readonly EndpointReport[]): string {
  const rows = endpoints.filter((e) => e.legacy.p95 !== null || e.candidate.p95 !== null);
  if (rows.length === 0) return '<p class="muted">No latency to chart.</p>';
  const left = 260;
  const width = 520;
  const barH = 12;
  const groupH = 2 * barH + 14;
  const top = 24;
  const max = niceMax(Math.max(...rows.flatMap((e) => [e.legacy.p99 ?? 0, e.candidate.p99 ?? 0, e.legacy.p95 ?? 0, e.candidate.p95 ?? 0])));
  const x = (v: number) => left + (width * v) / max;
  const h = top + rows.length * groupH + 30;
  const side = (y: number, s: EndpointReport['legacy'], color: string, name: string, e: EndpointReport): string => {
    if (s.p95 === null) return `<text x="${left + 4}" y="${y + barH - 2}" class="muted">${esc(name)}: no data</text>`;
    const whisker =
      s.p50 !== null && s.p99 !== null
        ? `<line x1="${x(s.p50).toFixed(1)}" x2="${x(s.p99).toFixed(1)}" y1="${y + barH / 2}" y2="${y + barH / 2}" stroke="#1d2430"/><line x1="${x(s.p99).toFixed(1)}" x2="${x(s.p99).toFixed(1)}" y1="${y + 1}" y2="${y + barH - 1}" stroke="#1d2430"/>`
        : '';
    return `<rect x="${left}" y="${y}" width="${Math.max(1, x(s.p95) - left).toFixed(1)}" height="${barH}" fill="${color}"><title>${esc(`${label(e)} ${name}: p50 ${formatMs(s.p50)}, p95 ${formatMs(s.p95)}, p99 ${formatMs(s.p99)}`)}</title></rect>${whisker}<text x="${(x(Math.max(s.p95, s.p99 ?? 0)) + 6).toFixed(1)}" y="${y + barH - 2}">${esc(formatMs(s.p95))}</text>`;
  };
  const groups = rows
    .map((e, i) => {
      const y = top + i * groupH;
      return `<text x="${left - 8}" y="${y + barH + 4}" text-anchor="end">${esc(clip(label(e), 38))}</text><text x="${left - 8}" y="${y + 2 * barH + 6}" text-anchor="end" class="muted">${esc(formatRatio(e.ratios.p95))}</text>${side(y, e.legacy, LEGACY_COLOR, 'legacy', e)}${side(y + barH + 2, e.candidate, CANDIDATE_COLOR, 'candidate', e)}`;
    })
    .join('');
  const axisY = top + rows.length * groupH;
  const ticks = [0, 0.25, 0.5, 0.75, 1]
    .map((f) => `<line x1="${x(f * max)}" x2="${x(f * max)}" y1="${top - 4}" y2="${axisY}" stroke="#e3e7ec"/><text x="${x(f * max)}" y="${axisY + 16}" text-anchor="middle">${esc(formatMs(f * max))}</text>`)
    .join('');
  const legend = `<rect x="${left}" y="2" width="12" height="12" fill="${LEGACY_COLOR}"/><text x="${left + 16}" y="12">legacy p95</text><rect x="${left + 110}" y="2" width="12" height="12" fill="${CANDIDATE_COLOR}"/><text x="${left + 126}" y="12">candidate p95</text><text x="${left + 250}" y="12" class="muted">whisker: p50 to p99; left: p95 ratio</text>`;
  return `<svg role="img" aria-label="Latency legacy vs candidate per endpoint" width="${left + width + 80}" height="${h}" viewBox="0 0 ${left + width + 80} ${h}">${ticks}${legend}${groups}</svg>`;
}

function endpointSection(e: EndpointReport): string {
  const out: string[] = [`<h4>${esc(e.endpoint)} ${badge(e.verdict)}</h4>`];
  out.push(table(['Check', 'Outcome', 'Evidence'], e.checks.map((k) => [esc(k.name), `<span class="${k.outcome}">${esc(OUTCOME_LABEL[k.outcome])}</span>`, esc(k.detail)])));
  const cmp = e.comparison;
  out.push(
    `<p>Compared ${esc(cmp.compared)} pairs: ${esc(cmp.mismatch)} mismatched, rate ${esc(formatRate(cmp.mismatchRate))} (95% upper bound ${esc(formatRate(cmp.mismatchRateUpper))})${cmp.skipped > 0 ? `; ${esc(cmp.skipped)} skipped` : ''}.</p>`,
  );
  const l = e.legacy;
  const c = e.candidate;
  out.push(
    table(
      ['', 'Legacy', 'Candidate', 'Candidate / legacy'],
      [
        ['requests', l.requests, c.requests, DASH],
        ['errors (5xx + failures)', l.errors, c.errors, DASH],
        ['error rate', esc(formatRate(l.errorRate)), esc(formatRate(c.errorRate)), DASH],
        ['error rate, 95% upper bound', esc(formatRate(l.errorRateUpper)), esc(formatRate(c.errorRateUpper)), DASH],
        ['p50', esc(formatMs(l.p50)), esc(formatMs(c.p50)), esc(formatRatio(e.ratios.p50))],
        ['p95', esc(formatMs(l.p95)), esc(formatMs(c.p95)), esc(formatRatio(e.ratios.p95))],
        ['p99', esc(formatMs(l.p99)), esc(formatMs(c.p99)), esc(formatRatio(e.ratios.p99))],
      ],
      [1, 2, 3],
    ),
  );
  if (e.differences.length > 0) {
    out.push(
      table(
        ['Count', 'Method', 'Path', 'Kind', 'Status', 'Example'],
        e.differences.map((d) => {
          const x = d.example;
          const example =
            x === null
              ? DASH
              : `<code>${esc(`${x.method} ${x.url}`)}</code> (${esc(x.legacyStatus ?? DASH)} vs ${esc(x.candidateStatus ?? DASH)})${x.path !== null ? ` at <code>${esc(x.path)}</code>: legacy <code>${esc(preview(x.legacy))}</code>, candidate <code>${esc(preview(x.candidate))}</code>` : ''}`;
          const status = `${esc(d.status)}${d.noise ? ' (noise)' : ''}${d.blocking ? ' <span class="fail">blocking</span>' : ''}${d.triageReason ? `: ${esc(d.triageReason)}` : ''}`;
          return [d.count, esc(d.method), `<code>${esc(d.path)}</code>`, esc(d.kind), status, example];
        }),
        [0],
      ),
    );
  }
  return out.join('\n');
}

function routeSection(r: RouteReport): string {
  const out = [`<h3>Route ${esc(r.route)} ${badge(r.verdict)}</h3>`];
  const ro = r.rollout;
  out.push(
    ro === null
      ? '<p>Rollout: none recorded.</p>'
      : `<p>Rollout <code>${esc(ro.key)}</code>: ${esc(ro.status)}, step ${esc(ro.step + 1)}/${esc(ro.steps)}${ro.stepLabel ? ` (${esc(ro.stepLabel)})` : ''}${ro.reason ? ` — ${esc(ro.reason)}` : ''}${ro.problem ? ` — unreadable: ${esc(ro.problem)}` : ''}.</p>`,
  );
  if (r.history.length > 0) {
    out.push(table(['Time', 'Subject', 'Action', 'Actor', 'From', 'To'], r.history.map((h) => [esc(formatTime(h.time)), esc(h.subject), esc(h.action), esc(h.actor), esc(describeState(h.from)), esc(describeState(h.to))])));
  }
  for (const e of r.endpoints) out.push(endpointSection(e));
  return out.join('\n');
}

/**
 * @example
 * writeFileSync('report.html', renderHtml(buildReport(input))); // one file, opens offline
 */
export function renderHtml(report: Report): string {
  const all = report.routes.flatMap((r) => r.endpoints);
  const c = report.criteria;
  const verdict = report.verdict === 'go' ? 'go' : 'no-go';
  const body = [
    `<h1>Cutover Go/No-Go report <span class="badge verdict ${verdict}">${esc(VERDICT_LABEL[report.verdict])}</span></h1>`,
    `<p class="muted">Window ${esc(formatTime(report.from))} – ${esc(formatTime(report.to))}${report.route !== null ? `, route ${esc(report.route)}` : ''}. Bounds are one-sided at ${esc(Math.round(report.confidence * 100))}% (Clopper-Pearson).</p>`,
    `<ul class="reasons">${report.reasons.map((r) => `<li>${esc(r)}</li>`).join('')}</ul>`,
    '<h2>Criteria</h2>',
    table(
      ['Criterion', 'Required'],
      [
        ['no open mismatch group', 'accepted, ignored and noise groups do not block'],
        ['p95 ratio (candidate / legacy)', esc(`at most ${c.maxP95Ratio}x`)],
        ['candidate error rate, 95% upper bound', esc(`at most legacy's rate + ${formatRate(c.errorRateMargin)}`)],
        ['mismatch rate, 95% upper bound', esc(c.maxMismatchRate === undefined ? 'not checked' : `at most ${formatRate(c.maxMismatchRate)}`)],
        ['enough data', esc(`${c.minCompared} compared pairs, ${c.minRequests} responses per backend; insufficient data ${c.allowInsufficient ? 'allowed' : 'is No-Go'}`)],
      ],
    ),
    '<h2>Endpoints</h2>',
    all.length === 0
      ? '<p>No endpoint has data in the window.</p>'
      : table(
          ['Route', 'Endpoint', 'Verdict', 'Compared', 'Mismatch rate (upper)', 'Blocking groups', 'p95 legacy', 'p95 candidate', 'p95 ratio', 'Errors legacy', 'Errors candidate'],
          all.map((e) => [
            esc(e.route),
            esc(e.endpoint),
            badge(e.verdict),
            e.comparison.compared,
            esc(`${formatRate(e.comparison.mismatchRate)} (${formatRate(e.comparison.mismatchRateUpper)})`),
            e.groupCounts.blocking,
            esc(formatMs(e.legacy.p95)),
            esc(formatMs(e.candidate.p95)),
            esc(formatRatio(e.ratios.p95)),
            esc(formatRate(e.legacy.errorRate)),
            esc(formatRate(e.candidate.errorRate)),
          ]),
          [3, 4, 5, 6, 7, 8, 9, 10],
        ),
    '<h3>Mismatch rate per endpoint</h3>',
    mismatchChart(all),
    '<h3>Latency, legacy vs candidate</h3>',
    latencyChart(all),
    '<h2>Routes</h2>',
    ...report.routes.map(routeSection),
    report.globalHistory.length > 0
      ? `<h2>Global actions</h2>${table(['Time', 'Action', 'Actor'], report.globalHistory.map((h) => [esc(formatTime(h.time)), esc(h.action), esc(h.actor)]))}`
      : '',
    report.unreadableBuckets > 0 ? `<p class="muted">${esc(report.unreadableBuckets)} stored telemetry buckets could not be read and are not counted.</p>` : '',
  ].join('\n');
  return `<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>Cutover report: ${esc(VERDICT_LABEL[report.verdict])}</title>\n<style>${CSS}</style>\n</head>\n<body>\n${body}\n</body>\n</html>\n`;
}
