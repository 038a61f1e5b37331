import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import zlib from 'node:zlib';
import { keyedHash, redact } from '../../../src/compare/index.ts';
import { rawMessage } from './messages.ts';

const KEY = 'installation-key-1';
const HASH = /^redacted:hmac:[0-9a-f]{16}$/;

describe('keyedHash', () => {
  it('equal values hash equal, other values or keys differ', () => {
    assert.match(keyedHash(KEY, 'secret'), HASH);
    assert.equal(keyedHash(KEY, 'secret'), keyedHash(KEY, 'secret'));
    assert.notEqual(keyedHash(KEY, 'secret'), keyedHash(KEY, 'secret2'));
    assert.notEqual(keyedHash(KEY, 'secret'), keyedHash('other-key', 'secret'));
  });
});

describe('redact headers', () => {
  const table: Array<[string, string | string[], (out: string | string[] | undefined) => void]> = [
    ['Authorization', 'Bearer abc.def', (out) => assert.equal(out, `Bearer ${keyedHash(KEY, 'abc.def')}`)],
    ['authorization', 'opaque-token', (out) => assert.equal(out, keyedHash(KEY, 'opaque-token'))],
    ['Proxy-Authorization', 'Basic dXNlcjpwYXNz', (out) => assert.equal(out, `Basic ${keyedHash(KEY, 'dXNlcjpwYXNz')}`)],
    ['Cookie', 'sid=s3cr3t; theme=dark', (out) => assert.equal(out, `sid=${keyedHash(KEY, 's3cr3t')}; theme=${keyedHash(KEY, 'dark')}`)],
    ['Set-Cookie', ['sid=s3cr3t; Path=/; HttpOnly', 'a=b'], (out) => assert.deepEqual(out, [`sid=${keyedHash(KEY, 's3cr3t')}; Path=/; HttpOnly`, `a=${keyedHash(KEY, 'b')}`])],
    ['X-Api-Key', 'k-123', (out) => assert.equal(out, keyedHash(KEY, 'k-123'))],
    ['X-Vendor-Secret', 'v', (out) => assert.equal(out, keyedHash(KEY, 'v'))],
    ['Accept', 'application/json', (out) => assert.equal(out, 'application/json')],
  ];
  for (const [name, value, check] of table) {
    it(`${name}`, () => {
      const out = redact(rawMessage('', { [name]: value }), { key: KEY, headers: ['x-api-key', 'x-vendor-*'] });
      check(out.headers[name]);
    });
  }

  it('does not modify the input', () => {
    const input = rawMessage('', { authorization: 'Bearer t' });
    redact(input, { key: KEY });
    assert.equal(input.headers.authorization, 'Bearer t');
  });
});

describe('redact bodies', () => {
  const json = { 'content-type': 'application/json' };
  const body = { user: { password: 'hunter2', name: 'ada' }, card: { number: '4111111111111111' }, items: [{ token: 'a' }, { token: 'a' }, { token: 'b' }], id: 12345678901234567891n };
  const text = JSON.stringify(body, (_k, v: unknown) => (typeof v === 'bigint' ? '__BIG__' : v)).replace('"__BIG__"', '12345678901234567891');

  it('replaces values at paths, keeps the rest, and the secret is gone', () => {
    const out = redact(rawMessage(text, json), { key: KEY, paths: ['$..password', '$.card.number', '$.items[*].token'] });
    const outText = Buffer.from(out.body).toString();
    assert.ok(!outText.includes('hunter2'));
    assert.ok(!outText.includes('4111111111111111'));
    const parsed = JSON.parse(outText);
    assert.equal(parsed.user.name, 'ada');
    assert.match(parsed.user.password, HASH);
    assert.equal(parsed.user.password, keyedHash(KEY, 'hunter2'));
    assert.equal(parsed.items[0].token, parsed.items[1].token, 'equal values hash equal');
    assert.notEqual(parsed.items[0].token, parsed.items[2].token, 'different values hash differently');
    assert.ok(outText.includes('12345678901234567891'), 'big integers survive re-serialisation');
  });

  it('a container at a path is replaced whole', () => {
    const out = redact(rawMessage('{"card":{"number":"4111","cvc":"123"}}', json), { key: KEY, paths: ['$.card'] });
    assert.deepEqual(JSON.parse(Buffer.from(out.body).toString()), { card: keyedHash(KEY, '{"number":"4111","cvc":"123"}') });
  });

  it('gzip bodies are decoded, redacted and stored decoded with a fixed Content-Length', () => {
    const gz = zlib.gzipSync(Buffer.from('{"password":"hunter2"}'));
    const out = redact(rawMessage(gz, { ...json, 'Content-Encoding': 'gzip', 'Content-Length': String(gz.length) }), { key: KEY, paths: ['$.password'] });
    assert.equal(out.headers['Content-Encoding'], undefined);
    assert.equal(out.headers['Content-Length'], String(out.body.byteLength));
    assert.deepEqual(JSON.parse(Buffer.from(out.body).toString()), { password: keyedHash(KEY, 'hunter2') });
  });

  it('form fields are redacted', () => {
    const out = redact(rawMessage('user=ada&password=hunter2', { 'content-type': 'application/x-www-form-urlencoded' }), { key: KEY, paths: ['$.password'] });
    const fields = new URLSearchParams(Buffer.from(out.body).toString());
    assert.equal(fields.get('user'), 'ada');
    assert.equal(fields.get('password'), keyedHash(KEY, 'hunter2'));
  });

  it('an encoded body that cannot be decoded is dropped rather than stored unredacted', () => {
    const out = redact(rawMessage('not gzip password', { ...json, 'content-encoding': 'gzip' }), { key: KEY, paths: ['$.password'] });
    assert.equal(out.body.byteLength, 0);
  });

  it('without paths the body is untouched', () => {
    const input = rawMessage('{"password":"x"}', json);
    assert.equal(redact(input, { key: KEY }).body, input.body);
  });
});
