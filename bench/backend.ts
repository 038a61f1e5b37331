/**
 * Benchmark backend: a deliberately cheap node:http server with fixed bodies.
 *
 *   node bench/backend.ts --port 18101 [--host 127.0.0.1] [--delay-ms 5] [--hang] [--workers 1]
 *
 * GET /small  ~200 B JSON      GET /large  16 KiB JSON      anything else  404 (small JSON)
 *
 * --delay-ms N  answer after N ms (a slow candidate)
 * --hang        read the request, never answer (a candidate that never answers)
 * --workers N   N node:cluster workers sharing the port (default 1 = no cluster)
 *
 * Keep-alive is on with a long idle timeout so proxies can keep their pools warm.
 * Bodies are built once; a request costs one writeHead + one end.
 */
import cluster from 'node:cluster';
import http from 'node:http';
import type { Socket } from 'node:net';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
    'delay-ms': { type: 'string', default: '0' },
    hang: { type: 'boolean', default: false },
    workers: { type: 'string', default: '1' },
  },
  strict: true,
});

const port = Number(values.port);
const delayMs = Number(values['delay-ms']);
const workers = Number(values.workers);
if (!Number.isInteger(port) || port <= 0 || port > 65535) fail('--port is required (1-65535)');
if (!Number.isFinite(delayMs) || delayMs < 0) fail('--delay-ms must be a number >= 0');
if (!Number.isInteger(workers) || workers < 1) fail('--workers must be an integer >= 1');

function fail(message: string): never {
  process.stderr.write(`backend: ${message}\n`);
  process.exit(2);
}

/** A JSON document padded with a filler string to exactly `size` bytes. */
function jsonOfSize(size: number, fields: Record<string, unknown>): Buffer {
  const skeleton = JSON.stringify({ ...fields, pad: '' });
  const padLength = size - Buffer.byteLength(skeleton);
  if (padLength < 0) throw new Error(`fields alone exceed ${size} bytes`);
  const text = JSON.stringify({ ...fields, pad: 'x'.repeat(padLength) });
  return Buffer.from(text);
}

function largeFields(): Record<string, unknown> {
  const items = [];
  for (let i = 0; i < 120; i++) items.push({ id: i, sku: `SKU-${String(i).padStart(5, '0')}`, qty: (i * 7) % 13, price: (i * 3.25).toFixed(2) });
  return { kind: 'catalog', page: 1, items };
}

const BODIES: Record<string, Buffer> = {
  '/small': jsonOfSize(200, { id: 42, kind: 'account', name: 'Ada Lovelace', email: 'ada@example.test', active: true, plan: 'pro', balance: 1234.5 }),
  '/large': jsonOfSize(16 * 1024, largeFields()),
};
const NOT_FOUND = Buffer.from('{"error":"not_found"}');

function headersFor(body: Buffer): http.OutgoingHttpHeaders {
  return { 'content-type': 'application/json', 'content-length': body.length };
}

function pathOf(url: string | undefined): string {
  if (url === undefined) return '/';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

function serve(): void {
  const sockets = new Set<Socket>();
  const server = http.createServer({ keepAliveTimeout: 120_000, requestTimeout: 0, headersTimeout: 60_000 }, (req, res) => {
    req.resume(); // drain any request body; we never read it
    if (values.hang) return; // hold the request open until the client or we go away
    const body = BODIES[pathOf(req.url)];
    const status = body === undefined ? 404 : 200;
    const payload = body ?? NOT_FOUND;
    if (delayMs > 0) {
      setTimeout(() => {
        res.writeHead(status, headersFor(payload));
        res.end(payload);
      }, delayMs);
      return;
    }
    res.writeHead(status, headersFor(payload));
    res.end(payload);
  });
  server.keepAliveTimeout = 120_000;
  server.maxRequestsPerSocket = 0;
  server.on('connection', (socket: Socket) => {
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.listen(port, values.host, () => {
    if (cluster.isPrimary) process.stderr.write(`backend listening on ${values.host}:${port}${values.hang ? ' (hang)' : ''}${delayMs ? ` (delay ${delayMs}ms)` : ''}\n`);
  });
  const stop = (): void => {
    server.close();
    for (const s of sockets) s.destroy();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (workers > 1 && cluster.isPrimary) {
  let stopping = false;
  const stopAll = (code: number): void => {
    stopping = true;
    process.exitCode = code;
    for (const w of Object.values(cluster.workers ?? {})) w?.kill('SIGTERM');
    setTimeout(() => process.exit(code), 200).unref();
  };
  for (let i = 0; i < workers; i++) cluster.fork();
  let online = 0;
  cluster.on('listening', () => {
    online++;
    if (online === workers) process.stderr.write(`backend listening on ${values.host}:${port} (${workers} workers)\n`);
  });
  cluster.on('exit', (worker, code, signal) => {
    if (!stopping) {
      process.stderr.write(`backend: worker ${worker.process.pid} exited (${signal ?? code}); stopping\n`);
      stopAll(1);
    }
  });
  process.on('SIGTERM', () => stopAll(0));
  process.on('SIGINT', () => stopAll(0));
} else {
  serve();
}
