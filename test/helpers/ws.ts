/**
 * Just enough WebSocket (RFC 6455) for tests, since no ws package is
 * available: the upgrade handshake with Sec-WebSocket-Accept, unmasked server
 * frames, masked client frames, text/close opcodes, payloads up to 64 KiB.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { Duplex } from 'node:stream';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export function acceptKey(key: string): string {
  return createHash('sha1').update(key + GUID).digest('base64');
}

export function encodeFrame(opcode: number, payload: Buffer, mask: boolean): Buffer {
  const len = payload.length;
  const ext = len < 126 ? 0 : 2;
  const head = Buffer.alloc(2 + ext + (mask ? 4 : 0));
  head[0] = 0x80 | opcode;
  head[1] = (mask ? 0x80 : 0) | (len < 126 ? len : 126);
  if (ext === 2) head.writeUInt16BE(len, 2);
  if (!mask) return Buffer.concat([head, payload]);
  const key = randomBytes(4);
  key.copy(head, 2 + ext);
  const masked = Buffer.alloc(len);
  for (let i = 0; i < len; i++) masked[i] = payload[i]! ^ key[i % 4]!;
  return Buffer.concat([head, masked]);
}

export interface Frame {
  opcode: number;
  payload: Buffer;
}

/** Incremental frame parser: feed bytes, get whole frames. */
export class FrameParser {
  private buf = Buffer.alloc(0);

  push(chunk: Buffer): Frame[] {
    this.buf = Buffer.concat([this.buf, chunk]);
    const frames: Frame[] = [];
    for (;;) {
      if (this.buf.length < 2) break;
      const opcode = this.buf[0]! & 0x0f;
      const masked = (this.buf[1]! & 0x80) !== 0;
      let len = this.buf[1]! & 0x7f;
      let off = 2;
      if (len === 126) {
        if (this.buf.length < 4) break;
        len = this.buf.readUInt16BE(2);
        off = 4;
      } else if (len === 127) throw new Error('64-bit frame lengths are not supported by this test helper');
      const maskOff = off;
      if (masked) off += 4;
      if (this.buf.length < off + len) break;
      const payload = Buffer.from(this.buf.subarray(off, off + len));
      if (masked) for (let i = 0; i < len; i++) payload[i] = payload[i]! ^ this.buf[maskOff + (i % 4)]!;
      frames.push({ opcode, payload });
      this.buf = this.buf.subarray(off + len);
    }
    return frames;
  }
}

export interface EchoServerHandle {
  /** Server-side sockets of accepted WebSocket connections. */
  readonly sockets: Socket[];
  /** Resolves when an accepted connection's socket has closed. */
  closed(index: number): Promise<void>;
}

/**
 * Turns an http server into a WebSocket echo server: every text frame comes
 * back as `<tag>:<text>`; a close frame is answered and the socket ended.
 * `endOnEof: false` makes a sloppy backend that keeps a half-closed connection open.
 */
