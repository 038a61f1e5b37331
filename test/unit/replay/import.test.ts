import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { importHar } from '../../../src/replay/har-import.ts';
import { importNginx, parseNginxTime } from '../../../src/replay/nginx-import.ts';
import { decodeBody, formatTrafficLine, parseTrafficLine } from '../../../src/replay/traffic-format.ts';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/${name}`, import.meta.url), 'utf8');

describe('HAR import', () => {
  const { records, skipped } = importHar(fixture('session.har'));

  it('keeps method, path and query, headers without hop-by-hop or pseudo fields', () => {
    assert.equal(records.length, 3);
    const [get, post] = records;
    assert.equal(get!.method, 'GET');
    assert.equal(get!.url, '/products?page=2');
    assert.equal(get!.time, Date.parse('2026-11-20T09:15:00.000Z'));
    assert.deepEqual(get!.headers, { host: 'shop.example', accept: 'application/json' });
    assert.deepEqual(post!.headers, { 'content-type': 'application/json', 'x-tag': ['a', 'b'], host: 'shop.example' });
  });

  it('takes text and base64 bodies, and the response when there is one', () => {
    const [get, post, put] = records;
    assert.equal(post!.body, '{"sku":"kettle","qty":2}');
    assert.equal(post!.bodyEncoding, 'utf8');
    assert.deepEqual([...decodeBody(put!.body, put!.bodyEncoding)], [0, 1, 2, 3]);
    assert.equal(put!.bodyEncoding, 'base64');
    assert.equal(post!.response?.status, 201);
    assert.equal(post!.response?.body, '{"ok":true}');
    // HAR content is decoded already: the gzip header must not survive.
    assert.equal(get!.response?.headers['content-encoding'], undefined);
    assert.equal(put!.response, undefined, 'status 0 means no answer');
  });

  it('reports what it skipped by entry index', () => {
    assert.deepEqual(skipped, [{ where: 3, reason: 'url "/relative/only" is not absolute' }]);
  });

  it('survives the NDJSON round trip unchanged', () => {
    for (const r of records) assert.deepEqual(parseTrafficLine(formatTrafficLine(r)), r);
  });

  it('rejects a file that is not HAR with a hint', () => {
    assert.throws(() => importHar('{"nope":1}'), /log\.entries is missing/);
    assert.throws(() => importHar('<html>'), /not a HAR file/);
  });
});

describe('nginx combined import', () => {
  const result = importNginx(fixture('nginx-access-combined.txt'), { host: 'shop.example' });

  it('imports GET and HEAD with referer, user agent and the given host', () => {
    assert.deepEqual(
      result.records.map((r) => [r.method, r.url]),
      [
        ['GET', '/products?page=2'],
        ['HEAD', '/health'],
        ['GET', '/users/42?x="y"'],
      ],
    );
    assert.deepEqual(result.records[0]!.headers, { host: 'shop.example', referer: 'https://shop.example/', 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64)' });
    assert.deepEqual(result.records[1]!.headers, { host: 'shop.example', 'user-agent': 'kube-probe/1.29' });
    assert.equal(result.records[0]!.time, Date.parse('2026-11-20T09:15:00Z'));
  });

  it('counts methods it cannot replay and reports bad lines by number', () => {
    assert.deepEqual(result.skippedMethods, { POST: 1, DELETE: 1 });
    assert.deepEqual(
      result.skipped.map((s) => s.where),
      [4, 7, 8],
    );
    assert.match(result.skipped[0]!.reason, /combined format/);
    assert.match(result.skipped[2]!.reason, /time/);
  });

  it('parses nginx times with their offset', () => {
    assert.equal(parseNginxTime('20/Nov/2026:10:15:00 +0100'), Date.parse('2026-11-20T09:15:00Z'));
    assert.equal(parseNginxTime('20/Nov/2026:10:15:00 -0230'), Date.parse('2026-11-20T12:45:00Z'));
    assert.ok(Number.isNaN(parseNginxTime('2026-11-20 10:15:00')));
  });
});

describe('traffic line parsing', () => {
  it('says what is wrong with a bad line', () => {
    assert.throws(() => parseTrafficLine('{'), /not JSON/);
    assert.throws(() => parseTrafficLine('[1]'), /not a JSON object/);
    assert.throws(() => parseTrafficLine('{"method":"GET","url":"x"}'), /"url" must be a path/);
    assert.throws(() => parseTrafficLine('{"method":"get me","url":"/"}'), /"method"/);
    assert.throws(() => parseTrafficLine('{"method":"GET","url":"/","bodyEncoding":"hex"}'), /bodyEncoding/);
    assert.throws(() => parseTrafficLine('{"method":"GET","url":"/","headers":{"a":1}}'), /headers/);
  });
});
