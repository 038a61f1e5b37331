/**
 * Real node:http test backends standing in for legacy and candidate. Each one
 * records what it received (method, url, headers, body size, the upstream
 * socket's remote port) and answers with a JSON echo naming itself, unless a
 * test passes its own handler.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';

export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  rawHeaders: string[];
  bodyBytes: number;
  remotePort: number;
}

export interface Backend {
  readonly name: string;
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  readonly seen: SeenRequest[];
  close(): Promise<void>;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, backend: Backend) => void;

/** The default answer: 200 JSON `{ backend, method, url, headers, bodyBytes }` once the body has been read. */
export const echoJson: Handler = (req, res, backend) => {
  const seen = backend.seen[backend.seen.length - 1]!;
  req.on('end', () => {
    const body = JSON.stringify({ backend: backend.name, method: req.method, url: req.url, headers: req.headers, bodyBytes: seen.bodyBytes });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-served-by': backend.name });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
};

export interface BackendOptions {
  handler?: Handler;
  /** PEM key and certificate: serve https instead of http. */
  tls?: { key: string; cert: string };
}

export async function startBackend(name: string, options: BackendOptions = {}): Promise<Backend> {
  const handler = options.handler ?? echoJson;
  const seen: SeenRequest[] = [];
  let backend!: Backend;
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const entry: SeenRequest = {
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      rawHeaders: req.rawHeaders,
      bodyBytes: 0,
      remotePort: req.socket.remotePort ?? 0,
    };
    seen.push(entry);
    req.on('data', (chunk: Buffer) => {
      entry.bodyBytes += chunk.length;
    });
    handler(req, res, backend);
  };
  const server: Server = options.tls ? createHttpsServer({ key: options.tls.key, cert: options.tls.cert }, onRequest) : createServer(onRequest);
  server.keepAliveTimeout = 30_000;
  // Upgraded (WebSocket) sockets leave the http server's bookkeeping; track every socket to close them all.
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  backend = {
    name,
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    port,
    server,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        for (const s of sockets) s.destroy();
      }),
  };
  return backend;
}

/** A port that was free a moment ago and has nothing listening now (connections to it are refused). */
export async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}
