import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import type { CapturedResponse, ComparisonPairEvent } from '../../../src/dataplane/events.ts';
import { packPair, type ComparerSettings, type PairOutcome } from '../../../src/controlplane/comparison/comparer-protocol.ts';
import { PairComparer } from '../../../src/controlplane/comparison/pair-comparer.ts';
import { diffGroupId } from '../../../src/controlplane/comparison/diff-group-id.ts';

function settings(overrides: Partial<ComparerSettings> = {}): ComparerSettings {
  return {
    global: {},
    routes: {},
    fallback: { rules: undefined, learnsNoise: false },
    redaction: { key: 'k', headers: [], paths: [] },
    samplesPerGroup: 2,
    holdMs: 1000,
    holdMax: 100,
    ...overrides,
  };
}

function response(backend: CapturedResponse['backend'], doc: unknown, extra: Partial<CapturedResponse> = {}): CapturedResponse {
  return { backend, status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(doc)), truncated: false, ttfbMs: 1, totalMs: 1, ...extra };
}

let n = 0;
function pair(served: CapturedResponse, mirrored: CapturedResponse, noise?: CapturedResponse): ComparisonPairEvent {
  const e: ComparisonPairEvent = {
    requestId: `r${++n}`,
    route: 'r',
    endpoint: '/e',
    method: 'GET',
    url: '/e?x=1',
    time: 1000 + n,
    request: { headers: { authorization: 'Bearer t0ken' }, body: Buffer.alloc(0), truncated: false },
    served,
    mirrored,
  };
  if (noise) e.noise = noise;
  return e;
}

const paths = (outcomes: PairOutcome[]) => outcomes.flatMap((o) => o.groups.map((g) => `${g.path} ${g.kind}`)).sort();

