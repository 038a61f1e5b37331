import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareResponses, compileRules, createNoiseModel, filterNoise, NoiseModel, type Difference, type NoiseClass } from '../../../src/compare/index.ts';
import { jsonMessage } from './messages.ts';

const E = '/users/{id}';
const P = '$.meta.generated_at';

function diff(path: string): Difference {
  return { kind: 'value', path, generalPath: path, legacy: 1, candidate: 2 };
}

/** Feeds `rawTotal` pairs, `raw` of them differing at P, and `noiseTotal` noise samples, `noise` of them differing at P. */
function feed(model: NoiseModel, rawTotal: number, raw: number, noiseTotal: number, noise: number): void {
  for (let i = 0; i < rawTotal; i++) {
    const hasNoise = i < noiseTotal;
    model.observe({
      endpoint: E,
      raw: i < raw ? [diff(P)] : [],
      ...(hasNoise ? { noise: i < noise ? [diff(P)] : [] } : {}),
    });
  }
}

describe('noise model (Diffy thresholds on rates)', () => {
  const table: Array<[string, number, number, number, number, NoiseClass, Partial<{ relativeThreshold: number; absoluteThreshold: number; minSamples: number }>?]> = [
    ['as often as between two legacy answers: noise', 1000, 100, 1000, 100, 'noise'],
    ['far more often than noise: signal', 1000, 500, 1000, 100, 'signal'],
    ['only 4.8% above noise (< 20% relative): noise', 1000, 110, 1000, 100, 'noise'],
    ['25% above noise with 20% threshold: signal', 1000, 150, 1000, 90, 'signal'],
    ['less often than noise: noise', 1000, 50, 1000, 100, 'noise'],
    ['never in noise but 0.003% of pairs (< 0.03% absolute): noise', 100_000, 3, 100_000, 0, 'noise'],
    ['never in noise and 0.04% of pairs: signal', 100_000, 40, 100_000, 0, 'signal'],
    ['legacy asked twice for 5% of pairs, same rate: noise', 1000, 500, 50, 25, 'noise'],
    ['legacy asked twice for 5% of pairs, rate 10x higher: signal', 1000, 500, 50, 2, 'signal'],
    ['too few noise samples: unknown', 1000, 500, 19, 0, 'unknown'],
    ['no noise samples at all: unknown', 1000, 500, 0, 0, 'unknown'],
    ['minSamples is configurable', 1000, 500, 5, 5, 'noise', { minSamples: 5 }],
    ['relative threshold is configurable', 1000, 150, 1000, 90, 'noise', { relativeThreshold: 0.3 }],
    ['absolute threshold is configurable', 100_000, 40, 100_000, 0, 'noise', { absoluteThreshold: 0.001 }],
  ];
  for (const [name, rawTotal, raw, noiseTotal, noise, expected, options] of table) {
    it(name, () => {
      const model = createNoiseModel(options ?? {});
      feed(model, rawTotal, raw, noiseTotal, noise);
      assert.equal(model.classify(E, P), expected);
    });
  }

  it('reports per-endpoint totals', () => {
    const model = createNoiseModel();
    feed(model, 10, 5, 4, 1);
    assert.deepEqual(model.totals(E), { rawTotal: 10, noiseTotal: 4 });
    assert.equal(model.totals('/other'), undefined);
  });

  it('paths never seen differing and unknown endpoints are unknown', () => {
    const model = createNoiseModel({ minSamples: 1 });
    feed(model, 10, 5, 10, 5);
    assert.equal(model.classify(E, '$.other'), 'unknown');
    assert.equal(model.classify('/other', P), 'unknown');
  });

  it('counts a path once per pair however many elements differ there', () => {
    const model = createNoiseModel({ minSamples: 1 });
    model.observe({ endpoint: E, raw: [diff('$.items[*].ts'), diff('$.items[*].ts'), diff('$.items[*].ts')], noise: [diff('$.items[*].ts')] });
    assert.deepEqual(model.listLearnedNoise(), [{ endpoint: E, path: '$.items[*].ts', raw: 1, noise: 1, rawTotal: 1, noiseTotal: 1 }]);
  });

  it('lists learned noise with its evidence, and not signal', () => {
    const model = createNoiseModel();
    for (let i = 0; i < 100; i++) model.observe({ endpoint: E, raw: [diff(P), diff('$.price')], noise: [diff(P)] });
    assert.deepEqual(model.listLearnedNoise(), [{ endpoint: E, path: P, raw: 100, noise: 100, rawTotal: 100, noiseTotal: 100 }]);
    assert.equal(model.classify(E, '$.price'), 'signal');
  });

  it('stops tracking new paths at maxPaths', () => {
    const model = createNoiseModel({ maxPaths: 1, minSamples: 1 });
    model.observe({ endpoint: E, raw: [diff('$.a'), diff('$.b')], noise: [diff('$.a'), diff('$.b')] });
    assert.equal(model.classify(E, '$.a'), 'noise');
    assert.equal(model.classify(E, '$.b'), 'unknown');
  });

  it('survives a snapshot round trip', () => {
    const model = createNoiseModel();
    feed(model, 1000, 100, 1000, 100);
    const restored = NoiseModel.restore(JSON.parse(JSON.stringify(model.snapshot())));
    assert.deepEqual(restored.listLearnedNoise(), model.listLearnedNoise());
  });
});

describe('filterNoise', () => {
  const rules = compileRules();
  const legacy = jsonMessage({ generated_at: 1, price: 10 });
  const noisyCandidate = jsonMessage({ generated_at: 2, price: 10 });
  const brokenCandidate = jsonMessage({ generated_at: 2, price: 11 });
  const replica = jsonMessage({ generated_at: 3, price: 10 });

  function trainedModel(): NoiseModel {
    const model = createNoiseModel(rules.noise);
    for (let i = 0; i < 30; i++) {
      model.observe({ endpoint: E, raw: compareResponses(legacy, noisyCandidate, rules).differences, noise: compareResponses(legacy, replica, rules).differences });
    }
    return model;
  }

  it('a difference only on learned noise becomes a match', () => {
    const filtered = filterNoise(compareResponses(legacy, noisyCandidate, rules), trainedModel(), E, rules.noise);
    assert.equal(filtered.verdict, 'match');
    assert.deepEqual(filtered.suppressed.map((d) => d.path), ['$.generated_at']);
  });

  it('a real difference stays and keeps the verdict', () => {
    const filtered = filterNoise(compareResponses(legacy, brokenCandidate, rules), trainedModel(), E, rules.noise);
    assert.equal(filtered.verdict, 'mismatch');
    assert.deepEqual(filtered.differences.map((d) => d.path), ['$.price']);
  });

  it('nothing is suppressed before the model knows the endpoint', () => {
    const filtered = filterNoise(compareResponses(legacy, noisyCandidate, rules), createNoiseModel(), E);
    assert.equal(filtered.verdict, 'mismatch');
    assert.equal(filtered.suppressed.length, 0);
  });
});
