/**
 * The data plane's recording tap: only recorded routes publish `recorded`
 * events, with the request body (up to the cap) and, when asked, the
 * response the client got; a body over the cap is recorded without it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { validateConfig } from '../../../src/config/load.ts';
import type { CutoverConfigInput } from '../../../src/config/schema.ts';
import { channels, type RecordedEvent } from '../../../src/dataplane/events.ts';
import { createDataPlane, type DataPlane } from '../../../src/dataplane/server.ts';
import { startBackend, type Backend } from '../../helpers/backends.ts';

describe('recording tap', () => {
  let legacy: Backend;
  let candidate: Backend;
  let dp: DataPlane;
  let base: string;
  const events: RecordedEvent[] = [];
  const onRecorded = (e: unknown) => events.push(e as RecordedEvent);

  before(async () => {
    legacy = await startBackend('legacy');
    candidate = await startBackend('candidate');
    const config = validateConfig(
      {
        backends: { legacy: { url: legacy.url }, candidate: { url: candidate.url } },
        routes: [
          { id: 'orders', match: { path: '/orders' } },
          { id: 'users', match: { path: '/users/:id' }, mode: 'shadow' },
        ],
      } as CutoverConfigInput,
      'test',
    );
    dp = createDataPlane({ config });
    const addr = await dp.listen('127.0.0.1:0');
    base = `http://127.0.0.1:${addr.port}`;
    channels.recorded.subscribe(onRecorded);
  });
  after(async () => {
    channels.recorded.unsubscribe(onRecorded);
    await dp.close(100);
    await legacy.close();
    await candidate.close();
  });

  const settle = () => new Promise((r) => setTimeout(r, 50));

  it('records nothing until a route is recorded, then only that route', async () => {
    events.length = 0;
    await (await request(`${base}/orders`, { method: 'POST', body: '{"a":1}', headers: { 'content-type': 'application/json' } })).body.text();
    await settle();
    assert.equal(events.length, 0);

    dp.update({ recording: new Map([['orders', { rate: 1, withResponse: true, captureLimit: 1024 }]]) });
    await (await request(`${base}/orders?x=1`, { method: 'POST', body: '{"a":1}', headers: { 'content-type': 'application/json' } })).body.text();
    await (await request(`${base}/users/7`)).body.text();
    await settle();
    assert.equal(events.length, 1);
    const e = events[0]!;
    assert.equal(e.route, 'orders');
    assert.equal(e.method, 'POST');
    assert.equal(e.url, '/orders?x=1');
    assert.equal(e.body.toString(), '{"a":1}');
    assert.equal(e.bodyTruncated, false);
    assert.equal(e.response?.status, 200);
    assert.equal(e.response?.headers['x-served-by'], 'legacy');
    assert.equal(JSON.parse(e.response!.body.toString()).backend, 'legacy');
  });

  it('records a shadowed route without response when not asked, and flags bodies over the cap', async () => {
    events.length = 0;
    dp.update({ recording: new Map([['users', { rate: 1, withResponse: false, captureLimit: 8 }]]) });
    await (await request(`${base}/users/7`, { method: 'GET' })).body.text();
    await (await request(`${base}/users/8`, { method: 'PUT', body: 'x'.repeat(100) })).body.text();
    await (await request(`${base}/orders`, { method: 'POST', body: 'z' })).body.text();
    await settle();
    assert.deepEqual(events.map((e) => [e.route, e.url, e.bodyTruncated, e.body.length, e.response === undefined]), [
      ['users', '/users/7', false, 0, true],
      ['users', '/users/8', true, 0, true],
    ]);
    // The backend still got the whole body: the tap only watches.
    assert.equal(legacy.seen.at(-2)!.bodyBytes, 100);
  });

  it('keeps the response headers when the backend sends no reason phrase', async () => {
    const bare = createServer((_req, res) => {
      // A status line without a reason phrase reaches undici as an empty statusText.
      res.socket!.write('HTTP/1.1 200 \r\ncontent-type: text/plain\r\nx-bare: 1\r\ncontent-length: 2\r\n\r\nok');
    });
    await new Promise<void>((r) => bare.listen(0, '127.0.0.1', r));
    const config = validateConfig({ backends: { legacy: { url: `http://127.0.0.1:${(bare.address() as AddressInfo).port}` }, candidate: { url: candidate.url } } } as CutoverConfigInput, 'test');
    const plane = createDataPlane({ config, recording: new Map([['default', { rate: 1, withResponse: true, captureLimit: 1024 }]]) });
    const addr = await plane.listen('127.0.0.1:0');
    try {
      events.length = 0;
      const res = await request(`http://127.0.0.1:${addr.port}/x`);
      assert.equal(await res.body.text(), 'ok');
      await settle();
      assert.equal(events.length, 1);
      assert.equal(events[0]!.response?.headers['x-bare'], '1');
      assert.equal(events[0]!.response?.body.toString(), 'ok');
    } finally {
      await plane.close(100);
      bare.closeAllConnections();
      bare.close();
    }
  });

  it('stops recording when the route is dropped from the map', async () => {
    events.length = 0;
    dp.update({ recording: new Map() });
    await (await request(`${base}/users/9`)).body.text();
    await settle();
    assert.equal(events.length, 0);
  });
});
