/**
 * Results read from the server's results directory (the JSON that `memhyper eval`, `hw sweep`,
 * `hyper sweep` and `search` print with --json): accuracy tables, sweep distributions, and
 * the search's Pareto front, whose points open their architecture in the editor.
 */
import { html } from "htm/preact";
import { COST_UNITS, type CostObjective } from "../../src/browser.js";

export interface ResultFile {
  readonly name: string;
  readonly data?: unknown;
  readonly error?: string;
}

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

export type ResultKind = "eval" | "hyper-sweep" | "hw-sweep" | "search" | "other";
export function kindOf(d: unknown): ResultKind {
  if (!isObj(d)) return "other";
  if (typeof d.accuracy === "number" && Array.isArray(d.perTrial)) return "eval";
  if (Array.isArray(d.front) && Array.isArray(d.references)) return "search";
  if (isObj(d.metrics) && isObj(d.metrics.areaRatio)) return "hyper-sweep";
  if (isObj(d.metrics) && isObj(d.metrics.areaMm2)) return "hw-sweep";
  return "other";
}

const pct = (v: number): string => `${(100 * v).toFixed(2)} %`;

function EvalTable(props: { files: readonly ResultFile[]; onOpen: (code: string) => void }) {
  return html`<table class="results" aria-label="accuracy on hardware">
    <thead><tr><th scope="col">file</th><th scope="col">network</th><th scope="col">preset</th><th scope="col">accuracy</th><th scope="col">trials × images</th></tr></thead>
    <tbody>
      ${props.files.map((f) => {
        const d = f.data as Json;
        const cfg = (isObj(d.config) ? d.config : {}) as Json;
        const code = typeof cfg.code === "string" ? cfg.code : null;
        const label = String(cfg.genotype ?? cfg.net ?? "?");
        return html`<tr data-result=${f.name}>
          <td>${f.name}</td>
          <td>${code ? html`<button type="button" class="link" onClick=${() => props.onOpen(code)}>${label}</button>` : label}</td>
          <td>${String(d.preset)}</td>
          <td data-accuracy=${String(d.accuracy)}>${pct(d.accuracy as number)} ± ${pct((d.std as number) ?? 0)}</td>
          <td>${String(d.trials)} × ${String(d.images)}</td>
        </tr>`;
      })}
    </tbody>
  </table>`;
}

const QUANTILES = ["min", "p10", "median", "p90", "p99", "max"] as const;

function SweepTable(props: { file: ResultFile }) {
  const d = props.file.data as Json;
  const metrics = d.metrics as Record<string, Json>;
  return html`<table class="results" aria-label=${`distribution: ${props.file.name}`}>
    <caption>${props.file.name}: ${String(d.samples)} configurations (${String(d.view)} view, seed ${String(d.seed)}), ${String(d.preset)}</caption>
    <thead><tr><th scope="col">metric</th>${QUANTILES.map((q) => html`<th scope="col">${q}</th>`)}<th scope="col">distribution</th></tr></thead>
    <tbody>
      ${Object.entries(metrics).map(([m, s]) => {
        const v = (q: string): number => Number(s[q]);
        const lo = v("min");
        const span = Math.max(1e-30, v("max") - lo);
        const at = (q: string): string => `${(100 * (v(q) - lo)) / span}%`;
        return html`<tr>
          <th scope="row">${m}</th>
          ${QUANTILES.map((q) => html`<td>${Number.isFinite(v(q)) ? v(q).toPrecision(4) : "–"}</td>`)}
          <td class="box" aria-hidden="true">
            <span class="whisker"></span>
            <span class="iqr" style=${{ left: at("p10"), width: `calc(${at("p90")} - ${at("p10")})` }}></span>
            <span class="median" style=${{ left: at("median") }}></span>
          </td>
        </tr>`;
      })}
    </tbody>
  </table>`;
}

