/** The search's plot: every evaluated architecture, the Pareto front and the reference networks (Vega-Lite, rendered to SVG). */
import type { TopLevelSpec } from "vega-lite";

export interface PlotPoint {
  readonly accuracy: number;
  readonly cost: number;
  /** Evaluated, on the front, or a reference architecture (its name). */
  readonly kind: "evaluated" | "front" | "reference";
  readonly label?: string;
}

export async function paretoSvg(
  points: readonly PlotPoint[],
  costTitle: string,
  title: string,
): Promise<string> {
  const x = { field: "cost", type: "quantitative", title: costTitle, scale: { zero: false } } as const;
  const y = {
    field: "accuracy",
    type: "quantitative",
    title: "validation accuracy on the shared weights",
    axis: { format: ".1%" },
    scale: { zero: false },
  } as const;
  const of = (kind: PlotPoint["kind"]) => ({ filter: `datum.kind === '${kind}'` });
  const spec: TopLevelSpec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    width: 520,
    height: 340,
    data: { values: points.map((p) => ({ ...p })) },
    layer: [
      {
        transform: [of("evaluated")],
        mark: { type: "point", color: "#9aa5b1", opacity: 0.6 },
        encoding: { x, y },
      },
      {
        transform: [of("front")],
        mark: { type: "line", point: true, color: "#1f6fb4", interpolate: "step-after" },
        encoding: { x, y, order: { field: "cost", type: "quantitative" } },
      },
      {
        transform: [of("reference")],
        mark: { type: "point", shape: "diamond", filled: true, color: "#d62728", size: 90 },
        encoding: { x, y },
      },
      {
        transform: [of("reference")],
        mark: { type: "text", align: "left", dx: 7, dy: -7, color: "#d62728" },
        encoding: { x, y, text: { field: "label" } },
      },
    ],
  };
  // Loaded here: every other command starts faster without the plotting libraries.
  const [{ parse, View }, { compile }] = await Promise.all([import("vega"), import("vega-lite")]);
  const view = new View(parse(compile(spec).spec), { renderer: "none" });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}
