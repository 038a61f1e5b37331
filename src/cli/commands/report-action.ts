/**
 * What `cutover report` does, loaded only when the command runs (the store,
 * the schema and the renderers are most of the CLI's start-up time).
 */
import { writeFileSync } from 'node:fs';
import { loadConfigFile } from '../../config/load.ts';
import type { CutoverConfig } from '../../config/schema.ts';
import { tryParseDuration } from '../../core/duration.ts';
import { CutoverError, ErrorCodes } from '../../core/errors.ts';
import { buildReport, DEFAULT_CRITERIA, type Report, type ReportCriteria } from '../../report/build-report.ts';
import { renderHtml } from '../../report/render-html.ts';
import { renderMarkdown } from '../../report/render-md.ts';
import { openExistingStore, readReportRows } from '../../report/report-source.ts';
import { NoGoVerdict } from '../exit-codes.ts';

export interface ReportFlags {
  route?: string;
  since?: string;
  until?: string;
  format: string;
  out?: string;
  dataDir?: string;
  config?: string;
  maxP95Ratio?: string;
  errorRateMargin?: string;
  maxMismatchRate?: string;
  minCompared?: string;
  minRequests?: string;
  allowInsufficient?: boolean;
  top?: string;
}

const FORMATS = ['md', 'html', 'json'] as const;

function badInput(message: string, hint: string): CutoverError {
  return new CutoverError(ErrorCodes.INPUT_INVALID, message, { hint });
}

/** `24h` (that long before now) or an ISO time. */
export function parseWhen(value: string, now: number, flag: string): number {
  const ms = tryParseDuration(value);
  if (ms !== undefined) return now - ms;
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw badInput(`${flag} "${value}" is neither a duration nor a time`, `write ${flag} 24h, ${flag} 30m or ${flag} 2026-01-31T12:00:00Z`);
  return t;
}

function number(value: string | undefined, flag: string, min: number, max: number, integer = false): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    throw badInput(`${flag} "${value}" must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}`, `e.g. ${flag} ${integer ? 100 : 0.7}`);
  }
  return n;
}

/** Config file criteria, then flags over them. */
export function resolveCriteria(config: CutoverConfig | undefined, flags: ReportFlags): ReportCriteria {
  const fromFile = config?.report.criteria;
  const c: ReportCriteria = { ...DEFAULT_CRITERIA };
  if (fromFile !== undefined) {
    c.maxP95Ratio = fromFile.maxP95Ratio;
    c.errorRateMargin = fromFile.errorRateMargin;
    c.minCompared = fromFile.minCompared;
    c.minRequests = fromFile.minRequests;
    if (fromFile.maxMismatchRate !== undefined) c.maxMismatchRate = fromFile.maxMismatchRate;
  }
  c.maxP95Ratio = number(flags.maxP95Ratio, '--max-p95-ratio', 0.000001, 1e6) ?? c.maxP95Ratio;
  c.errorRateMargin = number(flags.errorRateMargin, '--error-rate-margin', 0, 1) ?? c.errorRateMargin;
  const mm = number(flags.maxMismatchRate, '--max-mismatch-rate', 0, 1);
  if (mm !== undefined) c.maxMismatchRate = mm;
  c.minCompared = number(flags.minCompared, '--min-compared', 0, 1e12, true) ?? c.minCompared;
  c.minRequests = number(flags.minRequests, '--min-requests', 0, 1e12, true) ?? c.minRequests;
  c.allowInsufficient = flags.allowInsufficient === true;
  return c;
}

export function renderReport(report: Report, format: (typeof FORMATS)[number]): string {
  if (format === 'json') return `${JSON.stringify(report, null, 2)}\n`;
  if (format === 'html') return renderHtml(report);
  return renderMarkdown(report);
}

export async function runReport(flags: ReportFlags): Promise<void> {
  if (!(FORMATS as readonly string[]).includes(flags.format)) throw badInput(`--format "${flags.format}" is not one of md, html, json`, 'use --format md, --format html or --format json');
  const config = flags.config !== undefined ? loadConfigFile(flags.config) : undefined;
  const now = Date.now();
  const from = flags.since !== undefined ? parseWhen(flags.since, now, '--since') : now - (config?.report.since ?? 86_400_000);
  const to = flags.until !== undefined ? parseWhen(flags.until, now, '--until') : now;
  if (!(from < to)) throw badInput('--since must be before --until', 'e.g. --since 24h');
  const criteria = resolveCriteria(config, flags);
  const topDifferences = number(flags.top, '--top', 0, 1000, true) ?? 5;
  const store = await openExistingStore({
    kind: flags.dataDir !== undefined ? 'sqlite' : (config?.store.kind ?? 'sqlite'),
    url: config?.store.url,
    dataDir: flags.dataDir ?? config?.dataDir ?? './.cutover',
  });
  let report: Report;
  try {
    const rows = await readReportRows(store, { now, from, to, ...(flags.route !== undefined ? { route: flags.route } : {}) });
    report = buildReport({ ...rows, criteria, topDifferences });
  } finally {
    await store.close();
  }
  const text = renderReport(report, flags.format as (typeof FORMATS)[number]);
  const headline = `${report.verdict === 'go' ? 'Go' : 'No-Go'}: ${report.totals.go} go, ${report.totals.noGo} no-go, ${report.totals.insufficient} insufficient of ${report.totals.endpoints} endpoints`;
  if (flags.out !== undefined) {
    writeFileSync(flags.out, text);
    process.stdout.write(`${headline}; report written to ${flags.out}\n`);
  } else {
    process.stdout.write(text);
  }
  if (report.verdict !== 'go') throw new NoGoVerdict(report.reasons.join('\n  ') || headline);
}
