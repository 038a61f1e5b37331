/**
 * Issue 2, item 4: transparent proxying through a real `cutover run` process —
 * streaming, keep-alive, hop-by-hop fields, Host policy, X-Forwarded-*,
 * request ids and traceparent, HEAD, 100-continue, backend path prefix and
 * extra headers, and an https backend trusted through a CA bundle.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Pool, request } from 'undici';
import { echoJson, startBackend, type Backend } from '../../helpers/backends.ts';
import { startCutoverProcess, tempDir, type CutoverProcess, type TempDir } from '../../helpers/cutover-process.ts';
import { createClient, parseHead, rawExchange, type Client } from '../../helpers/http.ts';
import { selfSignedCertificate } from '../../helpers/tls.ts';
import { within } from '../../helpers/ws.ts';

const TRACEPARENT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/;

describe('transparent proxying', () => {
  let legacy: Backend | undefined;
  let candidate: Backend | undefined;
  let dir: TempDir | undefined;
  let cutover: CutoverProcess | undefined;
  let client: Client | undefined;
  /** Lets the slow chunked response finish. */
  let releaseSlow: (() => void) | undefined;

  before(async () => {
    legacy = await startBackend('legacy', {
      handler: (req: IncomingMessage, res: ServerResponse, backend) => {
        if (req.url === '/slow-chunked') {
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.write('first chunk;');
          const released = new Promise<void>((resolve) => (releaseSlow = resolve));
          void released.then(() => res.end('last chunk'));
          return;
        }
        if (req.url === '/hop') {
          req.resume();
          res.setHeader('Connection', 'X-Backend-Hop');
          res.setHeader('X-Backend-Hop', 'must-not-reach-the-client');
          res.setHeader('Keep-Alive', 'timeout=1234, max=7');
          res.setHeader('Proxy-Connection', 'keep-alive');
          res.setHeader('X-Normal', 'reaches-the-client');
          res.end('ok');
          return;
        }
        echoJson(req, res, backend);
      },
    });
    candidate = await startBackend('candidate');
    dir = tempDir();
    cutover = await startCutoverProcess({
      dir,
      config: {
        backends: {
          legacy: { url: legacy.url },
          candidate: {
            url: `${candidate.url}/v2/`,
            host: 'rewrite',
            headers: { Authorization: 'Bearer backend-token', 'X-Backend-Extra': 'yes' },
          },
        },
        routes: [
          { id: 'cand', match: { path: '/cand/*' }, mode: 'candidate' },
          { id: 'shadowed', match: { path: '/shadow/*' }, mode: 'shadow', shadow: { noiseSample: 0 } },
        ],
      },
    });
    client = createClient();
  });

  after(async () => {
    releaseSlow?.();
    await client?.close();
    await cutover?.stop();
    await legacy?.close();
    await candidate?.close();
    dir?.remove();
  });

  const lastSeen = (b: Backend) => b.seen[b.seen.length - 1]!;

  it('streams: the first chunk of a slow chunked response reaches the client before the upstream finishes', async () => {
    const res = await request(`${cutover!.proxyUrl}/slow-chunked`, { dispatcher: client!.agent });
    assert.equal(res.statusCode, 200);
    const it = res.body[Symbol.asyncIterator]();
    // The backend has not ended its response: this only resolves if the proxy forwards chunks as they come.
    const first = await within(it.next(), 5_000, 'the first chunk');
    assert.equal(Buffer.from(first.value as Buffer).toString(), 'first chunk;');
    releaseSlow!();
    let rest = '';
    for (let r = await it.next(); !r.done; r = await it.next()) rest += Buffer.from(r.value as Buffer).toString();
    assert.equal(rest, 'last chunk');
  });

  it('keeps connections alive: one client connection carries several requests, and the upstream connection is reused', async () => {
    const socket = connect(cutover!.proxyPort, '127.0.0.1');
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('error', reject);
      });
      let received = '';
      socket.setEncoding('latin1');
      socket.on('data', (t: string) => (received += t));
      const before = legacy!.seen.length;
      for (let i = 0; i < 3; i++) {
        const want = i + 1;
        socket.write(`GET /ka/${i} HTTP/1.1\r\nHost: example.test\r\n\r\n`);
        await within(
          new Promise<void>((resolve) => {
            const check = () => ((received.match(/HTTP\/1\.1 200/g) ?? []).length >= want ? resolve() : setTimeout(check, 5));
            check();
          }),
          5_000,
          `response ${want} on the same connection`,
        );
      }
      assert.equal(socket.destroyed, false, 'the proxy must keep the client connection open');
      const ports = legacy!.seen.slice(before).map((s) => s.remotePort);
      assert.equal(ports.length, 3);
      assert.equal(new Set(ports).size, 1, `sequential requests should reuse one upstream connection, saw ports ${ports.join(', ')}`);
    } finally {
      socket.destroy();
    }
  });

  it('removes hop-by-hop request fields, including those the Connection header names', async () => {
    const raw = await rawExchange(
      cutover!.proxyPort,
      'GET /hop-req HTTP/1.1\r\nHost: example.test\r\nConnection: close, X-Client-Hop\r\nX-Client-Hop: secret\r\nKeep-Alive: timeout=9\r\n' +
        'TE: trailers\r\nTrailer: X-T\r\nProxy-Authorization: Basic Zm9vOmJhcg==\r\nProxy-Connection: keep-alive\r\nX-Normal: kept\r\n\r\n',
    );
    assert.equal(parseHead(raw).status, 200, raw);
    const h = lastSeen(legacy!).headers;
    for (const name of ['x-client-hop', 'te', 'trailer', 'proxy-authorization', 'proxy-connection']) assert.equal(h[name], undefined, `${name} was forwarded`);
    assert.notEqual(h['keep-alive'], 'timeout=9');
    assert.notEqual(h.connection, 'close, X-Client-Hop');
    assert.equal(h['x-normal'], 'kept');
  });

  it('removes hop-by-hop response fields, including those the Connection header names', async () => {
    const res = await client!.send(`${cutover!.proxyUrl}/hop`);
    assert.equal(res.status, 200);
    assert.equal(res.text, 'ok');
    assert.equal(res.headers['x-backend-hop'], undefined, 'a field named by the backend’s Connection header reached the client');
    assert.equal(res.headers['proxy-connection'], undefined);
    assert.notEqual(res.headers['keep-alive'], 'timeout=1234, max=7');
    assert.equal(res.headers['x-normal'], 'reaches-the-client');
  });

  it('passes the client Host by default and rewrites it with host: rewrite', async () => {
    await client!.send(`${cutover!.proxyUrl}/plain`, { headers: { host: 'shop.example.com' } });
    assert.equal(lastSeen(legacy!).headers.host, 'shop.example.com');
    await client!.send(`${cutover!.proxyUrl}/cand/x`, { headers: { host: 'shop.example.com' } });
    assert.equal(lastSeen(candidate!).headers.host, `127.0.0.1:${candidate!.port}`);
  });

  it('sets X-Forwarded-For/-Proto/-Host, appending to what the client sent', async () => {
    await client!.send(`${cutover!.proxyUrl}/xf`, { headers: { host: 'shop.example.com' } });
    let h = lastSeen(legacy!).headers;
    assert.equal(h['x-forwarded-for'], '127.0.0.1');
    assert.equal(h['x-forwarded-proto'], 'http');
    assert.equal(h['x-forwarded-host'], 'shop.example.com');
    await client!.send(`${cutover!.proxyUrl}/xf`, {
      headers: { host: 'shop.example.com', 'x-forwarded-for': '203.0.113.9', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'edge.example' },
    });
    h = lastSeen(legacy!).headers;
    assert.equal(h['x-forwarded-for'], '203.0.113.9, 127.0.0.1');
    assert.equal(h['x-forwarded-proto'], 'https, http');
    assert.equal(h['x-forwarded-host'], 'edge.example, shop.example.com');
  });

  it('generates x-request-id when absent and keeps the client’s when present', async () => {
    await client!.send(`${cutover!.proxyUrl}/rid`);
    const generated = lastSeen(legacy!).headers['x-request-id'];
    assert.match(String(generated), /^[0-9a-z]{12,}$/);
    await client!.send(`${cutover!.proxyUrl}/rid`);
    assert.notEqual(lastSeen(legacy!).headers['x-request-id'], generated, 'request ids must differ per request');
    await client!.send(`${cutover!.proxyUrl}/rid`, { headers: { 'x-request-id': 'client-chosen-id-1' } });
    assert.equal(lastSeen(legacy!).headers['x-request-id'], 'client-chosen-id-1');
  });

  it('in shadow mode both backends see the same generated x-request-id', async () => {
    const before = candidate!.seen.length;
    const res = await client!.send(`${cutover!.proxyUrl}/shadow/item?id=3`);
    assert.equal(res.json<{ backend: string }>().backend, 'legacy');
    const legacyId = lastSeen(legacy!).headers['x-request-id'];
    assert.ok(legacyId);
    await within(
      new Promise<void>((resolve) => {
        const check = () => (candidate!.seen.length > before ? resolve() : setTimeout(check, 10));
        check();
      }),
      5_000,
      'the mirrored request at the candidate',
    );
    const mirrored = candidate!.seen[before]!;
    assert.equal(mirrored.url, '/v2/shadow/item?id=3');
    assert.equal(mirrored.headers['x-request-id'], legacyId);
    assert.equal(mirrored.headers.traceparent, lastSeen(legacy!).headers.traceparent);
  });

  it('passes traceparent through, or creates one', async () => {
    const tp = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    await client!.send(`${cutover!.proxyUrl}/tp`, { headers: { traceparent: tp } });
    assert.equal(lastSeen(legacy!).headers.traceparent, tp);
    await client!.send(`${cutover!.proxyUrl}/tp`);
    assert.match(String(lastSeen(legacy!).headers.traceparent), TRACEPARENT);
  });

  it('HEAD: the backend sees HEAD, the client gets the headers and no body', async () => {
    const res = await client!.send(`${cutover!.proxyUrl}/head-me`, { method: 'HEAD' });
    assert.equal(res.status, 200);
    assert.equal(res.text, '');
    assert.equal(res.headers['x-served-by'], 'legacy');
    assert.ok(Number(res.headers['content-length']) > 0, 'HEAD keeps the content-length of the GET');
    assert.equal(lastSeen(legacy!).method, 'HEAD');
  });

  it('Expect: 100-continue: the client gets 100, sends its body, and the upload arrives whole', async () => {
    const body = Buffer.alloc(200_000, 7);
    const socket = connect(cutover!.proxyPort, '127.0.0.1');
    try {
      let received = '';
      socket.setEncoding('latin1');
      socket.on('data', (t: string) => (received += t));
      const waitFor = (re: RegExp, what: string) =>
        within(
          new Promise<void>((resolve) => {
            const check = () => (re.test(received) ? resolve() : setTimeout(check, 5));
            check();
          }),
          5_000,
          what,
        );
      socket.write(`PUT /upload HTTP/1.1\r\nHost: example.test\r\nContent-Type: application/octet-stream\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\n\r\n`);
      await waitFor(/^HTTP\/1\.1 100 Continue\r\n\r\n/, '100 Continue');
      socket.write(body);
      await waitFor(/HTTP\/1\.1 200[^]*\r\n\r\n[^]*"bodyBytes":200000/, 'the final response');
      assert.equal(lastSeen(legacy!).headers.expect, undefined);
      assert.equal(lastSeen(legacy!).bodyBytes, body.length);
    } finally {
      socket.destroy();
    }
  });

  it('puts the backend URL’s path prefix before the request path', async () => {
    const res = await client!.send(`${cutover!.proxyUrl}/cand/items?page=2`);
    assert.equal(res.json<{ backend: string; url: string }>().url, '/v2/cand/items?page=2');
  });

  it('adds the backend’s extra headers; a backend header replaces the client’s same-name header', async () => {
    await client!.send(`${cutover!.proxyUrl}/cand/auth`, { headers: { authorization: 'Bearer client-token', 'x-other': '1' } });
    const s = lastSeen(candidate!);
    assert.equal(s.headers.authorization, 'Bearer backend-token');
    assert.equal(s.headers['x-backend-extra'], 'yes');
    assert.equal(s.headers['x-other'], '1');
    const authLines = s.rawHeaders.filter((_v, i) => i % 2 === 0 && s.rawHeaders[i]!.toLowerCase() === 'authorization');
    assert.equal(authLines.length, 1, 'exactly one Authorization header reaches the backend');
    // Legacy has no extra headers: the client's own value passes.
    await client!.send(`${cutover!.proxyUrl}/auth`, { headers: { authorization: 'Bearer client-token' } });
    assert.equal(lastSeen(legacy!).headers.authorization, 'Bearer client-token');
  });
});

