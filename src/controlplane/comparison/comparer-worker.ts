/**
 * The comparer worker thread: decoding, diffing, noise learning and sample
 * redaction all happen here, so a 5 MB JSON diff never delays a proxied
 * request on the main thread. Replies are batched per turn of the event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { ComparerSettings, FromComparer, PairOutcome, ToComparer } from './comparer-protocol.ts';
import { PairComparer } from './pair-comparer.ts';

const port = parentPort;
if (port === null) throw new Error('comparer-worker.ts runs as a worker thread');

const comparer = new PairComparer(workerData as ComparerSettings);
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
    send({ type: 'processed', ids, outcomes });
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
      case 'pair':
        ids.push(msg.pair.id);
        try {
          outcomes.push(...comparer.compare(msg.pair, Date.now()));
        } catch (err) {
          send({ type: 'error', id: msg.pair.id, message: (err as Error).stack ?? String(err) });
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
      case 'flush':
        // Everything queued before this message has been compared. Held pairs
        // stay held unless asked: released early they would report noise as signal.
        if (msg.releaseHeld) outcomes.push(...comparer.releaseAll(Date.now()));
        send({ type: 'processed', ids, outcomes });
        ids = [];
        outcomes = [];
        reportNoise();
        send({ type: 'flushed' });
        break;
    }
  } catch (err) {
    send({ type: 'error', message: (err as Error).stack ?? String(err) });
  }
});
