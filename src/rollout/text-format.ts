/**
 * Number formatting for gate reasons and decisions. Reasons are read by people
 * in audit logs and Slack, so they carry rounded numbers; the exact numbers
 * travel next to them in `observed`.
 */

/** 0.0123 → "1.23%" */
export function percentText(fraction: number): string {
  return `${(fraction * 100).toFixed(2)}%`;
}

/** 0.0123 → "1.23 pp" (percentage points, for differences of rates) */
export function pointsText(fraction: number): string {
  return `${(fraction * 100).toFixed(2)} pp`;
}

/** 1.23456 → "1.23ms" */
export function msText(ms: number): string {
  return `${Number(ms.toFixed(ms < 10 ? 2 : 1))}ms`;
}

/** Rounded up to the second: 750_000 → "12m30s", 3_600_000 → "1h". */
export function approxDuration(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  const rs = s % 60;
  if (m < 60) return rs ? `${m}m${rs}s` : `${m}m`;
  const h = Math.floor(m / 60);
  const rm = m % 60;
  return rm ? `${h}h${rm}m` : `${h}h`;
}

/** Non-finite numbers become null so evidence stays valid JSON. */
export function finiteOrNull(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}
