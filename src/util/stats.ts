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
