import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseWindowParam } from '../../../src/controlplane/telemetry/telemetry-routes.ts';
import { CutoverError, ErrorCodes } from '../../../src/core/errors.ts';

const HOUR = 3_600_000;

describe('stats window parameter', () => {
  it('defaults to 10m and reads durations', () => {
    assert.equal(parseWindowParam(null, HOUR), 600_000);
    assert.equal(parseWindowParam('', HOUR), 600_000);
    assert.equal(parseWindowParam('1m', HOUR), 60_000);
    assert.equal(parseWindowParam(' 1h ', HOUR), HOUR);
    assert.equal(parseWindowParam('90s', HOUR), 90_000);
  });

  for (const [raw, message] of [
    ['ten minutes', /is not a duration/],
    ['-5m', /is not a duration/],
    ['30s', /is not between 1m and 1h/],
    ['2h', /is not between 1m and 1h/],
  ] as const) {
    it(`rejects "${raw}" as a bad request with a hint`, () => {
      assert.throws(
        () => parseWindowParam(raw, HOUR),
        (err: unknown) => err instanceof CutoverError && err.code === ErrorCodes.BAD_REQUEST && message.test(err.message) && /window=10m/.test(err.hint ?? ''),
      );
    });
  }
});
