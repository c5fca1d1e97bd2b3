/**
 * Multi-objective evolutionary search over the edge-complete space: NSGA-II. Each generation
 * breeds as many children as the population holds — parents by binary tournament on (front,
 * crowding distance), a per-cell uniform crossover of two parents or a copy of one, one or two
 * edges given another op — evaluates them together (so a queue can spread them over workers),
 * and keeps the best of parents and children by the same order. Every architecture is
 * evaluated once; the budget counts distinct evaluations. Same seed, same search.
 */
import { type Configuration, EDGES_PER_CELL } from "../space/cell.js";
import { encodeConfiguration } from "../space/code.js";
import { genotypeToConfiguration } from "../space/genotype.js";
import { numOps, type OpIndex } from "../space/primitives.js";
import { sampleConfiguration, sampleGenotype } from "../space/sample.js";
import { Rng } from "../util/rng.js";
import { crowdingDistance, nondominatedFronts } from "./pareto.js";

export interface Candidate {
  readonly code: string;
  readonly configuration: Configuration;
  /** Every objective minimised (a maximised one negated). */
  readonly objectives: readonly number[];
}

export interface EvolutionOptions {
  /** Distinct architectures to evaluate, the initial population included. */
  readonly budget: number;
  readonly population: number;
  readonly seed: number;
}

/** Objectives of a batch of architectures, in order (evaluated here or on a queue). */
export type BatchEvaluator = (
  batch: readonly { configuration: Configuration; code: string }[],
) => Promise<readonly (readonly number[])[]>;

/** Runs the search; returns every evaluated architecture in evaluation order. */
export async function evolve(
  evaluate: BatchEvaluator,
  o: EvolutionOptions,
  onEvaluated?: (count: number) => void,
): Promise<Candidate[]> {
  if (!(Number.isInteger(o.budget) && o.budget >= 1))
    throw new Error(`budget must be at least 1, got ${o.budget}`);
  if (!(Number.isInteger(o.population) && o.population >= 2))
    throw new Error(`population must be at least 2, got ${o.population}`);
  const rng = new Rng(o.seed);
  const evaluated: Candidate[] = [];
  const seen = new Set<string>();
  /** Up to `n` new architectures from `propose` (a few attempts each, as most proposals are new). */
  const fresh = (n: number, propose: () => Configuration) => {
    const batch: { configuration: Configuration; code: string }[] = [];
    for (let attempts = 0; batch.length < n && attempts < 100 * n; attempts++) {
      const configuration = propose();
      const code = encodeConfiguration(configuration);
      if (seen.has(code)) continue;
      seen.add(code);
      batch.push({ configuration, code });
    }
    return batch;
  };
  const run = async (batch: { configuration: Configuration; code: string }[]) => {
    const objectives = await evaluate(batch);
    const out = batch.map((b, i) => ({ ...b, objectives: objectives[i]! }));
    evaluated.push(...out);
    onEvaluated?.(evaluated.length);
    return out;
  };
  // The initial population: half from each view, as the supernet was trained.
  let population = await run(
    fresh(Math.min(o.population, o.budget), () =>
      rng.uniform() < 0.5 ? sampleConfiguration(rng) : genotypeToConfiguration(sampleGenotype(rng)),
    ),
  );
  while (evaluated.length < o.budget) {
    const order = ranking(population);
    const pick = () => {
      const a = rng.int(population.length);
      const b = rng.int(population.length);
      return population[order.get(a)! < order.get(b)! ? a : b]!;
    };
    const children = await run(
      fresh(Math.min(o.population, o.budget - evaluated.length), () => {
        const x = pick();
        const y = pick();
        const child =
          rng.uniform() < 0.5 ? crossover(x.configuration, y.configuration, rng) : x.configuration;
        return mutate(child, rng);
      }),
    );
    if (children.length === 0) break; // nothing new left to propose
    const merged = [...population, ...children];
    const kept = ranking(merged);
    population = merged.filter((_, i) => kept.get(i)! < o.population);
  }
  return evaluated;
}

/** Each member's place in NSGA-II's order (0 best): by front, then by crowding distance, then by index. */
function ranking(population: readonly Candidate[]): Map<number, number> {
  const points = population.map((c) => c.objectives);
  const keyed: { i: number; front: number; crowding: number }[] = [];
  nondominatedFronts(points).forEach((front, f) => {
    const d = crowdingDistance(points, front);
    for (const i of front) keyed.push({ i, front: f, crowding: d.get(i)! });
  });
  keyed.sort((a, b) => a.front - b.front || b.crowding - a.crowding || a.i - b.i);
  return new Map(keyed.map((k, place) => [k.i, place]));
}

/** Per cell, each edge's op from one parent or the other. */
function crossover(a: Configuration, b: Configuration, rng: Rng): Configuration {
  const cell = (p: readonly OpIndex[], q: readonly OpIndex[]) =>
    p.map((op, e) => (rng.uniform() < 0.5 ? op : q[e]!));
  return { normal: cell(a.normal, b.normal), reduce: cell(a.reduce, b.reduce) };
}

/** One edge (two with probability ½) of a random cell gets a different op. */
function mutate(c: Configuration, rng: Rng): Configuration {
  const normal = [...c.normal];
  const reduce = [...c.reduce];
  const edits = rng.uniform() < 0.5 ? 1 : 2;
  for (let k = 0; k < edits; k++) {
    const cell = rng.uniform() < 0.5 ? normal : reduce;
    const e = rng.int(EDGES_PER_CELL);
    cell[e] = ((cell[e]! + 1 + rng.int(numOps() - 1)) % numOps()) as OpIndex;
  }
  return { normal, reduce };
}
