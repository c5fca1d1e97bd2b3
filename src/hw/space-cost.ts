/**
 * Costs of many architectures of the edge-complete space, fast. The network with every
 * op on every edge (the union of the space) is built and costed once, node by node, with
 * the same designs as `costNetwork`; an architecture's cost is then the sum of its active
 * parts, and its latency the longest path through its cells. `costNetwork` on the
 * architecture's own IR gives the same numbers (tested), at ~1000× the time.
 */
import type { AddNode, IrNode, Network } from "../ir/graph.js";
import { nodeInputs } from "../ir/graph.js";
import { buildNetwork } from "../ir/network.js";
import { architectureFromGenotype } from "../space/architecture.js";
import {
  CELL_EDGES,
  type CellType,
  type Configuration,
  DEFAULT_CONCAT,
  FIRST_NODE,
  LAST_NODE,
} from "../space/cell.js";
import { DARTS_STYLE, type GenotypeOp } from "../space/genotype.js";
import { numOps, PRIMITIVES } from "../space/primitives.js";
import { type Hardware, platformOf } from "./config.js";
import {
  addAnalogEnergy,
  addRouting,
  analogTiming,
  designContext,
  designsFor,
  headline,
  lineBufferArea,
  routedBitsPerValue,
} from "./cost.js";
import {
  type ByComponent,
  COMPONENT_KINDS,
  costNode,
  type LayerCost,
  type LineBuffer,
  zeroByComponent,
} from "./designs.js";

/** Summed cost of a group of IR nodes. */
interface Part {
  energy: ByComponent;
  area: ByComponent;
  /** Longest path through the group from its inputs (ns; cycles on the parallel analog platform). */
  latencyNs: number;
  movedElements: number;
  bufferBits: number;
  /** Parallel analog platform: static power, cell reads and the slowest stage of the group. */
  staticMw: ByComponent;
  cellReads: number;
  settleNs: number;
  /** Line buffers its units read, by key (charged once per key, the largest). */
  lineBuffers: Map<number, LineBuffer>;
}

function emptyPart(): Part {
  return {
    energy: zeroByComponent(),
    area: zeroByComponent(),
    latencyNs: 0,
    movedElements: 0,
    bufferBits: 0,
    staticMw: zeroByComponent(),
    cellReads: 0,
    settleNs: 0,
    lineBuffers: new Map(),
  };
}

function claimLineBuffer(p: Part, b: LineBuffer | null): void {
  if (!b) return;
  const had = p.lineBuffers.get(b.key);
  if (!had || lineBufferArea(b) > lineBufferArea(had)) p.lineBuffers.set(b.key, b);
}

/** Adds a part's line buffers (each key once) into its energy, area, static power and bits. */
function settleLineBuffers(p: Part): void {
  for (const b of p.lineBuffers.values()) {
    for (const k of COMPONENT_KINDS) {
      p.energy[k] += b.energyPj[k];
      p.area[k] += b.areaUm2[k];
      p.staticMw[k] += b.staticMw[k];
    }
    p.bufferBits += b.bufferBits;
  }
  p.lineBuffers.clear();
}

function addInto(total: Part, p: Part): void {
  for (const k of COMPONENT_KINDS) {
    total.energy[k] += p.energy[k];
    total.area[k] += p.area[k];
    total.staticMw[k] += p.staticMw[k];
  }
  total.movedElements += p.movedElements;
  total.bufferBits += p.bufferBits;
  total.cellReads += p.cellReads;
  total.settleNs = Math.max(total.settleNs, p.settleNs);
  for (const b of p.lineBuffers.values()) claimLineBuffer(total, b);
}

export interface SpaceCost {
  areaMm2: number;
  energyUj: number;
  latencyUs: number;
  powerMw: number;
}

