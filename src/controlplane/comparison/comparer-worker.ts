/**
 * The comparer worker thread: decoding, diffing, noise learning and sample
 * redaction all happen here, so a 5 MB JSON diff never delays a proxied
 * request on the main thread. Replies are batched per turn of the event loop.
 */
import { execFileSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import type { ComparerScheduling, ComparerSettings, FromComparer, PairOutcome, ToComparer } from './comparer-protocol.ts';
import { PairComparer } from './pair-comparer.ts';

const port = parentPort;
if (port === null) throw new Error('comparer-worker.ts runs as a worker thread');

const { settings, scheduling } = workerData as { settings: ComparerSettings; scheduling: ComparerScheduling };

// When the proxy and the comparer compete for one core, the proxy must win:
// comparison falls behind and pairs are skipped as comparer_busy instead of
// clients waiting. Linux schedules threads individually, so changing this
// thread (by its thread id) leaves the proxying thread untouched. `idle`
// (SCHED_IDLE) runs the comparer only on otherwise idle CPU time; `nice`
// merely weights it down, and a niced thread still delays the proxy's wakeups.
if (scheduling !== 'normal') {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0) {
      setPriority(tid, 19);
      if (scheduling === 'idle') execFileSync('chrt', ['--idle', '-p', '0', String(tid)], { stdio: 'ignore', timeout: 5000 });
    }
  } catch {
    // Not Linux, no chrt, or not permitted: the comparer keeps what it got.
  }
}

const comparer = new PairComparer(settings);
let ids: number[] = [];
let outcomes: PairOutcome[] = [];
let scheduled = false;

const send = (msg: FromComparer): void => port.postMessage(msg);

const flushSoon = (): void => {
  if (scheduled) return;
  scheduled = true;
  setImmediate(() => {
    scheduled = false;
    if (ids.length === 0 && outcomes.length === 0) return;
    send({ type: 'processed', ids, outcomes, held: comparer.heldCount });
    ids = [];
    outcomes = [];
  });
};

const reportNoise = (): void => {
  const learned = comparer.learnedNoise();
  if (learned !== undefined) send({ type: 'noise', learned, models: comparer.snapshots() });
};

setInterval(() => {
  const due = comparer.releaseDue(Date.now());
  if (due.length > 0) {
    outcomes.push(...due);
    flushSoon();
  }
  reportNoise();
}, 1000).unref();

port.on('message', (msg: ToComparer) => {
  try {
    switch (msg.type) {
      case 'pairs':
        for (const pair of msg.pairs) {
          ids.push(pair.id);
          try {
            outcomes.push(...comparer.compare(pair, Date.now()));
          } catch (err) {
            send({ type: 'error', id: pair.id, message: (err as Error).stack ?? String(err) });
          }
        }
        flushSoon();
        break;
      case 'settings':
        comparer.configure(msg.settings);
        break;
      case 'silences':
        comparer.setSilences(msg.rules);
        break;
      case 'noise-decisions':
        comparer.setNoiseDecisions(msg.decisions);
        break;
      case 'restore-noise':
        comparer.restoreNoise(msg.models);
        break;
      case 'flush': {
        // Everything queued before this message has been compared. Held pairs
        // stay held unless asked: released early they would report noise as signal.
        if (msg.held === 'release') outcomes.push(...comparer.releaseAll(Date.now()));
        const unjudged = msg.held === 'skip' ? comparer.dropHeld() : [];
        send({ type: 'processed', ids, outcomes, held: comparer.heldCount, ...(unjudged.length > 0 ? { unjudged } : {}) });
        ids = [];
        outcomes = [];
        reportNoise();
        send({ type: 'flushed' });
        break;
      }
    }
  } catch (err) {
    send({ type: 'error', message: (err as Error).stack ?? String(err) });
  }
});