describe('https backend with a CA bundle', () => {
  let tlsBackend: Backend | undefined;
  let dir: TempDir | undefined;
  let cutover: CutoverProcess | undefined;

  before(async () => {
    dir = tempDir();
    const { certPath: cert, ...pem } = selfSignedCertificate(dir.path);
    tlsBackend = await startBackend('tls', { tls: { key: pem.key, cert: pem.cert } });
    cutover = await startCutoverProcess({
      dir,
      config: {
        backends: {
          legacy: { url: tlsBackend.url, ca: cert },
          // The same server without the CA: its certificate must be refused.
          candidate: { url: tlsBackend.url },
        },
        routes: [{ id: 'untrusted', match: { path: '/untrusted' }, mode: 'candidate' }],
      },
    });
  });

  after(async () => {
    await cutover?.stop();
    await tlsBackend?.close();
    dir?.remove();
  });

  it('serves through https when the CA is configured, and refuses an untrusted certificate', async () => {
    const pool = new Pool(cutover!.proxyUrl);
    try {
      const ok = await request(`${cutover!.proxyUrl}/secure`, { dispatcher: pool });
      const body = (await ok.body.json()) as { backend: string; url: string };
      assert.equal(ok.statusCode, 200);
      assert.equal(body.backend, 'tls');
      assert.equal(body.url, '/secure');
      const bad = await request(`${cutover!.proxyUrl}/untrusted`, { dispatcher: pool });
      const err = (await bad.body.json()) as { backend: string; cause: string };
      assert.equal(bad.statusCode, 502);
      assert.equal(err.backend, 'candidate');
      assert.equal(tlsBackend!.seen.length, 1, 'the untrusted connection never got as far as a request');
    } finally {
      await pool.close();
    }
  });
});
