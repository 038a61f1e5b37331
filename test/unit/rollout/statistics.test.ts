import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  clopperPearsonBounds,
  differenceBounds,
  logGamma,
  normalQuantile,
  regularizedIncompleteBeta,
  wilsonBounds,
} from '../../../src/rollout/index.ts';

/** P(X ≤ k) for X ~ Binomial(n, p), summed term by term: an independent check of the beta-function route. */
function binomialCdf(k: number, n: number, p: number): number {
  let lnChoose = 0;
  let total = 0;
  for (let i = 0; i <= k; i++) {
    if (i > 0) lnChoose += Math.log(n - i + 1) - Math.log(i);
    total += Math.exp(lnChoose + i * Math.log(p) + (n - i) * Math.log1p(-p));
  }
  return total;
}

function close(actual: number, expected: number, tolerance: number, label: string) {
  assert.ok(Math.abs(actual - expected) <= tolerance, `${label}: got ${actual}, expected ${expected} ± ${tolerance}`);
}

describe('normalQuantile', () => {
  const table: Array<[number, number]> = [
    [0.5, 0],
    [0.8413447460685429, 1],
    [0.95, 1.6448536269514722],
    [0.975, 1.959963984540054],
    [0.99, 2.3263478740408408],
    [0.999, 3.090232306167813],
    [0.02, -2.053748910631823],
    [0.001, -3.090232306167813],
    [1e-10, -6.361340902404056],
  ];
  for (const [p, z] of table) {
    it(`Φ⁻¹(${p}) ≈ ${z}`, () => close(normalQuantile(p), z, 1e-7 * Math.max(1, Math.abs(z)), `p=${p}`));
  }
  it('is antisymmetric around 0.5', () => {
    for (const p of [0.001, 0.01, 0.02425, 0.1, 0.3]) close(normalQuantile(p), -normalQuantile(1 - p), 1e-9, `p=${p}`);
  });
  it('rejects p outside [0, 1]', () => {
    for (const p of [-0.1, 1.1, Number.NaN]) assert.throws(() => normalQuantile(p), RangeError);
    assert.equal(normalQuantile(0), -Infinity);
    assert.equal(normalQuantile(1), Infinity);
  });
});

describe('logGamma', () => {
  it('matches ln((n-1)!) for whole numbers', () => {
    let lnFact = 0;
    for (let n = 1; n <= 30; n++) {
      if (n > 1) lnFact += Math.log(n - 1);
      close(logGamma(n), lnFact, 1e-10 * Math.max(1, lnFact), `n=${n}`);
    }
  });
  it('matches ln √π at 1/2', () => close(logGamma(0.5), 0.5 * Math.log(Math.PI), 1e-10, 'Γ(1/2)'));
});

describe('regularizedIncompleteBeta agrees with direct binomial sums', () => {
  const table: Array<[n: number, k: number, p: number]> = [
    [10, 0, 0.1],
    [10, 3, 0.3],
    [50, 10, 0.2],
    [200, 2, 0.005],
    [1000, 15, 0.01],
    [1000, 600, 0.62],
  ];
  for (const [n, k, p] of table) {
    it(`n=${n} k=${k} p=${p}`, () => {
      const viaBeta = 1 - regularizedIncompleteBeta(p, k + 1, n - k);
      close(viaBeta, binomialCdf(k, n, p), 1e-10, 'P(X ≤ k)');
    });
  }
});

describe('clopperPearsonBounds', () => {
  it('0 mismatches in 1000 gives an upper bound ≈ 0.003 (rule of three) at 95%', () => {
    const { lower, upper } = clopperPearsonBounds(0, 1000, 0.95);
    assert.equal(lower, 0);
    close(upper, 0.002991, 1e-6, 'upper');
    close(upper, 3 / 1000, 0.0001, 'rule of three');
  });
  const table: Array<[x: number, n: number, confidence: number]> = [
    [1, 100, 0.95],
    [5, 1000, 0.95],
    [50, 1000, 0.99],
    [3, 30, 0.9],
    [999, 1000, 0.95],
  ];
  for (const [x, n, c] of table) {
    it(`${x}/${n} at ${c}: bounds have exactly the stated tail probability`, () => {
      const { lower, upper } = clopperPearsonBounds(x, n, c);
      assert.ok(lower < x / n && x / n < upper, `${lower} < ${x / n} < ${upper}`);
      // Seeing at most x is just (1 − c) likely at the upper bound, seeing at least x just (1 − c) likely at the lower.
      close(binomialCdf(x, n, upper), 1 - c, 1e-8, 'P(X ≤ x; upper)');
      close(1 - binomialCdf(x - 1, n, lower), 1 - c, 1e-8, 'P(X ≥ x; lower)');
    });
  }
  it('n = 0 says nothing', () => assert.deepEqual(clopperPearsonBounds(0, 0, 0.95), { lower: 0, upper: 1 }));
});

describe('wilsonBounds and differenceBounds', () => {
  it('Wilson upper bound for 0 in 1000 at z=1.645 ≈ z²/(n+z²)', () => {
    const z = 1.645;
    close(wilsonBounds(0, 1000, z).upper, (z * z) / (1000 + z * z), 1e-12, 'upper');
  });
  const table: Array<{ name: string; x1: number; n1: number; x2: number; n2: number; check: (b: ReturnType<typeof differenceBounds>) => boolean }> = [
    { name: '5% vs 0% with 1000 each is clearly above 3 pp', x1: 50, n1: 1000, x2: 0, n2: 1000, check: (b) => b.lower > 0.03 && b.upper < 0.07 },
    { name: 'equal rates bracket 0', x1: 10, n1: 1000, x2: 100, n2: 10_000, check: (b) => b.lower < 0 && b.upper > 0 && b.difference === 0 },
    { name: 'no errors anywhere still gives a positive upper bound', x1: 0, n1: 500, x2: 0, n2: 500, check: (b) => b.upper > 0 && b.lower < 0 },
    { name: 'tiny samples give wide bounds', x1: 1, n1: 2, x2: 0, n2: 2, check: (b) => b.lower < 0 && b.upper > 0.5 },
  ];
  for (const row of table) {
    it(row.name, () => {
      const b = differenceBounds(row.x1, row.n1, row.x2, row.n2, 1.645);
      assert.ok(row.check(b), JSON.stringify(b));
    });
  }
});
