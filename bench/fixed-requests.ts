/**
 * Sends exactly N GET requests with C keep-alive connections and exits; for
 * benchmarks that count work per request (bench/instructions.sh), where a
 * fixed duration would not do.
 *
 *   node bench/fixed-requests.ts --url http://127.0.0.1:18180/small --requests 20000 --connections 4
 */
import { parseArgs } from 'node:util';
import { Pool } from 'undici';

const { values } = parseArgs({
  options: { url: { type: 'string' }, requests: { type: 'string', default: '1000' }, connections: { type: 'string', default: '4' } },
  strict: true,
});
if (values.url === undefined) throw new Error('--url is required');
const url = new URL(values.url);
const total = Number(values.requests);
const connections = Number(values.connections);
const pool = new Pool(url.origin, { connections, pipelining: 1 });
let sent = 0;
let failed = 0;
const t0 = performance.now();
await Promise.all(
  Array.from({ length: connections }, async () => {
    while (sent < total) {
      sent++;
      const res = await pool.request({ path: url.pathname + url.search, method: 'GET' });
      await res.body.arrayBuffer();
      if (res.statusCode !== 200) failed++;
    }
  }),
);
await pool.close();
const seconds = (performance.now() - t0) / 1000;
process.stdout.write(JSON.stringify({ requests: total, failed, seconds: Number(seconds.toFixed(3)) }) + '\n');
if (failed > 0) process.exitCode = 1;
