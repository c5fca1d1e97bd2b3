/** Appends IR nodes and their reference-named parameters; knows shapes, not networks. */
import type { IrNode, ParamSpec, Scope, Shape } from "./graph.js";

type NodeInit<K extends IrNode["kind"]> = Omit<
  Extract<IrNode, { kind: K }>,
  "id" | "shape" | "scope" | "kind"
>;

export class IrBuilder {
  readonly nodes: IrNode[] = [];
  readonly params: ParamSpec[] = [];

  shape(id: number): Shape {
    return this.nodes[id]!.shape;
  }

  private push<K extends IrNode["kind"]>(kind: K, scope: Scope, shape: Shape, init: NodeInit<K>): number {
    if (shape.h < 1 || shape.w < 1) {
      throw new Error(
        `${scope.path}: the feature map shrinks to ${shape.h}×${shape.w}; use larger images or fewer reductions`,
      );
    }
    const id = this.nodes.length;
    this.nodes.push({ id, kind, shape, scope, ...init } as unknown as IrNode);
    return id;
  }

  private param(name: string, shape: number[], role: ParamSpec["role"], node: number): void {
    this.params.push({ name, shape, role, node });
  }

  input(shape: Shape): number {
    return this.push("input", { path: "input", part: "stem" }, shape, {});
  }

  conv(
    input: number,
    scope: Scope,
    param: string,
    o: {
      outC: number;
      k: number;
      stride?: number;
      pad?: number;
      dilation?: number;
      groups?: number;
      taps?: readonly number[];
      bias?: boolean;
    },
  ): number {
    const s = this.shape(input);
    const stride = o.stride ?? 1;
    const pad = o.pad ?? 0;
    const dilation = o.dilation ?? 1;
    const groups = o.groups ?? 1;
    const span = dilation * (o.k - 1) + 1;
    const h = Math.floor((s.h + 2 * pad - span) / stride) + 1;
    const w = Math.floor((s.w + 2 * pad - span) / stride) + 1;
    if (s.c % groups !== 0 || o.outC % groups !== 0)
      throw new Error(`${param}: channels not divisible by groups`);
    const id = this.push(
      "conv",
      scope,
      { c: o.outC, h, w },
      {
        input,
        param,
        inC: s.c,
        outC: o.outC,
        k: o.k,
        stride,
        pad,
        dilation,
        groups,
        ...(o.taps ? { taps: o.taps } : {}),
        ...(o.bias ? { bias: true as const } : {}),
      },
    );
    this.param(`${param}.weight`, [o.outC, s.c / groups, o.k, o.k], "weight", id);
    if (o.bias) this.param(`${param}.bias`, [o.outC], "bias", id);
    return id;
  }

  bn(input: number, scope: Scope, param: string): number {
    const s = this.shape(input);
    const id = this.push("bn", scope, s, { input, param });
    this.param(`${param}.weight`, [s.c], "bn_weight", id);
    this.param(`${param}.bias`, [s.c], "bn_bias", id);
    this.param(`${param}.running_mean`, [s.c], "running_mean", id);
    this.param(`${param}.running_var`, [s.c], "running_var", id);
    this.param(`${param}.num_batches_tracked`, [], "num_batches_tracked", id);
    return id;
  }

  relu(input: number, scope: Scope): number {
    return this.push("relu", scope, this.shape(input), { input });
  }

  pool(
    kind: "maxpool" | "avgpool",
    input: number,
    scope: Scope,
    k: number,
    stride: number,
    pad: number,
  ): number {
    const s = this.shape(input);
    const h = Math.floor((s.h + 2 * pad - k) / stride) + 1;
    const w = Math.floor((s.w + 2 * pad - k) / stride) + 1;
    return this.push(kind, scope, { c: s.c, h, w }, { input, k, stride, pad });
  }

  shift(input: number, scope: Scope): number {
    const s = this.shape(input);
    return this.push("shift", scope, { c: s.c, h: s.h - 1, w: s.w - 1 }, { input });
  }

  route(input: number, scope: Scope, stages: number, switches: number): number {
    return this.push("route", scope, this.shape(input), { input, stages, switches });
  }

  concat(inputs: number[], scope: Scope): number {
    const shapes = inputs.map((i) => this.shape(i));
    const { h, w } = shapes[0]!;
    if (shapes.some((s) => s.h !== h || s.w !== w))
      throw new Error(`${scope.path}: concat of mismatched spatial sizes`);
    return this.push("concat", scope, { c: shapes.reduce((a, s) => a + s.c, 0), h, w }, { inputs });
  }

  add(inputs: number[], dropPath: boolean[], scope: Scope): number {
    const s = this.shape(inputs[0]!);
    for (const i of inputs) {
      const t = this.shape(i);
      if (t.c !== s.c || t.h !== s.h || t.w !== s.w)
        throw new Error(`${scope.path}: adding mismatched shapes`);
    }
    return this.push("add", scope, s, { inputs, dropPath });
  }

  zeros(shape: Shape, scope: Scope): number {
    return this.push("zeros", scope, shape, {});
  }

  globalPool(input: number, scope: Scope): number {
    return this.push("gap", scope, { c: this.shape(input).c, h: 1, w: 1 }, { input });
  }

  linear(input: number, scope: Scope, param: string, outF: number, bias = true): number {
    const inF = this.shape(input).c * this.shape(input).h * this.shape(input).w;
    const id = this.push("linear", scope, { c: outF, h: 1, w: 1 }, { input, param, inF, outF, bias });
    this.param(`${param}.weight`, [outF, inF], "weight", id);
    if (bias) this.param(`${param}.bias`, [outF], "bias", id);
    return id;
  }
}
