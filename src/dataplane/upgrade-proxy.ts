/**
 * WebSocket (and any HTTP/1.1 Upgrade) pass-through. The backend is chosen
 * once per connection by the route's mode; after the 101 both sockets are
 * piped, and when either side closes, so does the other.
 */
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';
import { channels } from './events.ts';
import { HOP_BY_HOP_RESPONSE } from './hop-by-hop.ts';
import { createRequestContext, headersFor } from './request-context.ts';
import { classifyFailure } from './upstream-errors.ts';
import type { Upstream } from './upstream-pool.ts';

function writeRawError(socket: Duplex, status: number, body: object): void {
  const text = JSON.stringify(body);
  const reason = status === 504 ? 'Gateway Timeout' : 'Bad Gateway';
  socket.end(`HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: ${Buffer.byteLength(text)}\r\n\r\n${text}`);
}

export function proxyUpgrade(req: IncomingMessage, client: Duplex, head: Buffer, upstream: Upstream, routeId: string, endpoint: string): void {
  const ctx = createRequestContext(req, '', routeId, endpoint, undefined);
  const protocol = req.headers.upgrade ?? 'websocket';
  const t0 = performance.now();
  client.on('error', () => client.destroy());
  const publish = (status: number, failure?: ReturnType<typeof classifyFailure>) => {
    if (!channels.exchange.hasSubscribers) return;
    const ms = performance.now() - t0;
    channels.exchange.publish({
      requestId: ctx.requestId,
      route: routeId,
      endpoint,
      method: ctx.method,
      backend: upstream.name,
      role: 'primary',
      status,
      ...(failure ? { failure } : {}),
      startedAt: ctx.startedAt,
      ttfbMs: ms,
      totalMs: ms,
      requestBytes: 0,
      responseBytes: 0,
    });
  };
  let refusedStatus = 0;
  const handler: Dispatcher.DispatchHandler = {
    onRequestStart() {},
    onRequestUpgrade(_controller, statusCode, headers, upstreamSocket) {
      let head101 = `HTTP/1.1 ${statusCode} Switching Protocols\r\n`;
      for (const [name, value] of Object.entries(headers)) {
        if (value === undefined) continue;
        for (const v of Array.isArray(value) ? value : [value]) head101 += `${name}: ${v}\r\n`;
      }
      client.write(`${head101}\r\n`);
      if (head.length > 0) upstreamSocket.write(head);
      upstreamSocket.pipe(client);
      client.pipe(upstreamSocket);
      const closeBoth = () => {
        client.destroy();
        upstreamSocket.destroy();
      };
      upstreamSocket.once('close', closeBoth);
      client.once('close', closeBoth);
      // Both servers allow half-open sockets, so an EOF alone would leave the pair open for ever
      // (a client that vanished, a backend that ignores EOF): pass the EOF on, then close both.
      client.once('end', () => upstreamSocket.end(closeBoth));
      upstreamSocket.once('end', () => client.end(closeBoth));
      upstreamSocket.on('error', closeBoth);
      publish(statusCode);
    },
    // The backend refused the upgrade with an ordinary response (401, 403, 426…):
    // relay it as-is, so the client sees the backend's reason rather than a 502.
    onResponseStart(_controller, statusCode, headers, statusMessage) {
      if (statusCode < 200) return;
      refusedStatus = statusCode;
      let head = `HTTP/1.1 ${statusCode} ${statusMessage || STATUS_CODES[statusCode] || ''}\r\n`;
      for (const [name, value] of Object.entries(headers)) {
        if (value === undefined || HOP_BY_HOP_RESPONSE.has(name) || name === 'content-length') continue;
        for (const v of Array.isArray(value) ? value : [value]) head += `${name}: ${v}\r\n`;
      }
      // Length unknown up front (the body streams), so the connection ends the body.
      client.write(`${head}connection: close\r\n\r\n`);
    },
    onResponseData(_controller, chunk) {
      client.write(chunk);
    },
    onResponseEnd() {
      client.end();
      publish(refusedStatus);
    },
    onResponseError(_controller, err) {
      if (refusedStatus !== 0) {
        client.destroy();
        publish(0, classifyFailure(err));
        return;
      }
      const cause = classifyFailure(err);
      publish(0, cause);
      if (client.writable) {
        writeRawError(client, cause === 'timeout' ? 504 : 502, {
          error: 'upgrade_failed',
          message: err.message,
          backend: upstream.name,
          cause,
          requestId: ctx.requestId,
        });
      }
    },
  };
  upstream.pool.dispatch(
    {
      path: upstream.pathPrefix === '' ? ctx.url : upstream.pathPrefix + ctx.url,
      method: 'GET',
      headers: headersFor(ctx, upstream),
      upgrade: protocol,
    },
    handler,
  );
}