export function attachEchoServer(server: Server, tag: string, options: { endOnEof?: boolean } = {}): EchoServerHandle {
  const endOnEof = options.endOnEof ?? true;
  const sockets: Socket[] = [];
  const closes: Array<Promise<void>> = [];
  server.on('upgrade', (req: IncomingMessage, socket: Duplex) => {
    const key = req.headers['sec-websocket-key'];
    if (typeof key !== 'string' || req.headers.upgrade?.toLowerCase() !== 'websocket') {
      socket.end('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    const sock = socket as Socket;
    sockets.push(sock);
    closes.push(new Promise((resolve) => sock.once('close', () => resolve())));
    sock.on('error', () => sock.destroy());
    // Like the ws library: the peer's EOF ends the connection (unless a test wants a backend that ignores it).
    if (endOnEof) sock.on('end', () => sock.end());
    sock.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(key)}\r\nx-served-by: ${tag}\r\n\r\n`);
    const parser = new FrameParser();
    sock.on('data', (chunk: Buffer) => {
      for (const f of parser.push(chunk)) {
        if (f.opcode === 0x1) sock.write(encodeFrame(0x1, Buffer.from(`${tag}:${f.payload.toString('utf8')}`), false));
        else if (f.opcode === 0x8) {
          sock.end(encodeFrame(0x8, f.payload, false));
        } else if (f.opcode === 0x9) sock.write(encodeFrame(0xa, f.payload, false));
      }
    });
  });
  return { sockets, closed: (i) => closes[i]! };
}

export interface WsClient {
  readonly socket: Socket;
  /** Headers of the 101 response, lower-cased. */
  readonly headers: Record<string, string>;
  send(text: string): void;
  /** Next text message from the server. */
  next(timeoutMs?: number): Promise<string>;
  /** Sends a close frame. */
  close(): void;
  /** Resolves when the TCP connection has closed. */
  readonly closed: Promise<void>;
}

/** Connects to ws://127.0.0.1:port/path (wss:// with `options.ca`, the CA to trust) and does the handshake. */
export async function connectWebSocket(port: number, path: string, extraHeaders: Record<string, string> = {}, options: { ca?: string } = {}): Promise<WsClient> {
  const socket: Socket = options.ca === undefined ? connect(port, '127.0.0.1') : tlsConnect({ port, host: '127.0.0.1', ca: options.ca });
  socket.setNoDelay(true);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    socket.once(options.ca === undefined ? 'connect' : 'secureConnect', resolve);
    socket.once('error', reject);
  });
  const key = randomBytes(16).toString('base64');
  const extra = Object.entries(extraHeaders)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`);

  let buffered = Buffer.alloc(0);
  const head = await new Promise<{ status: number; headers: Record<string, string>; rest: Buffer }>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf('\r\n\r\n');
      if (end === -1) return;
      socket.off('data', onData);
      const lines = buffered.subarray(0, end).toString('latin1').split('\r\n');
      const status = Number(lines[0]!.split(' ')[1]);
      const headers: Record<string, string> = {};
      for (const l of lines.slice(1)) {
        const c = l.indexOf(':');
        headers[l.slice(0, c).trim().toLowerCase()] = l.slice(c + 1).trim();
      }
      resolve({ status, headers, rest: buffered.subarray(end + 4) });
    };
    socket.on('data', onData);
    socket.once('close', () => reject(new Error(`connection closed during the handshake; got: ${buffered.toString('latin1')}`)));
  });
  if (head.status !== 101) {
    socket.destroy();
    throw new Error(`expected 101, got ${head.status}`);
  }
  if (head.headers['sec-websocket-accept'] !== acceptKey(key)) {
    socket.destroy();
    throw new Error(`wrong Sec-WebSocket-Accept ${head.headers['sec-websocket-accept']}`);
  }
  const parser = new FrameParser();
  const messages: string[] = [];
  const waiting: Array<(m: string) => void> = [];
  const onFrames = (frames: Frame[]) => {
    for (const f of frames) {
      if (f.opcode !== 0x1) continue;
      const text = f.payload.toString('utf8');
      const w = waiting.shift();
      if (w) w(text);
      else messages.push(text);
    }
  };
  onFrames(parser.push(head.rest));
  socket.on('data', (chunk: Buffer) => onFrames(parser.push(chunk)));
  return {
    socket,
    headers: head.headers,
    send: (text) => socket.write(encodeFrame(0x1, Buffer.from(text), true)),
    next: (timeoutMs = 5_000) => {
      const m = messages.shift();
      if (m !== undefined) return Promise.resolve(m);
      return new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no WebSocket message within ${timeoutMs} ms`)), timeoutMs);
        waiting.push((text) => {
          clearTimeout(timer);
          resolve(text);
        });
      });
    },
    close: () => socket.write(encodeFrame(0x8, Buffer.from([0x03, 0xe8]), true)),
    closed,
  };
}

/** Rejects when `p` takes longer than `ms`. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}
