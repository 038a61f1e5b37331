import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isCutoverError } from '../../../src/core/errors.ts';
import { readTlsMaterial, sameTlsMaterial } from '../../../src/dataplane/tls-material.ts';
import { selfSignedCertificate } from '../../helpers/tls.ts';

describe('readTlsMaterial', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cutover-tls-unit-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const a = selfSignedCertificate(dir, 'a');
  const b = selfSignedCertificate(dir, 'b');
  const garbage = join(dir, 'garbage.pem');
  writeFileSync(garbage, 'not a certificate\n');

  const refusal = (cert: string, key: string): string => {
    try {
      readTlsMaterial({ cert, key });
    } catch (err) {
      assert.ok(isCutoverError(err), String(err));
      assert.equal(err.code, 'CUTOVER_ERR_CONFIG_INVALID');
      assert.ok(err.hint, 'every refusal says how to fix it');
      return err.message;
    }
    return assert.fail('accepted');
  };

  it('reads a certificate and its key', () => {
    const m = readTlsMaterial({ cert: a.certPath, key: a.keyPath });
    assert.equal(m.cert, a.cert);
    assert.ok(sameTlsMaterial(m, readTlsMaterial({ cert: a.certPath, key: a.keyPath })));
    assert.ok(!sameTlsMaterial(m, readTlsMaterial({ cert: b.certPath, key: b.keyPath })));
  });

  const cases: Array<[string, () => [string, string], RegExp]> = [
    ['a missing certificate file names tls.cert', () => [join(dir, 'none.crt'), a.keyPath], /^tls\.cert: cannot read .*none\.crt/],
    ['a missing key file names tls.key', () => [a.certPath, join(dir, 'none.key')], /^tls\.key: cannot read .*none\.key/],
    ['the key of another certificate', () => [a.certPath, b.keyPath], /^tls: the key in .*b\.key does not belong to the certificate in .*a\.crt/],
    ['a file that is not PEM', () => [garbage, a.keyPath], /^tls: .*garbage\.pem and .*a\.key are not a usable PEM certificate and key/],
  ];
  for (const [name, files, message] of cases) it(name, () => assert.match(refusal(...files()), message));
});
