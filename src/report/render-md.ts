/**
 * The report as markdown: readable in a terminal, a pull request or a CI
 * log, with every number the verdict rests on.
 */
import type { EndpointReport, Report, RouteReport } from './build-report.ts';
import { DASH, describeState, formatMs, formatRate, formatRatio, formatTime, OUTCOME_LABEL, preview, VERDICT_LABEL } from './report-format.ts';

/** Pipes and newlines would break a table row. */
const cell = (v: string | number): string => String(v).replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');

function table(headers: string[], rows: Array<Array<string | number>>): string {
  return [`| ${headers.map(cell).join(' | ')} |`, `| ${headers.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join('\n');
}

function criteriaLines(r: Report): string {
  const c = r.criteria;
  const rows: Array<[string, string]> = [
    ['no open mismatch group', 'accepted, ignored and noise groups do not block'],
    ['p95 ratio (candidate / legacy)', `at most ${c.maxP95Ratio}x`],
    ['candidate error rate, 95% upper bound', `at most legacy's rate + ${formatRate(c.errorRateMargin)}`],
    ['mismatch rate, 95% upper bound', c.maxMismatchRate === undefined ? 'not checked' : `at most ${formatRate(c.maxMismatchRate)}`],
    ['enough data', `${c.minCompared} compared pairs, ${c.minRequests} responses per backend; insufficient data ${c.allowInsufficient ? 'allowed' : 'is No-Go'}`],
  ];
  return table(['Criterion', 'Required'], rows);
}

function endpointSection(e: EndpointReport): string {
  const parts: string[] = [];
  parts.push(`#### ${e.endpoint} — ${VERDICT_LABEL[e.verdict]}`);
  parts.push(table(['Check', 'Outcome', 'Evidence'], e.checks.map((k) => [k.name, OUTCOME_LABEL[k.outcome], k.detail])));
  const cmp = e.comparison;
  const skipped = Object.entries(cmp.skippedByReason)
    .map(([why, n]) => `${why} ${n}`)
    .join(', ');
  parts.push(
    `Compared ${cmp.compared} pairs: ${cmp.mismatch} mismatched, rate ${formatRate(cmp.mismatchRate)} (95% upper bound ${formatRate(cmp.mismatchRateUpper)})${cmp.skipped > 0 ? `; ${cmp.skipped} skipped (${skipped})` : ''}.`,
  );
  const l = e.legacy;
  const c = e.candidate;
  parts.push(
    table(
      ['', 'Legacy', 'Candidate', 'Candidate / legacy'],
      [
        ['requests', l.requests, c.requests, DASH],
        ['errors (5xx + failures)', l.errors, c.errors, DASH],
        ['error rate', formatRate(l.errorRate), formatRate(c.errorRate), DASH],
        ['error rate, 95% upper bound', formatRate(l.errorRateUpper), formatRate(c.errorRateUpper), DASH],
        ['latency samples', l.latencyCount, c.latencyCount, DASH],
        ['p50', formatMs(l.p50), formatMs(c.p50), formatRatio(e.ratios.p50)],
        ['p95', formatMs(l.p95), formatMs(c.p95), formatRatio(e.ratios.p95)],
        ['p99', formatMs(l.p99), formatMs(c.p99), formatRatio(e.ratios.p99)],
      ],
    ),
  );
  const roles = [...l.byRole.map((r) => ({ backend: 'legacy', ...r })), ...c.byRole.map((r) => ({ backend: 'candidate', ...r }))];
  if (roles.length > 0) {
    parts.push(table(['Backend', 'Role', 'Requests', 'Errors', 'Error rate', 'p95'], roles.map((r) => [r.backend, r.role, r.requests, r.errors, formatRate(r.errorRate), formatMs(r.p95)])));
  }
  if (e.differences.length > 0) {
    const g = e.groupCounts;
    parts.push(`Top differences (${g.open} open, ${g.blocking} blocking, ${g.accepted} accepted, ${g.ignored} ignored, ${g.noise} noise):`);
    parts.push(
      table(
        ['Count', 'Method', 'Path', 'Kind', 'Status', 'Example'],
        e.differences.map((d) => {
          const x = d.example;
          const example =
            x === null
              ? DASH
              : `${x.method} ${x.url} (${x.legacyStatus ?? DASH} vs ${x.candidateStatus ?? DASH})${x.path !== null ? ` at ${x.path}: legacy ${preview(x.legacy)}, candidate ${preview(x.candidate)}` : ''}`;
          const status = `${d.status}${d.noise ? ' (noise)' : ''}${d.blocking ? ' — blocking' : ''}${d.triageReason ? `: ${d.triageReason}` : ''}`;
          return [d.count, d.method, d.path, d.kind, status, example];
        }),
      ),
    );
  }
  return parts.join('\n\n');
}

