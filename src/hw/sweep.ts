/** Cost distribution over random architectures of the space, and its SVG histogram. */
import type { Configuration } from "../space/cell.js";
import { genotypeToConfiguration } from "../space/genotype.js";
import { type SpaceView, sampleConfiguration, sampleGenotype } from "../space/sample.js";
import { Rng } from "../util/rng.js";
import { type Summary, summarise } from "../util/stats.js";
import type { Hardware } from "./config.js";
import { SpaceCostModel } from "./space-cost.js";

export const SWEEP_METRICS = ["areaMm2", "energyUj", "latencyUs", "powerMw"] as const;
export type SweepMetric = (typeof SWEEP_METRICS)[number];

export interface SweepResult {
  samples: number;
  seed: number;
  view: SpaceView;
  metrics: Record<SweepMetric, Summary>;
  values: Record<SweepMetric, number[]>;
}

export function sweep(
  n: number,
  seed: number,
  view: SpaceView,
  channels: number,
  layers: number,
  hw: Hardware,
): SweepResult {
  return sweepResult(n, seed, view, sweepValues(0, n, seed, view, channels, layers, hw));
}

/** The summary of a sweep's values (local, or merged from a queue's jobs). */
export function sweepResult(
  n: number,
  seed: number,
  view: SpaceView,
  values: Record<SweepMetric, number[]>,
): SweepResult {
  const metrics = Object.fromEntries(SWEEP_METRICS.map((m) => [m, summarise(values[m])])) as Record<
    SweepMetric,
    Summary
  >;
  return { samples: n, seed, view, metrics, values };
}

/** The costs of samples from … to − 1 of the seed's sequence (the same whoever computes which part). */
export function sweepValues(
  from: number,
  to: number,
  seed: number,
  view: SpaceView,
  channels: number,
  layers: number,
  hw: Hardware,
): Record<SweepMetric, number[]> {
  const values = Object.fromEntries(SWEEP_METRICS.map((m) => [m, [] as number[]])) as Record<
    SweepMetric,
    number[]
  >;
  const model = new SpaceCostModel(channels, layers, hw);
  for (const [i, config] of sampleSequence(seed, view, to))
    if (i >= from) {
      const r = model.evaluate(config);
      for (const m of SWEEP_METRICS) values[m].push(r[m]);
    }
  return values;
}

/** The first `n` configurations of a seed's sequence in a view, with their indices. */
export function* sampleSequence(
  seed: number,
  view: SpaceView,
  n: number,
): Generator<[number, Configuration]> {
  const rng = new Rng(seed);
  for (let i = 0; i < n; i++)
    yield [i, view === "genotype" ? genotypeToConfiguration(sampleGenotype(rng)) : sampleConfiguration(rng)];
}

export const SWEEP_LABELS: Record<SweepMetric, string> = {
  areaMm2: "area (mm²)",
  energyUj: "energy per image (µJ)",
  latencyUs: "latency per image (µs)",
  powerMw: "power (mW)",
};

/** Histograms (one per metric, two per row) in one SVG, with marks for named architectures. */
export function histogramSvg<M extends string>(
  values: Record<M, readonly number[]>,
  labels: Record<M, string>,
  title: string,
  marks: { label: string; values: Record<M, number> }[] = [],
  bins = 40,
): string {
  const W = 420;
  const H = 220;
  const pad = { l: 48, r: 12, t: 28, b: 40 };
  const metrics = Object.keys(labels) as M[];
  const panels = metrics.map((m, i) => {
    const xs = values[m];
    const lo = Math.min(...xs, ...marks.map((k) => k.values[m]));
    const hi = Math.max(...xs, ...marks.map((k) => k.values[m]));
    const width = (hi - lo) / bins || 1;
    const counts = new Array(bins).fill(0);
    for (const x of xs) counts[Math.min(bins - 1, Math.floor((x - lo) / width))]++;
    const top = Math.max(...counts);
    const px = (x: number) => pad.l + ((x - lo) / (hi - lo || 1)) * (W - pad.l - pad.r);
    const py = (c: number) => H - pad.b - (c / top) * (H - pad.t - pad.b);
    const bw = (W - pad.l - pad.r) / bins;
    const bars = counts
      .map(
        (c, b) =>
          `<rect x="${(pad.l + b * bw).toFixed(1)}" y="${py(c).toFixed(1)}" width="${(bw - 1).toFixed(1)}" height="${(H - pad.b - py(c)).toFixed(1)}" fill="#4c78a8"/>`,
      )
      .join("");
    const markLines = marks
      .map(
        (k, j) =>
          `<line x1="${px(k.values[m]).toFixed(1)}" x2="${px(k.values[m]).toFixed(1)}" y1="${pad.t}" y2="${H - pad.b}" stroke="${["#e45756", "#f58518", "#54a24b"][j % 3]}" stroke-width="2"><title>${k.label}</title></line>`,
      )
      .join("");
    const ox = (i % 2) * W;
    const oy = Math.floor(i / 2) * H + 30;
    return `<g transform="translate(${ox},${oy})"><text x="${W / 2}" y="18" text-anchor="middle" font-size="13">${labels[m]}</text>${bars}${markLines}<line x1="${pad.l}" x2="${W - pad.r}" y1="${H - pad.b}" y2="${H - pad.b}" stroke="#333"/><text x="${pad.l}" y="${H - pad.b + 16}" font-size="11">${fmt(lo)}</text><text x="${W - pad.r}" y="${H - pad.b + 16}" font-size="11" text-anchor="end">${fmt(hi)}</text><text x="${pad.l - 6}" y="${pad.t + 8}" font-size="11" text-anchor="end">${top}</text></g>`;
  });
  const legend = marks
    .map((k, j) => `<tspan fill="${["#e45756", "#f58518", "#54a24b"][j % 3]}"> ■ ${k.label}</tspan>`)
    .join("");
  const rows = Math.ceil(metrics.length / 2);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${2 * W}" height="${rows * H + 40}" font-family="sans-serif"><text x="10" y="20" font-size="14">${title}${legend}</text>${panels.join("")}</svg>\n`;
}

function fmt(x: number): string {
  return Math.abs(x) >= 100 ? x.toFixed(0) : x.toPrecision(3);
}
