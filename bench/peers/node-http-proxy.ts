/**
 * Benchmark peer: node-http-proxy (npm `http-proxy`) in front of one upstream,
 * with a keep-alive agent so it reuses upstream connections like every other
 * proxy in the run. The package lives in bench/.peers (installed by
 * bench/proxy.sh), so it is loaded with createRequire and typed locally.
 *
 *   node bench/peers/node-http-proxy.ts --listen 127.0.0.1:18180 --upstream http://127.0.0.1:18101
 */
import http from 'node:http';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { splitHostPort } from './args.ts';

interface HttpProxy {
  web(req: http.IncomingMessage, res: http.ServerResponse): void;
  on(event: 'error', listener: (err: Error, req: http.IncomingMessage, res: http.ServerResponse | unknown) => void): void;
}
interface HttpProxyModule {
  createProxyServer(options: { target: string; agent: http.Agent; xfwd?: boolean }): HttpProxy;
}

const { values } = parseArgs({ options: { listen: { type: 'string' }, upstream: { type: 'string' } }, strict: true });
const [host, port] = splitHostPort(values.listen);
const upstream = values.upstream ?? '';
if (!/^http:\/\//.test(upstream)) throw new Error('--upstream http://host:port is required');

const peers = createRequire(new URL('../.peers/package.json', import.meta.url));
const httpProxy = peers('http-proxy') as HttpProxyModule;

// Pool size matches cutover's default backend pool (256); keep-alive on.
const agent = new http.Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 256, keepAliveMsecs: 60_000 });
const proxy = httpProxy.createProxyServer({ target: upstream, agent });
proxy.on('error', (_err, _req, res) => {
  if (res instanceof http.ServerResponse && !res.headersSent) {
    res.writeHead(502, { 'content-type': 'text/plain' });
    res.end('bad gateway\n');
  } else if (res instanceof http.ServerResponse) {
    res.destroy();
  }
});

const server = http.createServer((req, res) => proxy.web(req, res));
server.keepAliveTimeout = 65_000;
server.listen(port, host, () => process.stderr.write(`node-http-proxy listening on ${host}:${port} -> ${upstream}\n`));
const stop = (): void => {
  server.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