export class SpaceCostModel {
  /** ops[cell][edge][op] for op 1..7 (0 = none is empty). */
  private readonly ops: Part[][][] = [];
  /** nodeSum[cell][node - 2][inputs]: the sum unit of a node with that many inputs. */
  private readonly nodeSums: Part[][][] = [];
  private readonly preprocess: Part[][] = [];
  private readonly fixed = emptyPart();
  private readonly headLatencyNs: number;
  private readonly stemLatencyNs: number;
  private readonly reductions: readonly number[];
  private readonly analog: boolean;
  private readonly net: Network;
  /** Bits each moved activation value carries through global routing (0 on the analog platform). */
  private readonly routedBitsPerValue: number;

  constructor(
    readonly channels: number,
    readonly layers: number,
    private readonly hw: Hardware,
  ) {
    // The union network: every non-none op on every edge, in a genotype-style op list.
    const all = (): GenotypeOp[] =>
      CELL_EDGES.flatMap((e) => PRIMITIVES.slice(1).map((op) => ({ op, from: e.from, to: e.to })));
    const union = architectureFromGenotype("union", {
      normal: { ops: all(), concat: [...DEFAULT_CONCAT] },
      reduce: { ops: all(), concat: [...DEFAULT_CONCAT] },
      style: DARTS_STYLE,
    });
    const net = buildNetwork(union, { channels, layers });
    this.net = net;
    this.reductions = net.reductions;
    this.analog = platformOf(hw.config) === "parallel-analog";
    const ctx = designContext(net, hw);
    this.routedBitsPerValue = routedBitsPerValue(ctx.hw, ctx.activationBits);
    const designs = designsFor(hw.config);
    const costs = net.nodes.map((n) => costNode(n, ctx, designs));
    const delay = this.analog ? (l: LayerCost) => l.fillCycles : (l: LayerCost) => l.latencyNs;
    const part = (ids: number[]): Part => partOf(net, costs, ids, delay);

    const byScope = new Map<string, number[]>();
    for (const n of net.nodes) {
      const key = n.kind === "add" ? `${n.scope.path}#sum` : n.scope.path;
      byScope.set(key, [...(byScope.get(key) ?? []), n.id]);
    }
    const taken = new Set<number>();
    const take = (key: string): number[] => {
      const ids = byScope.get(key) ?? [];
      for (const i of ids) taken.add(i);
      return ids;
    };
    for (let k = 0; k < layers; k++) {
      const perEdge: Part[][] = [];
      for (const e of CELL_EDGES) {
        perEdge.push([
          emptyPart(),
          ...PRIMITIVES.slice(1).map((_, j) => part(take(`cells.${k}._ops.${e.index * (numOps() - 1) + j}`))),
        ]);
      }
      this.ops.push(perEdge);
      this.preprocess.push([part(take(`cells.${k}.preprocess0`)), part(take(`cells.${k}.preprocess1`))]);
      const sums: Part[][] = [];
      for (let node = FIRST_NODE; node <= LAST_NODE; node++) {
        const ids = take(`cells.${k}.node${node}#sum`);
        const addNode = net.nodes[ids[0]!] as AddNode;
        const perCount: Part[] = [emptyPart()];
        for (let n = 1; n <= node; n++) {
          // The same design, on a node summing n inputs.
          const probe: AddNode = {
            ...addNode,
            inputs: addNode.inputs.slice(0, n),
            dropPath: addNode.dropPath.slice(0, n),
          };
          const l = costNode(probe, ctx, designs);
          perCount.push({
            energy: l.energyPj,
            area: l.areaUm2,
            latencyNs: delay(l),
            movedElements: elems(probe),
            bufferBits: l.bufferBits,
            staticMw: l.staticMw,
            cellReads: l.cellReads,
            settleNs: l.settleNs,
            lineBuffers: new Map(),
          });
        }
        sums.push(perCount);
      }
      this.nodeSums.push(sums);
    }
    // Everything else (stem, concats, global pooling, classifier) is present in every architecture.
    const rest = net.nodes
      .filter((n) => !taken.has(n.id) && n.kind !== "zeros" && n.scope.part !== "aux")
      .map((n) => n.id);
    Object.assign(this.fixed, part(rest));
    this.stemLatencyNs = part(take("stem").concat(take("input"))).latencyNs;
    this.headLatencyNs = part([...take("global_pooling"), ...take("classifier")]).latencyNs;
  }

