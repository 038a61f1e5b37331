/**
 * Issue 2, item 7: upstream failures as a client sees them through a
 * `cutover run` process — 502/504 JSON errors, fallback to legacy for
 * idempotent requests, client aborts reaching the backend, malformed requests.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { echoJson, closedPort, startBackend, type Backend } from '../../helpers/backends.ts';
import { startCutoverProcess, tempDir, type CutoverProcess, type TempDir } from '../../helpers/cutover-process.ts';
import { createClient, parseHead, rawExchange, type Client } from '../../helpers/http.ts';
import { within } from '../../helpers/ws.ts';

interface ErrorBody {
  error: string;
  message: string;
  backend: string;
  cause: string;
  requestId: string;
}

function assertErrorBody(text: string, backend: string): ErrorBody {
  const body = JSON.parse(text) as ErrorBody;
  assert.equal(body.backend, backend);
  assert.ok(body.requestId, 'the error names the request id');
  assert.doesNotMatch(text, /\n\s+at |node:internal|\.ts:\d+/, 'no stack trace in the body');
  return body;
}

describe('legacy down, hung backend', () => {
  let candidate: Backend | undefined;
  let dir: TempDir | undefined;
  let cutover: CutoverProcess | undefined;
  let client: Client | undefined;

  before(async () => {
    candidate = await startBackend('candidate', {
      handler: (req, res, backend) => {
        if (req.url?.startsWith('/hang')) return; // never answers
        echoJson(req, res, backend);
      },
    });
    dir = tempDir();
    cutover = await startCutoverProcess({
      dir,
      config: {
        backends: {
          legacy: { url: `http://127.0.0.1:${await closedPort()}` },
          candidate: { url: candidate.url, timeouts: { headers: '300ms' } },
        },
        routes: [{ id: 'hang', match: { path: '/hang/*' }, mode: 'candidate' }],
      },
    });
    client = createClient();
  });

  after(async () => {
    await client?.close();
    await cutover?.stop();
    await candidate?.close();
    dir?.remove();
  });

  it('legacy down: 502 with a JSON body naming the backend and the request id, no stack trace', async () => {
    const res = await client!.send(`${cutover!.proxyUrl}/orders/1`);
    assert.equal(res.status, 502);
    assert.match(String(res.headers['content-type']), /application\/json/);
    const body = assertErrorBody(res.text, 'legacy');
    assert.equal(body.cause, 'connect_refused');
    assert.equal(res.headers['x-request-id'], body.requestId);
  });

  it('the client’s request id is the one reported', async () => {
    const res = await client!.send(`${cutover!.proxyUrl}/orders/2`, { headers: { 'x-request-id': 'req-from-client-7' } });
    assert.equal(res.status, 502);
    assert.equal(assertErrorBody(res.text, 'legacy').requestId, 'req-from-client-7');
  });

  it('a hung backend with a short timeouts.headers gives 504', async () => {
    const res = await client!.send(`${cutover!.proxyUrl}/hang/forever`);
    assert.equal(res.status, 504);
    const body = assertErrorBody(res.text, 'candidate');
    assert.equal(body.cause, 'timeout');
    assert.equal(candidate!.seen.filter((s) => s.url === '/hang/forever').length, 1, 'the backend did receive the request');
  });
});

describe('fallback, client aborts, malformed requests', () => {
  let legacy: Backend | undefined;
  let dir: TempDir | undefined;
  let cutover: CutoverProcess | undefined;
  let client: Client | undefined;
  /** Resolves when the backend's response to /held/* is closed before it was sent. */
  const heldClosed = new Map<string, Promise<void>>();
  const release = new Map<string, () => void>();

  before(async () => {
    legacy = await startBackend('legacy', {
      handler: (req: IncomingMessage, res: ServerResponse, backend) => {
        if (req.url?.startsWith('/held/')) {
          heldClosed.set(
            req.url,
            new Promise((resolve) => res.once('close', () => (res.writableFinished ? undefined : resolve()))),
          );
          release.set(req.url, () => {
            if (!res.destroyed) res.end(JSON.stringify({ backend: backend.name, url: req.url }));
          });
          return;
        }
        echoJson(req, res, backend);
      },
    });
    dir = tempDir();
    cutover = await startCutoverProcess({
      dir,
      config: {
        backends: { legacy: { url: legacy.url }, candidate: { url: `http://127.0.0.1:${await closedPort()}` } },
        routes: [
          { id: 'with-fallback', match: { path: '/fb/*' }, mode: 'candidate', fallback: 'legacy' },
          { id: 'no-fallback', match: { path: '/nofb/*' }, mode: 'candidate' },
        ],
      },
    });
    client = createClient();
  });

  after(async () => {
    for (const r of release.values()) r();
    await client?.close();
    await cutover?.stop();
    await legacy?.close();
    dir?.remove();
  });

  it('fallback: legacy — a GET the candidate refuses is served by legacy', async () => {
    const res = await client!.send(`${cutover!.proxyUrl}/fb/items?x=1`);
    assert.equal(res.status, 200, res.text);
    const body = res.json<{ backend: string; url: string }>();
    assert.equal(body.backend, 'legacy');
    assert.equal(body.url, '/fb/items?x=1');
  });

  it('fallback: legacy — a POST is not retried: 502 naming the candidate', async () => {
    const before = legacy!.seen.length;
    const res = await client!.send(`${cutover!.proxyUrl}/fb/items`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
    assert.equal(res.status, 502);
    assertErrorBody(res.text, 'candidate');
    assert.equal(legacy!.seen.length, before, 'legacy must not see the POST');
  });

  it('without fallback a refused GET is a 502 naming the candidate', async () => {
    const res = await client!.send(`${cutover!.proxyUrl}/nofb/items`);
    assert.equal(res.status, 502);
    assert.equal(assertErrorBody(res.text, 'candidate').cause, 'connect_refused');
  });

  it('a client abort aborts the upstream request', async () => {
    const path = '/held/abort-me';
    const socket = connect(cutover!.proxyPort, '127.0.0.1');
    socket.on('error', () => {});
    try {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: example.test\r\n\r\n`);
      await within(
        new Promise<void>((resolve) => {
          const check = () => (heldClosed.has(path) ? resolve() : setTimeout(check, 5));
          check();
        }),
        5_000,
        'the request reaching the backend',
      );
    } finally {
      socket.destroy();
    }
    await within(heldClosed.get(path)!, 5_000, 'the backend seeing its request closed');
  });

  it('a malformed request gets 400 while a concurrent good request on another connection is unaffected', async () => {
    const path = '/held/concurrent';
    const good = client!.send(`${cutover!.proxyUrl}${path}`);
    await within(
      new Promise<void>((resolve) => {
        const check = () => (release.has(path) ? resolve() : setTimeout(check, 5));
        check();
      }),
      5_000,
      'the good request reaching the backend',
    );
    const raw = await rawExchange(cutover!.proxyPort, 'GET /x HTTP/1.1\r\nHost: example.test\r\nThis is not a header\r\n\r\n');
    const head = parseHead(raw);
    assert.equal(head.status, 400, raw);
    assert.match(head.body, /bad_request/);
    const garbage = parseHead(await rawExchange(cutover!.proxyPort, '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not http at all\r\n\r\n'));
    assert.equal(garbage.status, 400);
    release.get(path)!();
    const res = await good;
    assert.equal(res.status, 200);
    assert.equal(res.json<{ backend: string }>().backend, 'legacy');
    // And the proxy still serves new requests.
    assert.equal((await client!.send(`${cutover!.proxyUrl}/after`)).status, 200);
  });
});
