import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import zlib from 'node:zlib';
import { compareResponses, compileRules, decodeContent, liftResponse, compareLifted, type HttpMessage } from '../../../src/compare/index.ts';
import { jsonMessage, rawMessage } from './messages.ts';

const JSON_TEXT = JSON.stringify({ items: [{ id: 1, name: 'a' }, { id: 2, name: 'b' }], total: 2 });
const JSON_TYPE = { 'content-type': 'application/json' };

function encoded(encoding: string, bytes: Buffer): HttpMessage {
  return rawMessage(bytes, { ...JSON_TYPE, 'content-encoding': encoding });
}

function summary(legacy: HttpMessage, candidate: HttpMessage, rules = compileRules()): string[] {
  return compareResponses(legacy, candidate, rules).differences.map((d) => `${d.kind} ${d.path}`);
}

describe('content encodings are decoded before comparing', () => {
  const identity = rawMessage(JSON_TEXT, JSON_TYPE);
  const plain = Buffer.from(JSON_TEXT);
  const table: Array<[string, HttpMessage]> = [
    ['gzip', encoded('gzip', zlib.gzipSync(plain))],
    ['x-gzip', encoded('x-gzip', zlib.gzipSync(plain))],
    ['br', encoded('br', zlib.brotliCompressSync(plain))],
    ['deflate (zlib-wrapped)', encoded('deflate', zlib.deflateSync(plain))],
    ['deflate (raw, as some servers send it)', encoded('deflate', zlib.deflateRawSync(plain))],
    ['zstd', encoded('zstd', zlib.zstdCompressSync(plain))],
    ['gzip then br (two layers)', encoded('gzip, br', zlib.brotliCompressSync(zlib.gzipSync(plain)))],
    ['Identity written out', encoded('Identity', plain)],
    ['GZIP in upper case', encoded('GZIP', zlib.gzipSync(plain))],
  ];
  for (const [name, message] of table) {
    it(`${name} vs identity of the same JSON matches`, () => assert.deepEqual(summary(identity, message), []));
  }

  it('gzip vs br of different JSON reports the JSON difference', () => {
    const other = Buffer.from(JSON_TEXT.replace('"b"', '"c"'));
    assert.deepEqual(summary(encoded('gzip', zlib.gzipSync(plain)), encoded('br', zlib.brotliCompressSync(other))), ['value $.items[1].name']);
  });

  it('a decompression bomb stops at body.maxDecodedBytes', () => {
    const bomb = zlib.gzipSync(Buffer.alloc(10 * 1024 * 1024));
    const r = decodeContent(bomb, 'gzip', 1024 * 1024);
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.reason, /decodes to more than 1048576 bytes/);
  });

  it('a body that cannot be decoded on one side is a type difference at body', () => {
    const r = compareResponses(identity, encoded('gzip', Buffer.from('not gzip')), compileRules());
    assert.deepEqual(r.differences.map((d) => `${d.kind} ${d.path}`), ['type body']);
    assert.match(r.differences[0]!.detail!, /candidate: gzip body could not be decoded/);
  });

  it('an unsupported encoding is named', () => {
    const r = compareResponses(identity, encoded('compress', plain), compileRules());
    assert.match(r.differences[0]!.detail!, /unsupported content-encoding "compress"/);
  });

  it('bombs on both sides with equal raw bytes match; with other raw bytes they do not', () => {
    const rules = compileRules({ body: { maxDecodedBytes: 1024 } });
    const bomb = zlib.gzipSync(Buffer.alloc(100_000));
    assert.deepEqual(summary(encoded('gzip', bomb), encoded('gzip', Buffer.from(bomb)), rules), []);
    assert.deepEqual(summary(encoded('gzip', bomb), encoded('gzip', zlib.gzipSync(Buffer.alloc(100_001))), rules), ['value body']);
  });
});