function routeSection(r: RouteReport): string {
  const parts = [`### Route ${r.route} — ${VERDICT_LABEL[r.verdict]}`];
  const ro = r.rollout;
  parts.push(
    ro === null
      ? 'Rollout: none recorded.'
      : `Rollout \`${ro.key}\`: ${ro.status}, step ${ro.step + 1}/${ro.steps}${ro.stepLabel ? ` (${ro.stepLabel})` : ''}${ro.reason ? ` — ${ro.reason}` : ''}${ro.problem ? ` — unreadable: ${ro.problem}` : ''}, updated ${ro.updatedAt > 0 ? formatTime(ro.updatedAt) : DASH}.`,
  );
  if (r.history.length > 0) {
    parts.push(table(['Time', 'Subject', 'Action', 'Actor', 'From', 'To'], r.history.map((h) => [formatTime(h.time), h.subject, h.action, h.actor, describeState(h.from), describeState(h.to)])));
  }
  if (r.endpoints.length === 0) parts.push('No data for this route in the window.');
  for (const e of r.endpoints) parts.push(endpointSection(e));
  return parts.join('\n\n');
}

/**
 * @example
 * writeFileSync('report.md', renderMarkdown(buildReport(input)));
 */
export function renderMarkdown(report: Report): string {
  const parts: string[] = [];
  parts.push(`# Cutover Go/No-Go report: ${VERDICT_LABEL[report.verdict]}`);
  parts.push(
    `Window ${formatTime(report.from)} – ${formatTime(report.to)}${report.route !== null ? `, route ${report.route}` : ''}. Bounds are one-sided at ${Math.round(report.confidence * 100)}% (Clopper-Pearson).`,
  );
  parts.push(report.reasons.map((r) => `- ${r}`).join('\n'));
  parts.push('## Criteria');
  parts.push(criteriaLines(report));
  parts.push('## Endpoints');
  const all = report.routes.flatMap((r) => r.endpoints);
  parts.push(
    all.length === 0
      ? 'No endpoint has data in the window.'
      : table(
          ['Route', 'Endpoint', 'Verdict', 'Compared', 'Mismatch rate (upper)', 'Blocking groups', 'p95 legacy', 'p95 candidate', 'p95 ratio', 'Errors legacy', 'Errors candidate'],
          all.map((e) => [
            e.route,
            e.endpoint,
            VERDICT_LABEL[e.verdict],
            e.comparison.compared,
            `${formatRate(e.comparison.mismatchRate)} (${formatRate(e.comparison.mismatchRateUpper)})`,
            e.groupCounts.blocking,
            formatMs(e.legacy.p95),
            formatMs(e.candidate.p95),
            formatRatio(e.ratios.p95),
            formatRate(e.legacy.errorRate),
            formatRate(e.candidate.errorRate),
          ]),
        ),
  );
  parts.push('## Routes');
  for (const r of report.routes) parts.push(routeSection(r));
  if (report.globalHistory.length > 0) {
    parts.push('## Global actions');
    parts.push(table(['Time', 'Action', 'Actor'], report.globalHistory.map((h) => [formatTime(h.time), h.action, h.actor])));
  }
  if (report.unreadableBuckets > 0) parts.push(`Note: ${report.unreadableBuckets} stored telemetry buckets could not be read and are not counted.`);
  return `${parts.join('\n\n')}\n`;
}
