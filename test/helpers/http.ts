/**
 * HTTP clients for tests: a keep-alive undici client that must be closed, and
 * a raw TCP exchange for requests no well-behaved client would send.
 */
import { connect } from 'node:net';
import { Agent, request, type Dispatcher } from 'undici';

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json<T = Record<string, unknown>>(): T;
}

export interface Client {
  readonly agent: Agent;
  send(url: string, options?: { method?: Dispatcher.HttpMethod; headers?: Record<string, string>; body?: string | Buffer }): Promise<Reply>;
  close(): Promise<void>;
}

export function createClient(options: Agent.Options = {}): Client {
  const agent = new Agent({ keepAliveTimeout: 10_000, ...options });
  return {
    agent,
    async send(url, opts = {}) {
      const res = await request(url, { dispatcher: agent, method: opts.method ?? 'GET', headers: opts.headers, body: opts.body });
      const text = await res.body.text();
      return {
        status: res.statusCode,
        headers: res.headers,
        text,
        json: <T>() => JSON.parse(text) as T,
      };
    },
    close: () => agent.close(),
  };
}

/** Writes `raw` on a new connection and collects everything until the server closes it (or `timeoutMs`). */
export function rawExchange(port: number, raw: string | Buffer, timeoutMs = 5_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(Buffer.concat(chunks).toString('latin1'));
    }, timeoutMs);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
    socket.write(raw);
  });
}

/** Parses one raw HTTP/1.1 response head: status and lower-cased headers (repeated ones joined by ', '). */
export function parseHead(raw: string): { status: number; headers: Record<string, string>; body: string } {
  const end = raw.indexOf('\r\n\r\n');
  const lines = raw.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const l of lines.slice(1)) {
    const c = l.indexOf(':');
    const k = l.slice(0, c).trim().toLowerCase();
    const v = l.slice(c + 1).trim();
    headers[k] = headers[k] === undefined ? v : `${headers[k]}, ${v}`;
  }
  return { status: Number(lines[0]!.split(' ')[1]), headers, body: raw.slice(end + 4) };
}
