/**
 * Issue 2, item 6: WebSocket echo through a `cutover run` process (closing
 * either side closes the other, the route's mode picks the backend) and a
 * Server-Sent Events stream that arrives event by event.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { echoJson, startBackend, type Backend } from '../../helpers/backends.ts';
import { startCutoverProcess, tempDir, type CutoverProcess, type TempDir } from '../../helpers/cutover-process.ts';
import { attachEchoServer, connectWebSocket, within, type EchoServerHandle } from '../../helpers/ws.ts';

describe('WebSocket and Server-Sent Events', () => {
  let legacy: Backend | undefined;
  let candidate: Backend | undefined;
  let legacyWs: EchoServerHandle | undefined;
  let candidateWs: EchoServerHandle | undefined;
  let dir: TempDir | undefined;
  let cutover: CutoverProcess | undefined;
  /** The SSE handler waits on this before each next event. */
  let nextEvent: (() => void) | undefined;
  const cleanups: Array<() => void> = [];

  before(async () => {
    legacy = await startBackend('legacy', {
      handler: (req: IncomingMessage, res: ServerResponse, backend) => {
        if (req.url !== '/events') return echoJson(req, res, backend);
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        let n = 0;
        const send = () => {
          n++;
          res.write(`id: ${n}\nevent: tick\ndata: {"n":${n}}\n\n`);
          if (n === 3) {
            res.end();
            return;
          }
          nextEvent = send;
        };
        send();
      },
    });
    candidate = await startBackend('candidate');
    legacyWs = attachEchoServer(legacy.server, 'legacy');
    // The candidate's echo server ignores EOF, as some backends do.
    candidateWs = attachEchoServer(candidate.server, 'candidate', { endOnEof: false });
    dir = tempDir();
    cutover = await startCutoverProcess({
      dir,
      config: {
        backends: { legacy: { url: legacy.url }, candidate: { url: candidate.url } },
        routes: [{ id: 'ws-candidate', match: { path: '/ws/candidate' }, mode: 'candidate' }],
      },
    });
  });

  after(async () => {
    for (const c of cleanups) c();
    await cutover?.stop();
    await legacy?.close();
    await candidate?.close();
    dir?.remove();
  });

  it('echoes WebSocket messages through the proxy', async () => {
    const ws = await connectWebSocket(cutover!.proxyPort, '/ws/echo');
    cleanups.push(() => ws.socket.destroy());
    assert.equal(ws.headers['x-served-by'], 'legacy');
    for (const text of ['hello', 'second message', 'x'.repeat(5000)]) {
      ws.send(text);
      assert.equal(await ws.next(), `legacy:${text}`);
    }
    ws.close();
    await within(ws.closed, 5_000, 'the close handshake');
  });

  it('the client closing its connection closes the backend’s', async () => {
    const index = legacyWs!.sockets.length;
    const ws = await connectWebSocket(cutover!.proxyPort, '/ws/client-closes');
    cleanups.push(() => ws.socket.destroy());
    ws.send('ping');
    assert.equal(await ws.next(), 'legacy:ping');
    assert.equal(legacyWs!.sockets.length, index + 1);
    ws.socket.destroy();
    await within(legacyWs!.closed(index), 5_000, 'the backend seeing the connection close');
  });

  it('the backend closing its connection closes the client’s', async () => {
    const index = legacyWs!.sockets.length;
    const ws = await connectWebSocket(cutover!.proxyPort, '/ws/backend-closes');
    cleanups.push(() => ws.socket.destroy());
    ws.send('ping');
    assert.equal(await ws.next(), 'legacy:ping');
    legacyWs!.sockets[index]!.destroy();
    await within(ws.closed, 5_000, 'the client seeing the connection close');
  });

  it('follows the route’s mode: a candidate route’s WebSocket goes to the candidate', async () => {
    const before = candidateWs!.sockets.length;
    const ws = await connectWebSocket(cutover!.proxyPort, '/ws/candidate');
    cleanups.push(() => ws.socket.destroy());
    assert.equal(ws.headers['x-served-by'], 'candidate');
    ws.send('hi');
    assert.equal(await ws.next(), 'candidate:hi');
    assert.equal(candidateWs!.sockets.length, before + 1);
    ws.socket.destroy();
  });

  it('relays the backend’s own answer when it refuses an upgrade, instead of a 502', async () => {
    const socket = connect(cutover!.proxyPort, '127.0.0.1');
    cleanups.push(() => socket.destroy());
    // No Sec-WebSocket-Key: the echo server refuses with its own 400.
    socket.write('GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    await within(new Promise<void>((resolve) => socket.once('close', () => resolve())), 5_000, 'the refused upgrade to end');
    assert.match(text, /^HTTP\/1\.1 400 /);
    assert.doesNotMatch(text, /upgrade_failed/);
  });

  it('a client EOF closes the proxied pair even when the backend ignores EOF', async () => {
    const index = candidateWs!.sockets.length;
    const ws = await connectWebSocket(cutover!.proxyPort, '/ws/candidate');
    cleanups.push(() => ws.socket.destroy());
    ws.send('ping');
    assert.equal(await ws.next(), 'candidate:ping');
    const backendSawEof = new Promise<void>((resolve) => candidateWs!.sockets[index]!.once('end', () => resolve()));
    ws.socket.end();
    await within(backendSawEof, 5_000, 'the backend seeing EOF');
    // The proxy must not keep the client's connection half-open waiting for the backend.
    await within(ws.closed, 5_000, 'the proxy closing the client connection');
  });

  it('delivers Server-Sent Events one by one, each before the backend writes the next', async () => {
    const res = await request(`${cutover!.proxyUrl}/events`, { headers: { accept: 'text/event-stream' } });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-type'], 'text/event-stream');
    const iterator = res.body[Symbol.asyncIterator]();
    let buffered = '';
    const nextSseEvent = async (): Promise<string> => {
      for (;;) {
        const end = buffered.indexOf('\n\n');
        if (end !== -1) {
          const event = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          return event;
        }
        const r = await within(iterator.next(), 5_000, 'the next SSE event');
        if (r.done) throw new Error(`stream ended with "${buffered}" pending`);
        buffered += Buffer.from(r.value as Buffer).toString('utf8');
      }
    };
    for (let n = 1; n <= 3; n++) {
      // The backend writes event n+1 only after this event has reached the client.
      const event = await nextSseEvent();
      assert.equal(event, `id: ${n}\nevent: tick\ndata: {"n":${n}}`);
      if (n < 3) nextEvent!();
    }
    const end = await within(iterator.next(), 5_000, 'the end of the stream');
    assert.equal(end.done, true);
  });
});
