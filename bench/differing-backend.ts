/**
 * A candidate whose answers differ from legacy's in a few fields, so shadow
 * benchmarks make the comparer walk and diff whole JSON bodies instead of
 * taking the identical-bytes shortcut.
 *
 *   node bench/differing-backend.ts --port 18105 --legacy http://127.0.0.1:18101
 *
 * Fetches /small and /large from legacy once at start, changes `balance` in
 * /small and every `price` in /large, and serves those bodies from then on.
 */
import http from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { port: { type: 'string' }, host: { type: 'string', default: '127.0.0.1' }, legacy: { type: 'string' } }, strict: true });
if (!values.port || !values.legacy) {
  process.stderr.write('differing-backend: --port and --legacy are required\n');
  process.exit(2);
}

async function variant(path: string, change: (doc: Record<string, unknown>) => void): Promise<Buffer> {
  const res = await fetch(`${values.legacy}${path}`);
  const doc = (await res.json()) as Record<string, unknown>;
  change(doc);
  return Buffer.from(JSON.stringify(doc));
}

const bodies: Record<string, Buffer> = {
  '/small': await variant('/small', (d) => {
    d.balance = Number(d.balance) + 1;
  }),
  '/large': await variant('/large', (d) => {
    for (const item of d.items as Array<Record<string, unknown>>) item.price = `${item.price}1`;
  }),
};
const notFound = Buffer.from('{"error":"not_found"}');

const server = http.createServer({ keepAliveTimeout: 120_000 }, (req, res) => {
  req.resume();
  const q = (req.url ?? '/').indexOf('?');
  const body = bodies[q < 0 ? (req.url ?? '/') : req.url!.slice(0, q)];
  res.writeHead(body ? 200 : 404, { 'content-type': 'application/json', 'content-length': (body ?? notFound).length });
  res.end(body ?? notFound);
});
server.keepAliveTimeout = 120_000;
server.listen(Number(values.port), values.host, () => process.stderr.write(`differing backend on ${values.host}:${values.port}\n`));
const stop = () => {
  server.closeAllConnections();
  server.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
