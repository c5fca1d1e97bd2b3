/**
 * A plain network as a layer list (the `--net FILE` JSON format): each layer reads the layer
 * before it unless it names its input; `add` names all of its inputs. ONNX models are read
 * into this same description, so both kinds of file become one IR through one builder.
 */
import { z } from "zod";

const positive = z.number().int().positive();
const nonNegative = z.number().int().nonnegative();
const reference = z.string().min(1);

const common = {
  /** Unique; default `layer<index>`. Parameters are named `<name>.weight` etc. */
  name: z.string().min(1).optional(),
  /** The layer whose output this layer reads (default: the previous layer; `input`: the image). */
  input: reference.optional(),
};

const ConvLayer = z.strictObject({
  type: z.literal("conv"),
  ...common,
  out: positive,
  kernel: positive,
  stride: positive.default(1),
  padding: nonNegative.default(0),
  dilation: positive.default(1),
  groups: positive.default(1),
  bias: z.boolean().default(false),
});

const PoolLayer = z.strictObject({
  type: z.enum(["maxpool", "avgpool"]),
  ...common,
  kernel: positive,
  /** Default: the kernel size (PyTorch's default). */
  stride: positive.optional(),
  padding: nonNegative.default(0),
});

const LinearLayer = z.strictObject({
  type: z.literal("linear"),
  ...common,
  out: positive,
  bias: z.boolean().default(true),
});

const SimpleLayer = z.strictObject({
  type: z.enum(["bn", "relu", "flatten", "globalavgpool"]),
  ...common,
});

const AddLayer = z.strictObject({
  type: z.literal("add"),
  name: common.name,
  inputs: z.array(reference).min(2),
  /**
   * identity: every input has the first input's shape. zero-pad (ResNet option A): an input
   * with fewer channels or a larger map is subsampled to the first input's map and padded with
   * zero channels on both sides.
   */
  shortcut: z.enum(["identity", "zero-pad"]).default("identity"),
});

export const LayerSchema = z.discriminatedUnion("type", [
  ConvLayer,
  PoolLayer,
  LinearLayer,
  SimpleLayer,
  AddLayer,
]);

export const NetDescriptionSchema = z.strictObject({
  name: z.string().min(1),
  /** Where the architecture comes from (a paper, a repository file). */
  source: z.string().optional(),
  /** Per-image input shape [channels, height, width]. */
  input: z.tuple([positive, positive, positive]),
  layers: z.array(LayerSchema).min(1),
});

export type Layer = z.output<typeof LayerSchema>;
export type NetDescription = z.output<typeof NetDescriptionSchema>;
export type NetDescriptionInput = z.input<typeof NetDescriptionSchema>;

export class NetFileError extends Error {
  override name = "NetFileError";
}

/** The name a layer goes by (its own or `layer<index>`). */
export function layerName(layer: Layer, index: number): string {
  return layer.name ?? `layer${index}`;
}

/** Validates a parsed JSON description; errors name the layer (index and name) and the field. */
export function parseNetDescription(raw: unknown, origin: string): NetDescription {
  const r = NetDescriptionSchema.safeParse(raw);
  if (r.success) return r.data;
  const layers = (raw as { layers?: unknown[] })?.layers;
  const lines = r.error.issues.map((i) => {
    const [top, index, ...rest] = i.path;
    const keys = i.code === "unrecognized_keys" ? ` (${i.keys.join(", ")})` : "";
    if (top === "layers" && typeof index === "number") {
      const raw = Array.isArray(layers) ? (layers[index] as { name?: unknown } | undefined) : undefined;
      const named = typeof raw?.name === "string" ? ` '${raw.name}'` : "";
      const field = rest.length ? rest.join(".") : "(layer)";
      return `  layer ${index}${named}, ${field}: ${i.message}${keys}`;
    }
    return `  ${i.path.join(".") || "(top level)"}: ${i.message}${keys}`;
  });
  throw new NetFileError(
    `invalid network description ${origin}:\n${lines.join("\n")}\nFix these fields (docs/networks.md describes the format).`,
  );
}
