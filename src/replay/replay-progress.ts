/**
 * Replay progress for people and for CI logs: on a terminal one line that
 * rewrites itself (done/total, rate, ETA, mismatches so far); elsewhere a
 * plain line every few seconds, so a CI log stays short and readable.
 */
import type { ReplayProgress } from './replay-runner.ts';

export interface ProgressReporter {
  update(p: ReplayProgress): void;
  /** Ends the updating line (TTY) before the summary is printed. */
  finish(p: ReplayProgress): void;
}

function eta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  if (seconds < 60) return `${Math.ceil(seconds)}s`;
  const m = Math.floor(seconds / 60);
  return m < 60 ? `${m}m${String(Math.ceil(seconds % 60)).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** One progress line, without a newline. */
export function formatProgress(p: ReplayProgress, total: number | undefined): string {
  const secs = p.elapsedMs / 1000;
  const rate = secs > 0 ? p.done / secs : 0;
  // The total counts lines, bad ones included.
  const lines = p.done + p.badLines;
  const of = total !== undefined ? `/${total} (${total > 0 ? ((100 * lines) / total).toFixed(1) : '100.0'}%)` : '';
  const left = total !== undefined && rate > 0 ? `  ETA ${eta((total - lines) / rate)}` : '';
  const extra = `${p.skipped > 0 ? `  skipped ${p.skipped}` : ''}${p.badLines > 0 ? `  bad lines ${p.badLines}` : ''}`;
  return `replay ${lines}${of}  ${Math.round(rate)} req/s${left}  mismatches ${p.mismatches}${extra}`;
}

/**
 * @example
 * const progress = createProgressReporter(process.stderr, total);
 * await runReplay(items, { ...options, onProgress: progress.update });
 */
export function createProgressReporter(stream: NodeJS.WriteStream, total: number | undefined, options: { intervalMs?: number } = {}): ProgressReporter {
  const tty = stream.isTTY === true;
  const interval = options.intervalMs ?? 5_000;
  let lastPlain = 0;
  return {
    update(p) {
      if (tty) {
        stream.write(`\r\x1b[K${formatProgress(p, total)}`);
        return;
      }
      if (p.elapsedMs - lastPlain >= interval) {
        lastPlain = p.elapsedMs;
        stream.write(`${formatProgress(p, total)}\n`);
      }
    },
    finish(p) {
      stream.write(tty ? `\r\x1b[K${formatProgress(p, total)}\n` : `${formatProgress(p, total)}\n`);
    },
  };
}