describe('form bodies are compared as fields', () => {
  const form = { 'content-type': 'application/x-www-form-urlencoded' };
  const table: Array<[string, string, string, string[]]> = [
    ['same fields in another order', 'a=1&b=2', 'b=2&a=1', []],
    ['+ and %20 are the same space', 'q=hello+world', 'q=hello%20world', []],
    ['a changed field', 'a=1&b=2', 'a=1&b=3', ['value $.b']],
    ['a missing field', 'a=1&b=2', 'a=1', ['missing $.b']],
    ['an extra field', 'a=1', 'a=1&c=3', ['extra $.c']],
    ['repeated field values keep their order', 'tag=x&tag=y', 'tag=y&tag=x', ['order $.tag']],
    ['a field repeated on one side only', 'tag=x', 'tag=x&tag=y', ['type $.tag']],
    ['a field named __proto__ is an ordinary field', '__proto__=1', '__proto__=2', ["value $.__proto__"]],
  ];
  for (const [name, a, b, expected] of table) {
    it(name, () => assert.deepEqual(summary(rawMessage(a, form), rawMessage(b, form)), expected));
  }
  it('body rules apply to field names', () => {
    assert.deepEqual(summary(rawMessage('csrf=abc&a=1', form), rawMessage('csrf=def&a=1', form), compileRules({ ignore: ['$.csrf'] })), []);
  });
});

describe('text bodies are compared line by line', () => {
  const text = { 'content-type': 'text/plain; charset=utf-8' };
  const table: Array<[string, string, string, string[]]> = [
    ['equal', 'a\nb\nc', 'a\nb\nc', []],
    ['CRLF vs LF are the same line ends', 'a\r\nb\r\n', 'a\nb\n', []],
    ['one changed line', 'a\nb\nc', 'a\nB\nc', ['value lines[1]']],
    ['one inserted line', 'a\nb\nc', 'a\nx\nb\nc', ['extra lines[1]']],
    ['one removed line', 'a\nb\nc\nd', 'a\nc\nd', ['missing lines[1]']],
    ['a trailing newline added', 'a', 'a\n', ['extra lines[1]']],
    ['changes far apart', 'l0\nl1\nl2\nl3\nl4\nl5', 'l0\nX1\nl2\nl3\nX4\nl5', ['value lines[1]', 'value lines[4]']],
    ['a changed line next to an inserted one', 'a\nb\nc', 'a\nB\nnew\nc', ['value lines[1]', 'extra lines[2]']],
  ];
  for (const [name, a, b, expected] of table) {
    it(name, () => assert.deepEqual(summary(rawMessage(a, text), rawMessage(b, text)), expected));
  }

  it('reports the 1-based line number and both lines', () => {
    const r = compareResponses(rawMessage('a\nb', text), rawMessage('a\nc', text), compileRules());
    assert.deepEqual(r.differences[0], { kind: 'value', path: 'lines[1]', generalPath: 'lines[*]', legacy: 'b', candidate: 'c', detail: 'line 2' });
  });

  it('very different large texts fall back to positional comparison within the cap', () => {
    const a = Array.from({ length: 5000 }, (_, i) => `a${i}`).join('\n');
    const b = Array.from({ length: 5000 }, (_, i) => `b${i}`).join('\n');
    const r = compareResponses(rawMessage(a, text), rawMessage(b, text), compileRules({ body: { maxDifferences: 10 } }));
    assert.equal(r.differences.length, 10);
    assert.equal(r.truncated, true);
  });

  it('xml and +xml media types are text', () => {
    assert.deepEqual(summary(rawMessage('<a>\n1\n</a>', { 'content-type': 'application/atom+xml' }), rawMessage('<a>\n2\n</a>', { 'content-type': 'application/atom+xml' })), ['value lines[1]']);
  });

  it('latin-1 text is decoded with its charset', () => {
    const latin = { 'content-type': 'text/plain; charset=iso-8859-1' };
    const utf8 = { 'content-type': 'text/plain; charset=utf-8' };
    const r = compareResponses(rawMessage(Buffer.from('café', 'latin1'), latin), rawMessage(Buffer.from('café', 'utf8'), utf8), compileRules());
    assert.deepEqual(r.differences.map((d) => d.path), ['headers.content-type']);
  });
});

