/**
 * Benchmark floor, not a product: the least a proxy on cutover's mandated
 * stack (node:http in front, undici's Pool.dispatch behind) can do per
 * request. No routing, no request id or X-Forwarded-*, no events, no
 * timeouts of its own, no error body: headers minus hop-by-hop fields go
 * out as they came in, the response streams back with backpressure. What
 * cutover spends above this row is its own; what this row spends is the
 * platform's.
 *
 *   node bench/peers/undici-floor.ts --listen 127.0.0.1:18180 --upstream http://127.0.0.1:18101
 */
import { createServer, type ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';
import { Pool, type Dispatcher } from 'undici';
import { HOP_BY_HOP_REQUEST, HOP_BY_HOP_RESPONSE } from '../../src/dataplane/hop-by-hop.ts';
import { splitHostPort } from './args.ts';

const { values } = parseArgs({ options: { listen: { type: 'string' }, upstream: { type: 'string' } }, strict: true });
const [host, port] = splitHostPort(values.listen);
const upstream = values.upstream ?? '';
if (!/^http:\/\//.test(upstream)) throw new Error('--upstream http://host:port is required');

const pool = new Pool(upstream, { connections: 256, pipelining: 1, keepAliveTimeout: 4_000 });

class FloorHandler implements Dispatcher.DispatchHandler {
  readonly res: ServerResponse;
  controller: Dispatcher.DispatchController | null = null;
  constructor(res: ServerResponse) {
    this.res = res;
  }
  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
  }
  onResponseStart(_c: Dispatcher.DispatchController, status: number, headers: Record<string, string | string[] | undefined>): void {
    const flat: string[] = [];
    for (const name in headers) {
      const value = headers[name];
      if (value === undefined || HOP_BY_HOP_RESPONSE.has(name)) continue;
      if (typeof value === 'string') flat.push(name, value);
      else for (const v of value) flat.push(name, v);
    }
    this.res.writeHead(status, flat);
  }
  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (!this.res.write(chunk)) {
      controller.pause();
      this.res.once('drain', () => controller.resume());
    }
  }
  onResponseEnd(): void {
    this.res.end();
  }
  onResponseError(_c: Dispatcher.DispatchController, _err: Error): void {
    if (this.res.headersSent) this.res.destroy();
    else this.res.writeHead(502).end();
  }
}

// optimizeEmptyRequests: cutover sets it too (a bodyless request skips its stream life cycle), so the floor stays the floor.
const server = createServer({ keepAliveTimeout: 65_000, requestTimeout: 0, optimizeEmptyRequests: true }, (req, res) => {
  const raw = req.rawHeaders;
  const headers: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    if (!HOP_BY_HOP_REQUEST.has(raw[i]!.toLowerCase())) headers.push(raw[i]!, raw[i + 1]!);
  }
  const hasBody = req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] ?? '0') !== '0';
  pool.dispatch({ path: req.url ?? '/', method: (req.method ?? 'GET') as Dispatcher.HttpMethod, headers, body: hasBody ? req : null }, new FloorHandler(res));
});
server.listen(port, host, () => process.stderr.write(`undici-floor listening on ${host}:${port} -> ${upstream}\n`));
const stop = (): void => {
  server.close();
  void pool.close().finally(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