  evaluate(config: Configuration): SpaceCost {
    const total = emptyPart();
    addInto(total, this.fixed);
    let s0 = this.stemLatencyNs;
    let s1 = this.stemLatencyNs;
    for (let k = 0; k < this.layers; k++) {
      const type: CellType = this.reductions.includes(k) ? "reduce" : "normal";
      const ops = config[type];
      const [p0, p1] = this.preprocess[k]!;
      addInto(total, p0!);
      addInto(total, p1!);
      const finish = [s0 + p0!.latencyNs, s1 + p1!.latencyNs];
      for (let node = FIRST_NODE; node <= LAST_NODE; node++) {
        let n = 0;
        let start = 0;
        for (const e of CELL_EDGES) {
          if (e.to !== node || ops[e.index] === 0) continue;
          const part = this.ops[k]![e.index]![ops[e.index]!]!;
          addInto(total, part);
          n++;
          start = Math.max(start, finish[e.from]! + part.latencyNs);
        }
        const sum = this.nodeSums[k]![node - FIRST_NODE]![n]!;
        addInto(total, sum);
        finish[node] = n === 0 ? 0 : start + sum.latencyNs;
      }
      s0 = s1;
      s1 = Math.max(finish[2]!, finish[3]!, finish[4]!, finish[5]!);
    }
    settleLineBuffers(total);
    const { tech, config: hwConfig } = this.hw;
    let latencyNs = s1 + this.headLatencyNs;
    if (this.analog) {
      // The same settling as costNetwork: cell reads last one cycle, static power the latency.
      const a = analogTiming(total.settleNs, latencyNs, this.net, hwConfig, tech);
      latencyNs = a.latencyNs;
      addAnalogEnergy(total.energy, total.cellReads, total.staticMw, a.cycleNs, latencyNs, hwConfig, tech);
    }
    addRouting(total.energy, total.area, total.movedElements * this.routedBitsPerValue, tech);
    const h = headline(total.energy, total.area, latencyNs, total.bufferBits, tech);
    return { areaMm2: h.areaMm2, energyUj: h.energyUj, latencyUs: h.latencyUs, powerMw: h.powerMw };
  }
}

function elems(n: IrNode): number {
  return n.shape.c * n.shape.h * n.shape.w;
}

/** Sum of a group's costs and its longest internal path in `delay` (inputs from outside start at 0). */
function partOf(
  net: Network,
  costs: readonly LayerCost[],
  ids: readonly number[],
  delay: (l: LayerCost) => number,
): Part {
  const p = emptyPart();
  const inGroup = new Set(ids);
  const finish = new Map<number, number>();
  for (const id of [...ids].sort((a, b) => a - b)) {
    const l = costs[id]!;
    for (const k of COMPONENT_KINDS) {
      p.energy[k] += l.energyPj[k];
      p.area[k] += l.areaUm2[k];
      p.staticMw[k] += l.staticMw[k];
    }
    const node = net.nodes[id]!;
    if (node.kind !== "zeros") p.movedElements += elems(node);
    p.bufferBits += l.bufferBits;
    p.cellReads += l.cellReads;
    p.settleNs = Math.max(p.settleNs, l.settleNs);
    claimLineBuffer(p, l.lineBuffer);
    let start = 0;
    for (const j of nodeInputs(node)) if (inGroup.has(j)) start = Math.max(start, finish.get(j)!);
    finish.set(id, start + delay(l));
    p.latencyNs = Math.max(p.latencyNs, start + delay(l));
  }
  return p;
}
