/**
 * Pareto dominance over objectives that are all minimised (a maximised one enters negated):
 * the non-dominated front, and NSGA-II's ranking (non-dominated sorting, crowding distance).
 */

/** a dominates b: no worse in every objective and better in one. */
export function dominates(a: readonly number[], b: readonly number[]): boolean {
  let better = false;
  for (let i = 0; i < a.length; i++) {
    if (a[i]! > b[i]!) return false;
    if (a[i]! < b[i]!) better = true;
  }
  return better;
}

/** Indices of the points no other point dominates (duplicates of a front point stay on it). */
export function paretoFront(points: readonly (readonly number[])[]): number[] {
  return points.flatMap((p, i) => (points.some((q) => dominates(q, p)) ? [] : [i]));
}

/** Fronts of the non-dominated sorting: front 0 is the Pareto front, front k that of what is left. */
export function nondominatedFronts(points: readonly (readonly number[])[]): number[][] {
  const dominatedBy = points.map(() => 0);
  const dominating = points.map(() => [] as number[]);
  for (let i = 0; i < points.length; i++)
    for (let j = 0; j < points.length; j++)
      if (i !== j && dominates(points[i]!, points[j]!)) {
        dominating[i]!.push(j);
        dominatedBy[j]!++;
      }
  const fronts: number[][] = [];
  let current = points.flatMap((_, i) => (dominatedBy[i] === 0 ? [i] : []));
  while (current.length) {
    fronts.push(current);
    const next: number[] = [];
    for (const i of current) for (const j of dominating[i]!) if (--dominatedBy[j]! === 0) next.push(j);
    current = next.sort((a, b) => a - b);
  }
  return fronts;
}

/** NSGA-II crowding distance of each member of one front (the extremes: infinite). */
export function crowdingDistance(
  points: readonly (readonly number[])[],
  front: readonly number[],
): Map<number, number> {
  const d = new Map(front.map((i) => [i, 0]));
  const objectives = points[front[0]!]?.length ?? 0;
  for (let m = 0; m < objectives; m++) {
    const sorted = [...front].sort((a, b) => points[a]![m]! - points[b]![m]! || a - b);
    const lo = points[sorted[0]!]![m]!;
    const hi = points[sorted[sorted.length - 1]!]![m]!;
    d.set(sorted[0]!, Number.POSITIVE_INFINITY);
    d.set(sorted[sorted.length - 1]!, Number.POSITIVE_INFINITY);
    if (hi === lo) continue;
    for (let k = 1; k < sorted.length - 1; k++)
      d.set(
        sorted[k]!,
        d.get(sorted[k]!)! + (points[sorted[k + 1]!]![m]! - points[sorted[k - 1]!]![m]!) / (hi - lo),
      );
  }
  return d;
}
