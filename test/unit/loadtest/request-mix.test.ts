import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseMixLine, readRequestMix, singleRequestMix } from '../../../src/loadtest/request-mix.ts';
import { encodeBody, formatTrafficLine } from '../../../src/replay/traffic-format.ts';
import { tempDir } from '../../helpers/cutover-process.ts';

describe('request mix', () => {
  it('reads method, path, headers and body of a recorded line; Host and connection headers stay out', () => {
    assert.deepEqual(
      parseMixLine('{"method":"POST","url":"/cart/1?x=2","headers":{"Content-Type":"application/json","Host":"shop.example","connection":"keep-alive","cookie":["a=1","b=2"]},"body":"{\\"n\\":1}"}', 'f:1'),
      { method: 'POST', path: '/cart/1?x=2', headers: { 'content-type': 'application/json', cookie: ['a=1', 'b=2'] }, body: Buffer.from('{"n":1}') },
    );
    assert.deepEqual(parseMixLine('{"method":"PUT","url":"/bin","body":"AAEC/w==","bodyEncoding":"base64"}', 'f:2')?.body, Buffer.from([0, 1, 2, 255]));
    assert.equal(parseMixLine('{"method":"GET","url":"/"}', 'f:3')?.body, undefined);
  });

  it('reads what cutover record writes, byte for byte', () => {
    const bytes = Buffer.from([0x7b, 0x00, 0xff, 0x7d]);
    const line = formatTrafficLine({ time: 1, route: 'api', method: 'PATCH', url: '/b?q=1', headers: { accept: '*/*' }, ...encodeBody(bytes) });
    assert.deepEqual(parseMixLine(line, 'f:1'), { method: 'PATCH', path: '/b?q=1', headers: { accept: '*/*' }, body: bytes });
  });

  it('leaves out a request recorded without its body', () => {
    assert.equal(parseMixLine('{"method":"POST","url":"/upload","bodyTruncated":true}', 'f:1'), undefined);
  });

  const BAD: Array<[string, RegExp]> = [
    ['not json', /f:7: not JSON/],
    ['[1]', /f:7: not a JSON object/],
    ['{"method":"GET"}', /f:7: "url" must be a path starting with \//],
    ['{"method":"GET","url":"https://shop.example/a"}', /"url" must be a path starting with \//],
    ['{"url":"/","method":"G E T"}', /"method" must be an HTTP method/],
    ['{"method":"GET","url":"/","headers":{"a":1}}', /"headers" must be an object of strings/],
    ['{"method":"GET","url":"/","body":{"a":1}}', /"body" must be a string/],
    ['{"method":"GET","url":"/","body":"x","bodyEncoding":"hex"}', /"bodyEncoding" must be utf8 or base64/],
  ];
  for (const [line, message] of BAD) {
    it(`rejects ${line} with its position`, () => {
      assert.throws(() => parseMixLine(line, 'f:7'), message);
    });
  }

  it('reads a file, skipping blank lines, and names the file and line of a bad one', () => {
    const dir = tempDir('cutover-mix-');
    try {
      const ok = dir.file('ok.ndjson', '{"method":"GET","url":"/a"}\n\n{"method":"DELETE","url":"/b"}\n{"method":"POST","url":"/c","bodyTruncated":true}\n');
      const read = readRequestMix(ok);
      assert.deepEqual(read.requests.map((r) => `${r.method} ${r.path}`), ['GET /a', 'DELETE /b']);
      assert.equal(read.skipped, 1);
      const bad = dir.file('bad.ndjson', '{"method":"GET","url":"/a"}\n{"method":"GET","url":3}\n');
      assert.throws(() => readRequestMix(bad), /bad\.ndjson:2: "url" must be a path/);
      assert.throws(() => readRequestMix(dir.file('empty.ndjson', '\n')), /has no requests that can be sent/);
      assert.throws(() => readRequestMix(dir.file('big.ndjson', '{"method":"POST","url":"/c","bodyTruncated":true}\n')), /\(1 recorded without their body\)/);
      assert.throws(() => readRequestMix(`${dir.path}/missing.ndjson`), /cannot read .*missing\.ndjson: ENOENT/);
    } finally {
      dir.remove();
    }
  });

  it('builds the single-request mix of --path', () => {
    assert.deepEqual(singleRequestMix('/p?q=1', 'head'), [{ method: 'HEAD', path: '/p?q=1', headers: {}, body: undefined }]);
    assert.throws(() => singleRequestMix('p'), /must start with \//);
  });
});
