/**
 * The hypernetwork's switch map (every slot of every cell: the unit its output MUX selects,
 * powered or gated, its settings) and the arrays of individual deployment (per layer, each
 * array's utilisation as a heat map).
 */
import { html } from "htm/preact";
import {
  columnsPerWeight,
  type IrNode,
  placeWeights,
  type SlotSetting,
  shapeOfNode,
  type WeightShape,
} from "../../src/browser.js";
import type { Costs } from "./model.js";

function describe(s: SlotSetting): string {
  if (!s.unit) return "open (every unit gated)";
  const parts = [`${s.op}`, `input c${s.source}`, `unit ${s.unit}`];
  if (s.universal)
    parts.push(
      `${s.universal.kernel === 3 ? "centre 9 rows" : "all 25 rows"}`,
      `dilation ${s.universal.dilation}`,
      `stride ${s.universal.stride}`,
      s.universal.stage2 ? "stage 2 on" : "stage 2 bypassed",
    );
  if (s.pool) parts.push(`${s.pool} pooling`, `stride ${s.stride}`);
  if (s.weights) parts.push(`programmed with ${s.weights}`);
  return parts.join(", ");
}

export function SwitchMap(props: { costs: Costs }) {
  const c = props.costs.compiled;
  const cells = c.hardware.cells;
  const bits = c.switches.reduce((n, s) => n + s.bits, 0);
  const powered = c.settings.filter((s) => s.unit !== null).length;
  return html`<div class="switchmap">
    <p>
      <span data-switches=${c.switches.length}>${c.switches.length} switches</span> (${bits} configuration bits);
      <span data-powered=${powered}>${powered}</span> of ${c.settings.length} slots powered;
      ${c.plan.length} weight layers programmed.
    </p>
    <table aria-label="switch map: the unit each slot's output MUX selects">
      <thead>
        <tr><th scope="col">cell</th>${cells[0]!.slots.map((s) => html`<th scope="col">${s.index}</th>`)}</tr>
      </thead>
      <tbody>
        ${cells.map(
          (cell) => html`<tr>
            <th scope="row">${cell.index}${cell.reduction ? " (red.)" : ""}</th>
            ${c.settings
              .filter((s) => s.slot.cell === cell.index)
              .map(
                (
                  s,
                ) => html`<td class=${`unit u-${s.unit ?? "off"}`} data-slot=${s.slot.path} data-unit=${s.unit ?? "off"} title=${describe(s)}>
                  ${s.unit ? s.unit.slice(0, 4) : "·"}
                </td>`,
              )}
          </tr>`,
        )}
      </tbody>
    </table>
    <p class="legend">
      <span class="unit u-universal">univ</span> universal unit (depthwise 25 taps + pointwise, two stages)
      <span class="unit u-pool">pool</span> pooling unit <span class="unit u-identity">iden</span> identity
      <span class="unit u-fr">fr</span> FactorizedReduce <span class="unit u-off">·</span> open. Hover a slot for its
      settings.
    </p>
  </div>`;
}

const uses = new Map<string, number[]>();
/** Share of each array's cells that hold weights, for a layer shape (cached: networks repeat shapes). */
function arrayUse(shape: WeightShape, tile: number, cpw: number, copies: number): number[] {
  const key = JSON.stringify([shape, tile, cpw, copies]);
  let used = uses.get(key);
  if (!used) {
    used = placeWeights(shape, tile, cpw, "layer", copies).map(
      (a) => (a.rows.length * a.outputs.length * cpw) / (tile * tile),
    );
    uses.set(key, used);
  }
  return used;
}

/** Utilisation → colour (light for empty, dark for full). */
const heat = (u: number): string => `hsl(${210 - 170 * u} 70% ${92 - 50 * u}%)`;

export function ArrayMap(props: { costs: Costs }) {
  const { individual, hw, network } = props.costs;
  const tile = hw.config.tile;
  const cpw = columnsPerWeight(hw.config);
  const layers = network.nodes.filter(
    (n): n is Extract<IrNode, { kind: "conv" | "linear" }> =>
      (n.kind === "conv" || n.kind === "linear") && n.scope.part !== "aux",
  );
  return html`<div class="arraymap" data-arrays=${individual.arrays}>
    <p>
      ${individual.arrays} arrays of ${tile}×${tile} in ${layers.length} layers, utilisation
      ${(100 * individual.utilisation).toFixed(1)} % (${cpw} columns per weight). Each square is an array, its
      colour the share of its cells that hold weights (light: few, dark: all).
    </p>
    <div class="arrays" role="list" tabindex="0" aria-label="arrays per layer">
      ${layers.map((n) => {
        const used = arrayUse(shapeOfNode(n), tile, cpw, hw.config.layout.weightCopies);
        const mean = used.reduce((s, u) => s + u, 0) / used.length;
        return html`<div key=${n.param} class="layer" role="listitem" aria-label="${n.param}: ${used.length} arrays, ${(100 * mean).toFixed(0)} % used">
          <span class="name">${n.param}</span>
          ${used.map((u) => html`<span class="array" style=${{ background: heat(u) }} title=${`${(100 * u).toFixed(0)} % of cells used`}></span>`)}
        </div>`;
      })}
    </div>
  </div>`;
}
