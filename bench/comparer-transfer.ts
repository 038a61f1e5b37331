/**
 * How should a captured pair reach the comparer worker? Measures, on this
 * machine, posting the pair as-is (structured clone copies every Buffer)
 * against packing the bodies into one fresh ArrayBuffer and transferring it
 * (what src/controlplane/comparison does). Transferring the data plane's own
 * Buffers is not an option: small ones are views into Node's shared pool.
 *
 *   node bench/comparer-transfer.ts [--pairs 20000]
 */
import { Worker } from 'node:worker_threads';
import { parseArgs } from 'node:util';
import { packPair } from '../src/controlplane/comparison/comparer-protocol.ts';
import type { ComparisonPairEvent } from '../src/dataplane/events.ts';

const { values } = parseArgs({ options: { pairs: { type: 'string', default: '20000' } } });
const PAIRS = Number(values.pairs);

const worker = new Worker(
  `const { parentPort } = require('node:worker_threads');
   parentPort.on('message', (m) => parentPort.postMessage(m.id));`,
  { eval: true },
);

function event(size: number): ComparisonPairEvent {
  // Distinct bodies: structured clone copies one ArrayBuffer only once however often it is referenced.
  const side = (backend: 'legacy' | 'candidate') => ({ backend, status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.alloc(size, 120), truncated: false, ttfbMs: 1, totalMs: 1 });
  return { requestId: 'r', route: 'r', endpoint: '/e', method: 'GET', url: '/e', time: 0, request: { headers: {}, body: Buffer.alloc(0), truncated: false }, served: side('legacy'), mirrored: side('candidate') };
}

async function run(label: string, size: number, post: (id: number, e: ComparisonPairEvent) => void): Promise<void> {
  const e = event(size);
  const count = size >= 1 << 20 ? Math.max(200, PAIRS / 50) : PAIRS;
  let acked = 0;
  const done = new Promise<void>((resolve) => {
    const onMessage = () => {
      if (++acked === count) {
        worker.off('message', onMessage);
        resolve();
      }
    };
    worker.on('message', onMessage);
  });
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  let postNs = 0n;
  for (let i = 0; i < count; i++) {
    const p0 = process.hrtime.bigint();
    post(i, e);
    postNs += process.hrtime.bigint() - p0;
    if (i % 256 === 255) await new Promise((r) => setImmediate(r));
  }
  await done;
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpu = process.cpuUsage(cpu0);
  console.log(
    `${label.padEnd(22)} body ${String(size).padStart(8)} B x2  pairs ${String(count).padStart(6)}  ` +
      `post ${(Number(postNs) / count / 1000).toFixed(1).padStart(7)} us/pair on the proxying thread  ` +
      `process CPU ${(((cpu.user + cpu.system) / count)).toFixed(1).padStart(7)} us/pair  ${(count / (wallMs / 1000)).toFixed(0).padStart(7)} pairs/s`,
  );
}

for (const size of [1024, 64 * 1024, 1024 * 1024]) {
  await run('structured clone', size, (id, e) => worker.postMessage({ id, e }));
  await run('pack + transfer', size, (id, e) => {
    const pair = packPair(id, e);
    worker.postMessage(pair, [pair.bytes]);
  });
}
await worker.terminate();
