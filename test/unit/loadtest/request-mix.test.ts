import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseMixLine, readRequestMix, singleRequestMix } from '../../../src/loadtest/request-mix.ts';
import { tempDir } from '../../helpers/cutover-process.ts';

describe('request mix', () => {
  it('reads method, path, headers and body; a full URL keeps only its path and query', () => {
    assert.deepEqual(parseMixLine('{"method":"post","url":"https://shop.example/cart/1?x=2","headers":{"Content-Type":"application/json","Host":"shop.example","X-Many":["a","b"]},"body":"{\\"n\\":1}"}', 'f:1'), {
      method: 'POST',
      path: '/cart/1?x=2',
      headers: { 'content-type': 'application/json', 'x-many': 'a, b' },
      body: Buffer.from('{"n":1}'),
    });
    assert.deepEqual(parseMixLine('{"url":"/bin","body":"AAEC/w==","bodyEncoding":"base64"}', 'f:2').body, Buffer.from([0, 1, 2, 255]));
    assert.equal(parseMixLine('{"url":"/"}', 'f:3').method, 'GET');
  });

  const BAD: Array<[string, RegExp]> = [
    ['not json', /f:7: not JSON/],
    ['[1]', /f:7: not a JSON object/],
    ['{"method":"GET"}', /f:7: url is missing/],
    ['{"url":"relative/path"}', /neither a path nor an absolute URL/],
    ['{"url":"/","method":"G E T"}', /is not an HTTP method/],
    ['{"url":"/","headers":{"a":1}}', /header a must be a string/],
    ['{"url":"/","body":{"a":1}}', /body must be a string/],
    ['{"url":"/","body":"x","bodyEncoding":"hex"}', /bodyEncoding "hex" is not utf8 or base64/],
  ];
  for (const [line, message] of BAD) {
    it(`rejects ${line} with its position`, () => {
      assert.throws(() => parseMixLine(line, 'f:7'), message);
    });
  }

  it('reads a file, skipping blank lines, and names the file and line of a bad one', () => {
    const dir = tempDir('cutover-mix-');
    try {
      const ok = dir.file('ok.ndjson', '{"url":"/a"}\n\n{"method":"DELETE","url":"/b"}\n');
      assert.deepEqual(readRequestMix(ok).map((r) => `${r.method} ${r.path}`), ['GET /a', 'DELETE /b']);
      const bad = dir.file('bad.ndjson', '{"url":"/a"}\n{"url":3}\n');
      assert.throws(() => readRequestMix(bad), /bad\.ndjson:2: url is missing/);
      assert.throws(() => readRequestMix(dir.file('empty.ndjson', '\n')), /has no requests/);
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