describe('PairComparer', () => {
  it('maps legacy and candidate by backend, so live mode (candidate served) reports the same kinds as shadow', () => {
    const c = new PairComparer(settings());
    const legacy = response('legacy', { a: 1, email: 'x' });
    const candidate = response('candidate', { a: 1 });
    const shadow = c.compare(packPair(1, pair(legacy, candidate)), 0);
    const live = c.compare(packPair(2, pair(candidate, legacy)), 0);
    assert.deepEqual(paths(shadow), ['$.email missing']);
    assert.deepEqual(paths(live), ['$.email missing']);
  });

  it('decodes content encodings before comparing', () => {
    const c = new PairComparer(settings());
    const gz = response('legacy', null, { headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: gzipSync(JSON.stringify({ a: 1 })) });
    const [out] = c.compare(packPair(1, pair(gz, response('candidate', { a: 1 }))), 0);
    assert.equal(out!.verdict, 'match');
  });

  it('holds mismatches while the noise model learns, then reports only signal', () => {
    const c = new PairComparer(settings({ fallback: { rules: { noise: { minSamples: 5 } }, learnsNoise: true } }));
    const outcomes: PairOutcome[] = [];
    for (let i = 0; i < 8; i++) {
      const ts = (k: number) => `2026-01-01T00:00:0${(i + k) % 10}Z`;
      outcomes.push(...c.compare(packPair(i, pair(response('legacy', { ts: ts(0), p: 1 }), response('candidate', { ts: ts(1), p: 2 }), response('legacy', { ts: ts(2), p: 1 }))), 0));
      if (i < 4) assert.equal(outcomes.length, 0, 'nothing is reported before minSamples noise samples');
    }
    assert.equal(outcomes.length, 8);
    assert.ok(outcomes.every((o) => o.verdict === 'mismatch'));
    assert.deepEqual([...new Set(paths(outcomes))], ['$.p value']);
    const learned = c.learnedNoise()!;
    assert.deepEqual(learned.map((l) => `${l.endpoint} ${l.path} ${l.kind}`), ['/e $.ts value']);
  });

  it('releases held pairs after holdMs even without noise samples, as signal', () => {
    const c = new PairComparer(settings({ fallback: { rules: undefined, learnsNoise: true }, holdMs: 1000 }));
    assert.deepEqual(c.compare(packPair(1, pair(response('legacy', { ts: 1 }), response('candidate', { ts: 2 }))), 0), []);
    assert.equal(c.heldCount, 1);
    assert.deepEqual(c.releaseDue(999), []);
    assert.deepEqual(paths(c.releaseDue(1000)), ['$.ts value']);
    assert.equal(c.heldCount, 0);
  });

  it('gives up held pairs without a verdict when asked (on stop), and reports them as unjudged', () => {
    const c = new PairComparer(settings({ fallback: { rules: undefined, learnsNoise: true }, holdMs: 60_000 }));
    assert.deepEqual(c.compare(packPair(1, pair(response('legacy', { ts: 1 }), response('candidate', { ts: 2 }))), 0), []);
    assert.deepEqual(c.compare(packPair(2, pair(response('legacy', { ts: 1 }), response('candidate', { ts: 3 }))), 5), []);
    assert.equal(c.heldCount, 2);
    const dropped = c.dropHeld();
    assert.deepEqual(dropped.map((p) => [p.route, p.endpoint, p.method]), [['r', '/e', 'GET'], ['r', '/e', 'GET']]);
    assert.equal(new Set(dropped.map((p) => p.requestId)).size, 2);
    assert.equal(c.heldCount, 0);
    assert.deepEqual(c.releaseAll(100_000), [], 'nothing is both dropped and reported');
  });

  it('confirmed noise is always ignored, rejected noise always reported', () => {
    const c = new PairComparer(settings({ fallback: { rules: { noise: { minSamples: 1 } }, learnsNoise: false } }));
    const learn = () => c.compare(packPair(1, pair(response('legacy', { ts: 1, q: 1 }), response('candidate', { ts: 2, q: 2 }), response('legacy', { ts: 3, q: 3 }))), 0);
    assert.deepEqual(paths(learn()), [], 'both paths look like noise to the model');
    c.setNoiseDecisions([{ route: 'r', endpoint: '/e', path: '$.q', status: 'rejected' }]);
    assert.deepEqual(paths(learn()), ['$.q value']);
    c.setNoiseDecisions([{ route: 'r', endpoint: '/e', path: '$.x', status: 'confirmed' }]);
    const [out] = c.compare(packPair(2, pair(response('legacy', { x: 1 }), response('candidate', { x: 2 }))), 0);
    assert.equal(out!.verdict, 'match');
    assert.equal(out!.suppressed, 1);
  });

  it('triage silences a path and kind until it expires', () => {
    const c = new PairComparer(settings());
    c.setSilences([{ route: 'r', endpoint: '/e', path: '$.p', kind: 'value', status: 'accepted', expiresAt: 5000 }]);
    const run = (now: number) => c.compare(packPair(1, pair(response('legacy', { p: 1, m: 1 }), response('candidate', { p: 2 }))), now);
    assert.deepEqual(paths(run(4999)), ['$.m missing']);
    assert.deepEqual(paths(run(5000)), ['$.m missing', '$.p value']);
  });

  it('attaches redacted samples to at most samplesPerGroup pairs per group', () => {
    const c = new PairComparer(settings({ redaction: { key: 'k', headers: [], paths: ['$.secret'] } }));
    const outs: PairOutcome[] = [];
    for (let i = 0; i < 4; i++) outs.push(...c.compare(packPair(i, pair(response('legacy', { secret: 's3cr3t', v: 1 }), response('candidate', { secret: 'other', v: 2 }))), 0));
    const id = diffGroupId('r', 'GET', '/e', '$.v', 'value');
    const samples = outs.flatMap((o) => o.groups.filter((g) => g.id === id && g.sample !== undefined));
    assert.equal(samples.length, 2);
    const text = JSON.stringify(samples[0]!.sample);
    assert.ok(!text.includes('s3cr3t') && !text.includes('t0ken'), text);
    assert.match(text, /redacted:hmac:/);
  });
});
