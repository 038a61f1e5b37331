/**
 * Number and time formats shared by the report renderers, so the markdown
 * and HTML reports never disagree on how a value reads.
 */
import type { CheckOutcome, Verdict } from './build-report.ts';

export const DASH = '-';

/** A rate as a percentage; tiny non-zero rates keep enough digits not to read as 0. */
export function formatRate(v: number | null): string {
  if (v === null) return DASH;
  return `${(100 * v).toFixed(v !== 0 && v < 0.001 ? 3 : 2)}%`;
}

export function formatMs(v: number | null): string {
  if (v === null) return DASH;
  if (v >= 100) return `${v.toFixed(0)}ms`;
  if (v >= 10) return `${v.toFixed(1)}ms`;
  return `${v.toFixed(2)}ms`;
}

export function formatRatio(v: number | null): string {
  return v === null ? DASH : `${v.toFixed(2)}x`;
}

export function formatTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export const VERDICT_LABEL: Record<Verdict | 'go' | 'no-go', string> = { go: 'Go', 'no-go': 'No-Go', insufficient: 'insufficient data' };

export const OUTCOME_LABEL: Record<CheckOutcome, string> = { pass: 'pass', fail: 'FAIL', insufficient: 'insufficient data' };

/** A short, single-line JSON preview of a value from a sample. */
export function preview(v: unknown, max = 80): string {
  if (v === undefined) return '(absent)';
  const s = typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v) ?? String(v);
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** What an audit entry's from/to says, briefly (a rollout state summary or a route mode). */
export function describeState(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'object') {
    const o = v as { status?: unknown; stepLabel?: unknown; mode?: unknown; percent?: unknown };
    if (typeof o.status === 'string') return typeof o.stepLabel === 'string' && o.stepLabel !== '' ? `${o.status} (${o.stepLabel})` : o.status;
    if (typeof o.mode === 'string') return typeof o.percent === 'number' && o.mode === 'canary' ? `${o.mode} ${o.percent}%` : o.mode;
  }
  return preview(v, 40);
}
