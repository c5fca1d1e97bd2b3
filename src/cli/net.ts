/** `memhyper net info`: the IR of an architecture (NetworkCIFAR) or of a plain network file. */
import type { Command } from "commander";
import { countMacs, countParams } from "../ir/count.js";
import { nodeInputs } from "../ir/graph.js";
import { addNetSourceOptions, type NetSourceOptions, resolveNetSource } from "./common.js";
import { fmtInt, makeOut, table } from "./output.js";

export function registerNet(program: Command): void {
  const net = program.command("net").description("the network IR of an architecture");
  addNetSourceOptions(
    net
      .command("info")
      .description(
        "layers, shapes, parameters and MACs of NetworkCIFAR (--genotype) or a network file (--net)",
      ),
  ).action((opts: NetSourceOptions) => {
    const out = makeOut(!!opts.json);
    const source = resolveNetSource(opts);
    const network = source.network;
    const params = countParams(network);
    const macs = countMacs(network);
    const layers = network.nodes.map((n) => ({
      id: n.id,
      kind: n.kind,
      scope: n.scope.path,
      op: n.scope.op ?? null,
      inputs: nodeInputs(n),
      shape: [n.shape.c, n.shape.h, n.shape.w],
      ...(n.kind === "conv"
        ? {
            weight: `${n.param}.weight`,
            k: n.k,
            stride: n.stride,
            pad: n.pad,
            dilation: n.dilation,
            groups: n.groups,
          }
        : {}),
      ...(n.kind === "maxpool" || n.kind === "avgpool" ? { k: n.k, stride: n.stride, pad: n.pad } : {}),
      ...(n.kind === "linear" ? { weight: `${n.param}.weight`, bias: n.bias } : {}),
    }));
    out.result(
      {
        ...source.describe,
        params,
        macs,
        parameters: network.params.map((p) => ({ name: p.name, shape: p.shape })),
        layers,
      },
      () => {
        const size = source.file ? "" : `  C=${opts.channels}  L=${opts.layers}`;
        out.line(`${source.label}${size}  params ${fmtInt(params)}  MACs ${fmtInt(macs)}`);
        out.line(
          table(
            ["id", "kind", "scope", "shape", "detail"],
            layers
              .filter((l) => l.kind === "conv" || l.kind === "linear" || l.kind.endsWith("pool"))
              .map((l) => [l.id, l.kind, l.scope, l.shape.join("×"), layerDetail(l)]),
          ),
        );
      },
    );
  });
}

function layerDetail(l: { k?: number; stride?: number; dilation?: number; groups?: number }): string {
  if (l.k === undefined) return "";
  const dil = (l.dilation ?? 1) > 1 ? ` d${l.dilation}` : "";
  const grp = (l.groups ?? 1) > 1 ? ` g${l.groups}` : "";
  return `k${l.k} s${l.stride}${dil}${grp}`;
}
