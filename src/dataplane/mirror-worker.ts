/**
 * The mirror thread: sends mirrored requests and captures their answers, so a
 * mirror's request building, response parsing and body capture never run on
 * the thread that serves clients. It has its own shadow pools, rebuilt from
 * the same specs as the proxying thread's. Outcomes go back batched per turn
 * of the event loop; admission (limits, breaker) stays on the proxying thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { packBodies, unpackBody, type FromMirrorThread, type MirrorOutcome, type MirrorWorkerData, type ToMirrorThread } from './mirror-protocol.ts';
import { MirrorExchange } from './proxy-exchange.ts';
import { lowerThisThreadPriority } from './thread-priority.ts';
import { createUpstream, type Upstream } from './upstream-pool.ts';

const port = parentPort;
if (port === null) throw new Error('mirror-worker.ts runs as a worker thread');

const { scheduling } = workerData as MirrorWorkerData;
// A mirror may wait; a client may not. When the core is contended the proxying thread runs first.
lowerThisThreadPriority(scheduling);

const upstreams = new Map<number, Upstream>();
let outcomes: MirrorOutcome[] = [];
let bodies: Array<Buffer | null> = [];
let scheduled = false;

const send = (msg: FromMirrorThread, transfer?: ArrayBuffer[]): void => port.postMessage(msg, transfer);

const flush = (): void => {
  scheduled = false;
  if (outcomes.length === 0) return;
  const { buffer, offsets } = packBodies(bodies);
  for (let i = 0; i < outcomes.length; i++) outcomes[i]!.bodyOffset = offsets[i]!;
  send({ type: 'done', outcomes, bodies: buffer }, buffer === null ? undefined : [buffer]);
  outcomes = [];
  bodies = [];
};

const failed = (id: number, message: string): void => {
  outcomes.push({ id, status: 0, headers: {}, bodyOffset: -1, bodyLength: 0, truncated: false, ttfbMs: 0, totalMs: 0, responseBytes: 0, failure: 'other' });
  bodies.push(null);
  if (!scheduled) {
    scheduled = true;
    setImmediate(flush);
  }
  process.emitWarning(message);
};

port.on('message', (msg: ToMirrorThread) => {
  switch (msg.type) {
    case 'upstream':
      upstreams.set(msg.id, createUpstream(msg.spec.name, msg.spec.backend, msg.spec.options));
      return;
    case 'retire':
      for (const id of msg.ids) {
        const upstream = upstreams.get(id);
        upstreams.delete(id);
        void upstream?.pool.close().catch(() => upstream.pool.destroy());
      }
      return;
    case 'mirror':
      for (const job of msg.jobs) {
        const upstream = upstreams.get(job.upstream);
        if (upstream === undefined) {
          failed(job.id, `mirror ${job.id}: unknown upstream ${job.upstream}`);
          continue;
        }
        const body = unpackBody(msg.bodies, job.bodyOffset, job.bodyLength);
        new MirrorExchange(job, upstream, job.captureLimit, job.timeout, (captured, responseBytes) => {
          const outcome: MirrorOutcome = {
            id: job.id,
            status: captured.status,
            headers: captured.headers,
            bodyOffset: -1,
            bodyLength: captured.body.length,
            truncated: captured.truncated,
            ttfbMs: captured.ttfbMs,
            totalMs: captured.totalMs,
            responseBytes,
          };
          if (captured.failure !== undefined) outcome.failure = captured.failure;
          outcomes.push(outcome);
          bodies.push(captured.body);
          if (!scheduled) {
            scheduled = true;
            setImmediate(flush);
          }
        }).start(body);
      }
      return;
    case 'close':
      // Mirrors in flight finish (each within its timeout) and report, as they would on the proxying thread.
      void Promise.all([...upstreams.values()].map((u) => u.pool.close().catch(() => u.pool.destroy()))).then(() => {
        flush();
        send({ type: 'closed' });
      });
      return;
  }
});

send({ type: 'ready' });
