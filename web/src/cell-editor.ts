/**
 * One cell as a graph: inputs 0 and 1 and nodes 2–5 on a line, the 14 edges as arcs above it,
 * each edge's op as a focusable label. Clicking (or Enter/Space on) a label selects the edge;
 * the op palette below the cells then sets its op.
 */
import { html } from "htm/preact";
import { CELL_EDGES, type CellType, type OpIndex, PRIMITIVES } from "../../src/browser.js";

export const SHORT: Record<string, string> = {
  none: "·",
  max_pool_3x3: "max",
  avg_pool_3x3: "avg",
  skip_connect: "skip",
  sep_conv_3x3: "sep3",
  sep_conv_5x5: "sep5",
  dil_conv_3x3: "dil3",
  dil_conv_5x5: "dil5",
};

const STEP = 100;
const X0 = 40;
const BASE = 190;
const x = (node: number): number => X0 + node * STEP;
const arcHeight = (span: number): number => 26 * span + 8;

export interface Selected {
  readonly type: CellType;
  readonly edge: number;
}

export function CellGraph(props: {
  type: CellType;
  ops: readonly OpIndex[];
  selected: Selected | null;
  crowded: readonly number[];
  onSelect: (s: Selected) => void;
}) {
  const { type, ops, selected, crowded, onSelect } = props;
  const name = type === "reduce" ? "reduction" : "normal";
  return html`<figure class="cell" data-cell=${type}>
    <figcaption>${name} cell</figcaption>
    <svg viewBox="0 0 ${x(5) + X0} ${BASE + 30}" role="group" aria-label="${name} cell: 14 edges">
      ${CELL_EDGES.map((e) => {
        const h = arcHeight(e.to - e.from);
        const mx = (x(e.from) + x(e.to)) / 2;
        const active = ops[e.index] !== 0;
        return html`<path
          class=${active ? "arc on" : "arc"}
          d="M ${x(e.from)} ${BASE} Q ${mx} ${BASE - 2 * h} ${x(e.to)} ${BASE}"
        />`;
      })}
      ${[0, 1, 2, 3, 4, 5].map(
        (n) => html`<g class=${crowded.includes(n) ? "node crowded" : "node"}>
          <circle cx=${x(n)} cy=${BASE} r="13" /><text x=${x(n)} y=${BASE + 5}>${n < 2 ? `c${n}` : n}</text>
        </g>`,
      )}
      ${CELL_EDGES.map((e) => {
        const h = arcHeight(e.to - e.from);
        const mx = (x(e.from) + x(e.to)) / 2;
        const op = PRIMITIVES[ops[e.index]!]!;
        const isSel = selected?.type === type && selected.edge === e.index;
        const select = () => onSelect({ type, edge: e.index });
        return html`<g
          class=${`edge op-${ops[e.index]}${isSel ? " selected" : ""}`}
          role="button"
          tabindex="0"
          aria-pressed=${isSel ? "true" : "false"}
          aria-label="${SHORT[op]}: ${op} on ${name} cell edge ${e.from} to ${e.to}"
          data-edge=${e.index}
          data-op=${op}
          onClick=${select}
          onKeyDown=${(ev: KeyboardEvent) => {
            if (ev.key === "Enter" || ev.key === " ") {
              ev.preventDefault();
              select();
            }
          }}
        >
          <rect x=${mx - 22} y=${BASE - h - 9} width="44" height="18" rx="4" />
          <text x=${mx} y=${BASE - h + 4}>${SHORT[op]}</text>
        </g>`;
      })}
    </svg>
  </figure>`;
}

export function OpPalette(props: {
  selected: Selected | null;
  current: OpIndex | null;
  onChoose: (op: OpIndex) => void;
}) {
  const { selected, current, onChoose } = props;
  if (!selected)
    return html`<p class="hint" id="palette">Click an edge (or focus it and press Enter) to choose its op.</p>`;
  const e = CELL_EDGES[selected.edge]!;
  return html`<div class="palette" id="palette" role="toolbar" aria-label="op of the selected edge">
    <span>${selected.type === "reduce" ? "reduction" : "normal"} cell, edge ${e.from} → ${e.to}:</span>
    ${PRIMITIVES.map(
      (op, i) => html`<button
        type="button"
        class=${`op op-${i}`}
        data-choose=${op}
        aria-pressed=${current === i ? "true" : "false"}
        onClick=${() => onChoose(i as OpIndex)}
      >
        ${op}
      </button>`,
    )}
  </div>`;
}
