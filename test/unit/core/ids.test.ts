import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRequestId, createTraceparent } from '../../../src/core/ids.ts';

test('createTraceparent gives well-formed, distinct W3C traceparents across pool refills', () => {
  const seen = new Set<string>();
  // 5,000 crosses the random pool's refill point several times.
  for (let i = 0; i < 5000; i++) {
    const tp = createTraceparent();
    assert.match(tp, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    assert.ok(!/^00-0{32}-/.test(tp) && !/-0{16}-01$/.test(tp), `all-zero id in ${tp}`);
    seen.add(tp.slice(3, 35));
  }
  assert.equal(seen.size, 5000);
});

test('createRequestId is unique and shares one per-process prefix', () => {
  const ids = Array.from({ length: 10_000 }, createRequestId);
  assert.equal(new Set(ids).size, ids.length);
  const prefix = ids[0]!.slice(0, 12);
  assert.match(prefix, /^[0-9a-f]{12}$/);
  for (const id of ids) assert.ok(id.startsWith(prefix) && /^[0-9a-f]{12}[0-9a-z]+$/.test(id), id);
});
