/**
 * The regularized incomplete beta function and its inverse, which give exact
 * binomial tail probabilities: P(X ≤ k) for X ~ Binomial(n, p) equals
 * 1 − I_p(k + 1, n − k). Clopper-Pearson bounds are built on it.
 */

const LN_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/**
 * ln Γ(x) for x > 0. Stirling's series is accurate to ~1e-12 once x ≥ 8, so
 * smaller arguments are shifted up with Γ(x + 1) = x Γ(x).
 *
 * @example logGamma(5) // ln 24
 */
export function logGamma(x: number): number {
  if (!(x > 0)) throw new RangeError(`logGamma needs x > 0, got ${x}`);
  let shift = 0;
  while (x < 8) {
    shift += Math.log(x);
    x += 1;
  }
  const inv = 1 / x;
  const inv2 = inv * inv;
  const series = inv * (1 / 12 - inv2 * (1 / 360 - inv2 * (1 / 1260 - inv2 / 1680)));
  return (x - 0.5) * Math.log(x) - x + LN_SQRT_2PI + series - shift;
}

function logBeta(a: number, b: number): number {
  return logGamma(a) + logGamma(b) - logGamma(a + b);
}

const TINY = 1e-300;
const EPS = 1e-15;
// Convergence takes O(sqrt(max(a, b))) terms; this covers samples far beyond any telemetry window.
const MAX_TERMS = 200_000;

/** Continued fraction for I_x(a, b), evaluated with the modified Lentz method. */
function continuedFraction(x: number, a: number, b: number): number {
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < TINY) d = TINY;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= MAX_TERMS; m++) {
    const m2 = 2 * m;
    const even = (m * (b - m) * x) / ((a - 1 + m2) * (a + m2));
    d = 1 + even * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + even / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    h *= d * c;
    const odd = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + 1 + m2));
    d = 1 + odd * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + odd / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < EPS) break;
  }
  return h;
}

/**
 * I_x(a, b) for a, b > 0 and 0 ≤ x ≤ 1.
 *
 * @example regularizedIncompleteBeta(0.5, 2, 2) // 0.5
 */
export function regularizedIncompleteBeta(x: number, a: number, b: number): number {
  if (!(a > 0 && b > 0)) throw new RangeError(`incomplete beta needs a, b > 0, got a=${a}, b=${b}`);
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const lnFront = a * Math.log(x) + b * Math.log1p(-x) - logBeta(a, b);
  // The fraction converges fast only on one side of the mean; use the symmetry I_x(a,b) = 1 − I_{1−x}(b,a) on the other.
  if (x < (a + 1) / (a + b + 2)) return (Math.exp(lnFront) * continuedFraction(x, a, b)) / a;
  return 1 - (Math.exp(lnFront) * continuedFraction(1 - x, b, a)) / b;
}

/**
 * The x with I_x(a, b) = p (the Beta(a, b) quantile), by bisection: I is
 * monotone in x, and 100 halvings pin x down to double precision without the
 * convergence worries of Newton steps near 0 and 1.
 *
 * @example betaQuantile(0.5, 3, 3) // 0.5
 */
export function betaQuantile(p: number, a: number, b: number): number {
  if (p <= 0) return 0;
  if (p >= 1) return 1;
  let lo = 0;
  let hi = 1;
  for (let i = 0; i < 100; i++) {
    const mid = (lo + hi) / 2;
    if (mid === lo || mid === hi) break;
    if (regularizedIncompleteBeta(mid, a, b) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}
