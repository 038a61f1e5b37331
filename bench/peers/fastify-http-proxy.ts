/**
 * Benchmark peer: fastify + @fastify/http-proxy (undici pool underneath) in
 * front of one upstream. Logging off, keep-alive to the upstream with a pool
 * the size of cutover's default (256 connections). Installed into bench/.peers
 * by bench/proxy.sh, loaded with createRequire and typed locally.
 *
 *   node bench/peers/fastify-http-proxy.ts --listen 127.0.0.1:18180 --upstream http://127.0.0.1:18101
 */
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { splitHostPort } from './args.ts';

interface FastifyApp {
  register(plugin: unknown, options: Record<string, unknown>): FastifyApp;
  listen(options: { port: number; host: string }): Promise<string>;
  close(): Promise<void>;
}
type FastifyFactory = (options: Record<string, unknown>) => FastifyApp;

const { values } = parseArgs({ options: { listen: { type: 'string' }, upstream: { type: 'string' } }, strict: true });
const [host, port] = splitHostPort(values.listen);
const upstream = values.upstream ?? '';
if (!/^http:\/\//.test(upstream)) throw new Error('--upstream http://host:port is required');

const peers = createRequire(new URL('../.peers/package.json', import.meta.url));
const fastify = peers('fastify') as FastifyFactory;
const httpProxy = peers('@fastify/http-proxy') as unknown;

const app = fastify({ logger: false, keepAliveTimeout: 65_000, disableRequestLogging: true });
app.register(httpProxy, {
  upstream,
  undici: { connections: 256, pipelining: 1, keepAliveTimeout: 60_000 },
});
await app.listen({ port, host });
process.stderr.write(`fastify-http-proxy listening on ${host}:${port} -> ${upstream}\n`);
const stop = (): void => {
  void app.close().finally(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