function ParetoPlot(props: { file: ResultFile; onOpen: (code: string) => void }) {
  const d = props.file.data as Json;
  const objective = String((d.objective as string[] | undefined)?.[1]);
  const costKey = objective in COST_UNITS ? COST_UNITS[objective as CostObjective].field : "latencyUs";
  const point = (p: Json, kind: string) => {
    const cost = Number(p[costKey]);
    return {
      code: String(p.code),
      label: String(p.name ?? p.code),
      accuracy: Number(p.accuracy),
      cost,
      kind,
    };
  };
  const points = [
    ...(d.front as Json[]).map((p) => point(p, "front")),
    ...(d.references as Json[]).map((p) => point(p, "reference")),
  ].filter((p) => Number.isFinite(p.cost) && Number.isFinite(p.accuracy));
  const W = 520;
  const H = 260;
  const pad = 44;
  const xs = points.map((p) => p.cost);
  const ys = points.map((p) => p.accuracy);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  const sx = (v: number): number => pad + ((W - 2 * pad) * (v - x0)) / Math.max(1e-30, x1 - x0);
  const sy = (v: number): number => H - pad - ((H - 2 * pad) * (v - y0)) / Math.max(1e-30, y1 - y0);
  return html`<figure class="pareto">
    <figcaption>${props.file.name}: Pareto front of accuracy against ${costKey} (${String(d.preset)}); click a point to open it</figcaption>
    <svg viewBox="0 0 ${W} ${H}" role="group" aria-label="Pareto front">
      <line x1=${pad} y1=${H - pad} x2=${W - pad} y2=${H - pad} class="axis" />
      <line x1=${pad} y1=${pad} x2=${pad} y2=${H - pad} class="axis" />
      <text x=${W / 2} y=${H - 8} class="axis-label">${costKey} (${x0.toPrecision(3)} … ${x1.toPrecision(3)})</text>
      <text x="12" y=${H / 2} class="axis-label" transform="rotate(-90 12 ${H / 2})">accuracy (${pct(y0)} … ${pct(y1)})</text>
      ${points.map(
        (p) => html`<circle
          class=${`pt ${p.kind}`}
          cx=${sx(p.cost)}
          cy=${sy(p.accuracy)}
          r="6"
          role="button"
          tabindex="0"
          data-code=${p.code}
          aria-label="${p.label}: accuracy ${pct(p.accuracy)}, ${costKey} ${p.cost.toPrecision(4)}; open in the editor"
          onClick=${() => props.onOpen(p.code)}
          onKeyDown=${(e: KeyboardEvent) => (e.key === "Enter" || e.key === " ") && props.onOpen(p.code)}
        ><title>${p.label}</title></circle>`,
      )}
    </svg>
  </figure>`;
}

export function ResultsView(props: {
  files: readonly ResultFile[] | null;
  error: string | null;
  onOpen: (code: string) => void;
}) {
  const { files, error, onOpen } = props;
  if (error) return html`<p class="hint">${error}</p>`;
  if (!files) return html`<p class="hint">Reading the results directory…</p>`;
  if (!files.length)
    return html`<p class="hint">The results directory holds no JSON yet: write some with <code>memhyper eval … --json &gt; results/NAME.json</code> (or hw sweep, hyper sweep, search).</p>`;
  const by = (k: ResultKind) => files.filter((f) => !f.error && kindOf(f.data) === k);
  const broken = files.filter((f) => f.error);
  const evals = by("eval");
  return html`<div class="results-view">
    ${evals.length ? html`<${EvalTable} files=${evals} onOpen=${onOpen} />` : null}
    ${[...by("hyper-sweep"), ...by("hw-sweep")].map((f) => html`<${SweepTable} file=${f} />`)}
    ${by("search").map((f) => html`<${ParetoPlot} file=${f} onOpen=${onOpen} />`)}
    ${broken.map((f) => html`<p class="error" role="alert">${f.name}: ${f.error}</p>`)}
  </div>`;
}