describe('other bodies are compared by digest and size', () => {
  const bin = { 'content-type': 'application/octet-stream' };
  it('equal bytes match', () => assert.deepEqual(summary(rawMessage(Buffer.from([1, 2, 3]), bin), rawMessage(Buffer.from([1, 2, 3]), bin)), []));
  it('other size is a size difference with digests', () => {
    const r = compareResponses(rawMessage(Buffer.from([1, 2, 3]), bin), rawMessage(Buffer.from([1, 2]), bin), compileRules());
    assert.equal(r.differences.length, 1);
    const d = r.differences[0]!;
    assert.deepEqual([d.kind, d.path, d.legacy, d.candidate], ['size', 'body', 3, 2]);
    assert.match(d.detail!, /^sha256 039058c6f2c0cb492c533b0a4d14ef77cc0f78abccced5287d84a1a2011cfb81 vs [0-9a-f]{64}$/);
  });
  it('same size, other bytes is a value difference with digests', () => {
    const r = compareResponses(rawMessage(Buffer.from([1, 2, 3]), bin), rawMessage(Buffer.from([1, 2, 4]), bin), compileRules());
    const d = r.differences[0]!;
    assert.deepEqual([d.kind, d.path], ['value', 'body']);
    assert.equal(d.legacy, 'sha256:039058c6f2c0cb492c533b0a4d14ef77cc0f78abccced5287d84a1a2011cfb81');
  });
  it('images are binary even when they happen to be valid text', () => {
    const png = { 'content-type': 'image/png' };
    assert.deepEqual(summary(rawMessage('abc', png), rawMessage('abd', png)), ['value body']);
  });
});

describe('body kinds, empty bodies and fast paths', () => {
  it('identical bodies still have status and headers compared', () => {
    const r = compareResponses(jsonMessage({ a: 1 }, {}, 200), jsonMessage({ a: 1 }, { 'x-new': '1' }, 201), compileRules());
    assert.deepEqual(r.differences.map((d) => `${d.kind} ${d.path}`), ['status status', 'header headers.x-new']);
    assert.deepEqual([r.differences[0]!.legacy, r.differences[0]!.candidate], [200, 201]);
  });
  it('both empty match', () => assert.deepEqual(summary(rawMessage('', JSON_TYPE), rawMessage('', JSON_TYPE)), []));
  it('empty candidate body is missing', () => assert.deepEqual(summary(rawMessage('{}', JSON_TYPE), rawMessage('', JSON_TYPE)), ['missing body']));
  it('empty legacy body is extra', () => assert.deepEqual(summary(rawMessage('', JSON_TYPE), rawMessage('{}', JSON_TYPE)), ['extra body']));
  it('invalid JSON on one side is a type difference at $', () => {
    const r = compareResponses(rawMessage('{"a":1}', JSON_TYPE), rawMessage('{"a":', JSON_TYPE), compileRules());
    assert.deepEqual(r.differences.map((d) => `${d.kind} ${d.path}`), ['type $']);
    assert.match(r.differences[0]!.detail!, /candidate body is not JSON/);
  });
  it('invalid JSON on both sides is compared as text', () => {
    assert.deepEqual(summary(rawMessage('oops\n1', JSON_TYPE), rawMessage('oops\n2', JSON_TYPE)), ['value lines[1]']);
  });
  it('+json media types and no content type are read as JSON', () => {
    assert.deepEqual(summary(rawMessage('{"a":1}', { 'content-type': 'application/problem+json' }), rawMessage('{"a":1.0}', { 'content-type': 'application/problem+json' })), []);
    assert.deepEqual(summary(rawMessage(' {"a":1}'), rawMessage('{"a": 1.0}')), []);
  });
  it('JSON vs text/plain holding the same JSON: header difference only', () => {
    assert.deepEqual(summary(rawMessage('{"a":1}', JSON_TYPE), rawMessage('{"a": 1}', { 'content-type': 'text/plain' })), ['header headers.content-type']);
  });
  it('a lifted legacy answer can be compared twice', () => {
    const rules = compileRules();
    const legacy = liftResponse(encoded('gzip', zlib.gzipSync(Buffer.from(JSON_TEXT))), rules);
    assert.equal(compareLifted(legacy, liftResponse(rawMessage(JSON_TEXT, JSON_TYPE), rules), rules).verdict, 'match');
    assert.equal(compareLifted(legacy, liftResponse(rawMessage('{}', JSON_TYPE), rules), rules).verdict, 'mismatch');
  });
});
