import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareResponses, compileRules, DEFAULT_IGNORED_HEADERS, FRAMING_HEADERS } from '../../../src/compare/index.ts';
import type { CompareRulesInput } from '../../../src/config/compare-schema.ts';
import { rawMessage } from './messages.ts';

type Headers = Record<string, string | string[]>;

function headerDiffs(a: Headers, b: Headers, rules: CompareRulesInput = {}): string[] {
  return compareResponses(rawMessage('', a), rawMessage('', b), compileRules(rules)).differences.map((d) => `${d.path} ${d.detail}`);
}

describe('default header ignore list', () => {
  const differing: Array<[string, string, string]> = [
    ['Date', 'Mon, 01 Jan 2024 00:00:00 GMT', 'Mon, 01 Jan 2024 00:00:01 GMT'],
    ['Server', 'nginx', 'node'],
    ['X-Request-Id', 'a', 'b'],
    ['x-correlation-id', 'a', 'b'],
    ['traceparent', '00-aa-01', '00-bb-01'],
    ['tracestate', 'x=1', 'x=2'],
    ['X-B3-TraceId', 'a', 'b'],
    ['x-b3-spanid', 'a', 'b'],
    ['X-Amzn-Trace-Id', 'Root=1', 'Root=2'],
    ['Age', '1', '2'],
    ['Via', '1.1 a', '1.1 b'],
    ['ETag', '"abc"', '"def"'],
    ['x-powered-by', 'PHP', 'Express'],
    ['x-datadog-trace-id', '1', '2'],
  ];
  for (const [name, a, b] of differing) {
    it(`${name} is ignored by default`, () => assert.deepEqual(headerDiffs({ [name]: a }, { [name]: b }), []));
  }
  it('the documented list holds these names', () => {
    for (const name of ['date', 'server', 'x-request-id', 'traceparent', 'x-b3-*', 'etag', 'age', 'via']) assert.ok(DEFAULT_IGNORED_HEADERS.includes(name), name);
  });

  const framing: Array<[string, string, string]> = [
    ['Content-Length', '10', '12'],
    ['Transfer-Encoding', 'chunked', 'identity'],
    ['Content-Encoding', 'gzip', 'br'],
    ['Connection', 'keep-alive', 'close'],
    ['Keep-Alive', 'timeout=5', 'timeout=60'],
  ];
  for (const [name, a, b] of framing) {
    it(`framing header ${name} is never compared`, () => {
      assert.ok(FRAMING_HEADERS.includes(name.toLowerCase()));
      assert.deepEqual(headerDiffs({ [name]: a }, { [name]: b }, { headers: { defaultIgnores: false } }), []);
    });
  }
});

describe('header comparison', () => {
  const table: Array<[string, Headers, Headers, CompareRulesInput, string[]]> = [
    ['names are case-insensitive', { 'Cache-Control': 'no-store' }, { 'cache-control': 'no-store' }, {}, []],
    ['a changed value', { 'cache-control': 'no-store' }, { 'cache-control': 'max-age=60' }, {}, ['headers.cache-control values differ']],
    ['a header missing in candidate', { 'x-frame-options': 'DENY' }, {}, {}, ['headers.x-frame-options missing in candidate']],
    ['a header only in candidate', {}, { 'x-new': '1' }, {}, ['headers.x-new only in candidate']],
    ['repeated values join in order', { vary: ['accept', 'origin'] }, { vary: 'accept, origin' }, {}, []],
    ['content-type compared as a media type', { 'content-type': 'application/json; charset=UTF-8' }, { 'content-type': 'Application/JSON;charset=utf-8' }, {}, []],
    ['charset=utf-8 on JSON equals none', { 'content-type': 'application/json' }, { 'content-type': 'application/json; charset=utf-8' }, {}, []],
    ['charset matters on text', { 'content-type': 'text/html' }, { 'content-type': 'text/html; charset=utf-8' }, {}, ['headers.content-type values differ']],
    ['other media type', { 'content-type': 'application/json' }, { 'content-type': 'text/plain' }, {}, ['headers.content-type values differ']],
    ['headers.ignore adds names', { 'x-debug': '1' }, { 'x-debug': '2' }, { headers: { ignore: ['X-Debug'] } }, []],
    ['headers.ignore prefix', { 'x-debug-a': '1' }, { 'x-debug-a': '2' }, { headers: { ignore: ['x-debug-*'] } }, []],
    ['headers.only compares only the listed names', { a: '1', b: '1' }, { a: '2', b: '2' }, { headers: { only: ['a'] } }, ['headers.a values differ']],
    ['headers.only with a prefix', { 'x-a': '1', b: '1' }, { 'x-a': '2', b: '2' }, { headers: { only: ['x-*'] } }, ['headers.x-a values differ']],
    ['headers.only can name a default-ignored header', { etag: '"a"' }, { etag: '"b"' }, { headers: { only: ['etag'] } }, ['headers.etag values differ']],
    ['headers.keep takes a name off the default list', { etag: '"a"', date: 'x' }, { etag: '"b"', date: 'y' }, { headers: { keep: ['ETag'] } }, ['headers.etag values differ']],
    ['defaultIgnores: false compares Date', { date: 'x' }, { date: 'y' }, { headers: { defaultIgnores: false } }, ['headers.date values differ']],
    ['set-cookie: other values, same names match', { 'set-cookie': ['sid=1; Path=/', 'theme=dark'] }, { 'set-cookie': ['theme=light', 'sid=2; Path=/; HttpOnly'] }, {}, []],
    ['set-cookie: a cookie no longer set', { 'set-cookie': ['sid=1', 'csrf=2'] }, { 'set-cookie': 'sid=1' }, {}, ['headers.set-cookie cookie names differ (values and expiry are not compared)']],
    ['set-cookie ignored when listed', { 'set-cookie': 'sid=1' }, {}, { headers: { ignore: ['set-cookie'] } }, []],
  ];
  for (const [name, a, b, rules, expected] of table) {
    it(name, () => assert.deepEqual(headerDiffs(a, b, rules), expected));
  }

  it('a header difference carries both values', () => {
    const r = compareResponses(rawMessage('', { 'cache-control': 'a' }), rawMessage('', { 'cache-control': 'b' }), compileRules());
    assert.deepEqual(r.differences[0], { kind: 'header', path: 'headers.cache-control', generalPath: 'headers.cache-control', legacy: 'a', candidate: 'b', detail: 'values differ' });
  });
});
