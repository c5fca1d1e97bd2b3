/** `--net FILE`: a JSON layer list or an ONNX model, as a description and its IR. */
import { existsSync, readFileSync } from "node:fs";
import type { Network } from "../ir/graph.js";
import { buildPlainNetwork } from "./build.js";
import { type NetDescription, NetFileError, parseNetDescription } from "./description.js";
import { type OnnxNet, readOnnx } from "./onnx.js";

export interface LoadedNet {
  readonly file: string;
  readonly description: NetDescription;
  readonly network: Network;
  /** Weights the file carries (ONNX initialisers); null for a JSON description. */
  readonly weights: OnnxNet["weights"] | null;
}

export function loadNetFile(file: string): LoadedNet {
  if (!existsSync(file))
    throw new NetFileError(`network file not found: ${file} (give a .json layer list or an .onnx model)`);
  const bytes = readFileSync(file);
  if (file.toLowerCase().endsWith(".onnx")) {
    const { description, weights } = readOnnx(bytes, file);
    const network = build(description, file);
    checkWeightShapes(network, weights, file);
    return { file, description, network, weights };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(bytes.toString("utf8"));
  } catch (e) {
    throw new NetFileError(
      `network file ${file} is not valid JSON (${(e as Error).message}); an ONNX model needs the .onnx extension`,
    );
  }
  const description = parseNetDescription(raw, file);
  return { file, description, network: build(description, file), weights: null };
}

function build(d: NetDescription, file: string): Network {
  try {
    return buildPlainNetwork(d);
  } catch (e) {
    if (e instanceof NetFileError) throw new NetFileError(`${file}: ${e.message}`);
    throw e;
  }
}

/** Every parameter the IR infers from the shapes has an initialiser of that shape. */
function checkWeightShapes(network: Network, weights: OnnxNet["weights"], file: string): void {
  for (const p of network.params) {
    const t = weights.get(p.name);
    if (!t) throw new NetFileError(`${file}: no initialiser for '${p.name}'`);
    if (t.shape.length !== p.shape.length || t.shape.some((d, i) => d !== p.shape[i]))
      throw new NetFileError(
        `${file}: layer '${network.nodes[p.node]!.scope.path}': '${p.name}' is [${t.shape.join(", ")}] in the file, the network needs [${p.shape.join(", ")}] from the shapes before it`,
      );
  }
}
