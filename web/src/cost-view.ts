/**
 * Cost: individual deployment against the hypernetwork (area, energy, latency, power and their
 * ratios), and both broken down by component and by op. Every displayed number carries its
 * full-precision value in a data- attribute.
 */
import { html } from "htm/preact";
import { useState } from "preact/hooks";
import type { Architecture } from "../../src/browser.js";
import { type Costs, costsOf, HARDWARE_PRESETS } from "./model.js";

const METRICS = [
  { key: "areaMm2", label: "area", unit: "mm²" },
  { key: "energyUj", label: "energy / image", unit: "µJ" },
  { key: "latencyUs", label: "latency / image", unit: "µs" },
  { key: "powerMw", label: "power", unit: "mW" },
  { key: "throughputImgPerSec", label: "throughput (pipelined)", unit: "images/s" },
] as const;

const fmt = (v: number): string => (Math.abs(v) >= 1000 ? v.toFixed(0) : v.toPrecision(4));

export function CostTable(props: { costs: Costs }) {
  const { individual, hyper, hw } = props.costs;
  return html`<table class="cost" aria-label="individual deployment against the hypernetwork">
    <caption>
      ${`${hw.config.name} (${hw.config.analogChain.enabled ? "parallel analog" : "digital periphery"}) on ${hw.config.tech}`}
    </caption>
    <thead>
      <tr><th scope="col">metric</th><th scope="col">individual</th><th scope="col">hypernetwork</th><th scope="col">×</th></tr>
    </thead>
    <tbody>
      ${METRICS.map(({ key, label, unit }) => {
        const a = individual[key];
        const b = hyper[key];
        return html`<tr data-metric=${key} data-individual=${String(a)} data-hyper=${String(b)} data-ratio=${String(b / a)}>
          <th scope="row">${label} (${unit})</th>
          <td>${fmt(a)}</td>
          <td>${fmt(b)}</td>
          <td>${(b / a).toFixed(3)}</td>
        </tr>`;
      })}
      <tr data-metric="arrays" data-individual=${String(individual.arrays)} data-hyper=${String(hyper.arrays)}>
        <th scope="row">arrays</th>
        <td>${individual.arrays}</td>
        <td>${hyper.arrays} (${hyper.activeArrays} active)</td>
        <td>${(hyper.arrays / individual.arrays).toFixed(2)}</td>
      </tr>
    </tbody>
  </table>`;
}

/** Paired bars (individual, hypernetwork) for each key present in either breakdown. */
export function Breakdown(props: {
  title: string;
  unit: string;
  individual: Record<string, number>;
  hyper: Record<string, number>;
  id: string;
}) {
  const { title, unit, individual, hyper, id } = props;
  const keys = [...new Set([...Object.keys(individual), ...Object.keys(hyper)])].filter(
    (k) => (individual[k] ?? 0) > 0 || (hyper[k] ?? 0) > 0,
  );
  keys.sort((p, q) => (hyper[q] ?? 0) - (hyper[p] ?? 0));
  const top = Math.max(1e-30, ...keys.map((k) => Math.max(individual[k] ?? 0, hyper[k] ?? 0)));
  return html`<figure class="breakdown" data-breakdown=${id}>
    <figcaption>${title} (${unit}): <span class="key ind">individual</span> <span class="key hyp">hypernetwork</span></figcaption>
    <dl>
      ${keys.map(
        (k) => html`<dt>${k}</dt>
          <dd data-part=${k} data-individual=${String(individual[k] ?? 0)} data-hyper=${String(hyper[k] ?? 0)}>
            <span class="bar ind" style=${{ width: `${(100 * (individual[k] ?? 0)) / top}%` }}></span>
            <span class="bar hyp" style=${{ width: `${(100 * (hyper[k] ?? 0)) / top}%` }}></span>
            <span class="val">${fmt(individual[k] ?? 0)} / ${fmt(hyper[k] ?? 0)}</span>
          </dd>`,
      )}
    </dl>
  </figure>`;
}

export function CostView(props: { costs: Costs }) {
  const { individual: i, hyper: h } = props.costs;
  return html`<div class="costs">
    <${CostTable} costs=${props.costs} />
    <div class="breakdowns">
      <${Breakdown} id="area-component" title="area by component" unit="mm²" individual=${i.breakdown.areaMm2ByComponent} hyper=${h.breakdown.areaMm2ByComponent} />
      <${Breakdown} id="energy-component" title="energy by component" unit="µJ" individual=${i.breakdown.energyUjByComponent} hyper=${h.breakdown.energyUjByComponent} />
      <${Breakdown} id="area-op" title="area by op" unit="mm²" individual=${i.breakdown.areaMm2ByOp} hyper=${h.breakdown.areaMm2ByOp} />
      <${Breakdown} id="energy-op" title="energy by op" unit="µJ" individual=${i.breakdown.energyUjByOp} hyper=${h.breakdown.energyUjByOp} />
    </div>
  </div>`;
}

const RATIOS = [
  ["areaMm2", "area ×"],
  ["energyUj", "energy ×"],
  ["latencyUs", "latency ×"],
  ["powerMw", "power ×"],
  ["throughputImgPerSec", "throughput ×"],
] as const;

/**
 * The configuration's ratios on every preset (both platforms), computed when asked: each preset
 * costs its hypernetwork's hardware once (about 0.1 s), which a click should not wait for.
 */
export function EveryPreset(props: { arch: Architecture; code: string }) {
  const [rows, setRows] = useState<{ code: string; costs: Costs[] } | null>(null);
  const current = rows?.code === props.code ? rows.costs : null;
  return html`<div class="every-preset">
    <button type="button" onClick=${() => setRows({ code: props.code, costs: HARDWARE_PRESETS.map((p) => costsOf(props.arch, p)) })}>
      compare on every preset
    </button>
    ${
      current &&
      html`<table class="cost" aria-label="the configuration on every preset">
        <thead>
          <tr><th scope="col">preset</th><th scope="col">platform</th>${RATIOS.map(([, label]) => html`<th scope="col">${label}</th>`)}</tr>
        </thead>
        <tbody>
          ${current.map(
            (c) => html`<tr data-preset=${c.preset}>
              <th scope="row">${c.preset}</th>
              <td>${c.hw.config.analogChain.enabled ? "parallel analog" : "digital periphery"}</td>
              ${RATIOS.map(([key]) => {
                const r = c.hyper[key] / c.individual[key];
                return html`<td data-metric=${key} data-ratio=${String(r)}>${r.toFixed(3)}</td>`;
              })}
            </tr>`,
          )}
        </tbody>
      </table>`
    }
  </div>`;
}
