/**
 * The hypernetwork as IR. `configuredNetwork` is what a configured hypernetwork computes:
 * only powered units, through its own MUXes, with 3×3 kernels in the centre of 25-tap
 * depthwise arrays (row gating) and dilation by addressing; it runs on the engine and the
 * crossbar simulator and is costed by the cost model. `fullNetwork` has every unit of every
 * slot, for the area of the whole hardware.
 */

import { muxShape } from "../hw/components.js";
import type { IrBuilder } from "../ir/builder.js";
import type { Network, Scope } from "../ir/graph.js";
import { buildNetworkFrame, cellNode, factorizedReduce } from "../ir/network.js";
import { FIRST_NODE, LAST_NODE } from "../space/cell.js";
import {
  type CompiledConfiguration,
  frPrefix,
  type SlotSetting,
  UNIVERSAL_KERNEL,
  type UniversalSetting,
  universalParams,
} from "./compiler.js";
import { type HyperHardware, isStrided, type Slot } from "./hardware.js";

/** The centre 3×3 taps of a 5×5 window, row-major: the rows a 3×3 kernel drives. */
export const CENTRE_TAPS: readonly number[] = [6, 7, 8, 11, 12, 13, 16, 17, 18];

export interface HyperNetworkOptions {
  readonly imageSize?: number;
  readonly classes?: number;
  /** The auxiliary head (training only), as `buildNetwork` places it. */
  readonly auxiliary?: boolean;
}

export function configuredNetwork(c: CompiledConfiguration, opts: HyperNetworkOptions = {}): Network {
  const { hardware: hw } = c;
  return buildNetworkFrame({ ...hw.spec, ...opts }, (b, k, pre, C, reduction) => {
    const states: number[] = [...pre];
    for (let node = FIRST_NODE; node <= LAST_NODE; node++) {
      const inputs: number[] = [];
      for (const s of c.settings) {
        if (s.slot.cell !== k || s.slot.node !== node || !s.unit) continue;
        inputs.push(slotPath(b, states[s.source!]!, C, s));
      }
      const noDropPath = inputs.map(() => false);
      states.push(cellNode(b, k, node, inputs, noDropPath, pre, C, reduction));
    }
    return { nodes: states.slice(2), concat: [2, 3, 4, 5] };
  });
}

/** Input MUX, the selected unit, output MUX. */
function slotPath(b: IrBuilder, x: number, C: number, s: SlotSetting): number {
  const { slot } = s;
  const scope: Scope = { path: slot.path, part: "op", cell: slot.cell, op: s.op, ...edgeOf(slot) };
  let y = x;
  if (slot.sources.length > 1) y = route(b, y, scope, slot.sources.length);
  switch (s.unit) {
    case "universal":
      y = universalUnit(b, y, C, slot.path, scope, s.universal!);
      break;
    case "pool":
      y = b.pool(s.pool === "max" ? "maxpool" : "avgpool", y, scope, 3, s.stride, 1);
      break;
    case "fr":
      y = factorizedReduce(b, y, C, frPrefix(slot.path), scope);
      break;
    case "identity":
      break;
    default:
      throw new Error(`internal: slot ${slot.path} is open`);
  }
  return route(b, y, scope, slot.units.length);
}

function edgeOf(slot: Slot): { edge?: number } {
  return slot.edge === null ? {} : { edge: slot.edge };
}

function route(b: IrBuilder, x: number, scope: Scope, inputs: number): number {
  const m = muxShape(inputs);
  return b.route(x, scope, m.stages, m.switches);
}

/** The universal unit as configured: stage 1 (dilated by addressing when asked), stage 2 unless bypassed. */
function universalUnit(
  b: IrBuilder,
  x: number,
  C: number,
  slot: string,
  scope: Scope,
  u: UniversalSetting,
): number {
  const p = universalParams(slot);
  const taps = u.kernel === 3 ? CENTRE_TAPS : undefined;
  const y = universalStage(b, x, C, scope, [p.dw1, p.pw1, p.bn1], u.stride, u.dilation, taps);
  return u.stage2 ? universalStage(b, y, C, scope, [p.dw2, p.pw2, p.bn2], 1, 1, taps) : y;
}

/** ReLU, 25-tap depthwise (row-gated to `taps`), pointwise, BN. */
function universalStage(
  b: IrBuilder,
  x: number,
  C: number,
  scope: Scope,
  [dw, pw, bn]: readonly [string, string, string],
  stride: number,
  dilation: number,
  taps: readonly number[] | undefined,
): number {
  const d = b.conv(b.relu(x, scope), scope, dw, {
    outC: C,
    k: UNIVERSAL_KERNEL,
    stride,
    pad: ((UNIVERSAL_KERNEL - 1) / 2) * dilation,
    dilation,
    groups: C,
    ...(taps ? { taps } : {}),
  });
  return b.bn(b.conv(d, scope, pw, { outC: C, k: 1 }), scope, bn);
}

/**
 * Every unit of every slot, powered: the hardware whose area the hypernetwork pays. Each
 * slot's units read its strided source when it has one (the larger line buffers); the
 * universal unit's first stage carries the dilation address generator.
 */
export function fullNetwork(hw: HyperHardware, opts: HyperNetworkOptions = {}): Network {
  return buildNetworkFrame({ ...hw.spec, ...opts }, (b, k, pre, C, reduction) => {
    const cell = hw.cells[k]!;
    const states: number[] = [...pre];
    for (let node = FIRST_NODE; node <= LAST_NODE; node++) {
      const outs: number[] = [];
      for (const slot of cell.slots.filter((s) => s.node === node)) {
        const scope: Scope = { path: slot.path, part: "op", cell: k, ...edgeOf(slot) };
        const strided = slot.sources.find((s) => isStrided(reduction, s));
        const src = route(b, states[strided ?? slot.sources[0]!]!, scope, slot.sources.length);
        const stride = strided === undefined ? 1 : 2;
        const u = universalUnit(b, src, C, slot.path, scope, {
          kernel: 5,
          dilation: 2,
          stride,
          stage2: true,
        });
        b.pool("maxpool", src, scope, 3, stride, 1);
        b.pool("avgpool", src, scope, 3, stride, 1);
        if (strided !== undefined) factorizedReduce(b, src, C, frPrefix(slot.path), scope);
        outs.push(route(b, u, scope, slot.units.length));
      }
      const noDropPath = outs.map(() => false);
      states.push(cellNode(b, k, node, outs, noDropPath, pre, C, reduction));
    }
    return { nodes: states.slice(2), concat: [2, 3, 4, 5] };
  });
}
