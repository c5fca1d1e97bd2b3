import jstat from "jstat";

/** Summary statistics of a sample. */

export interface Summary {
  min: number;
  p10: number;
  median: number;
  p90: number;
  max: number;
  mean: number;
}

/** The p-quantile (0 ≤ p ≤ 1) of ascending `sorted`, interpolated linearly between order statistics. */
export function quantile(sorted: readonly number[], p: number): number {
  const at = p * (sorted.length - 1);
  const lo = Math.floor(at);
  return sorted[lo]! + (sorted[Math.min(lo + 1, sorted.length - 1)]! - sorted[lo]!) * (at - lo);
}

/** Min, max, mean and quantiles interpolated linearly between order statistics. */
export function summarise(xs: readonly number[]): Summary {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number): number => quantile(s, p);
  return {
    min: s[0]!,
    p10: q(0.1),
    median: q(0.5),
    p90: q(0.9),
    max: s[s.length - 1]!,
    mean: s.reduce((a, b) => a + b, 0) / s.length,
  };
}

/**
 * Kendall's rank correlation τ (τ-b, which corrects for ties) and its two-sided p-value: exact
 * by enumerating every ordering for up to 10 untied pairs, otherwise the normal approximation
 * of S = concordant − discordant (variance n(n−1)(2n+5)/18, ties ignored in the variance).
 */
export function kendallTau(
  x: readonly number[],
  y: readonly number[],
): { tau: number; p: number; n: number } {
  const n = x.length;
  if (n !== y.length || n < 2)
    throw new Error(`Kendall's tau needs two samples of equal length ≥ 2, got ${n} and ${y.length}`);
  let s = 0;
  let tiesX = 0;
  let tiesY = 0;
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) {
      const dx = Math.sign(x[j]! - x[i]!);
      const dy = Math.sign(y[j]! - y[i]!);
      if (dx === 0) tiesX++;
      if (dy === 0) tiesY++;
      s += dx * dy;
    }
  const pairs = (n * (n - 1)) / 2;
  const tau = s / Math.sqrt((pairs - tiesX) * (pairs - tiesY));
  let p: number;
  if (n <= 10 && tiesX === 0 && tiesY === 0) {
    // Inversions of a random ordering follow the Mahonian distribution; S = pairs − 2·inversions.
    let counts = [1];
    for (let k = 2; k <= n; k++) {
      const next = new Array(counts.length + k - 1).fill(0);
      counts.forEach((c, i) => {
        for (let d = 0; d < k; d++) next[i + d] += c;
      });
      counts = next;
    }
    const total = counts.reduce((a, b) => a + b, 0);
    const extreme = counts.reduce(
      (acc, c, inv) => (Math.abs(pairs - 2 * inv) >= Math.abs(s) ? acc + c : acc),
      0,
    );
    p = extreme / total;
  } else {
    const z = Math.abs(s) / Math.sqrt((n * (n - 1) * (2 * n + 5)) / 18);
    p = Math.min(1, 2 * (1 - jstat.jStat.normal.cdf(z, 0, 1)));
  }
  return { tau, p, n };
}
