/** A float32 tensor (NCHW for images) with an optional gradient. */
export class Tensor {
  grad: Float32Array | null = null;

  constructor(
    readonly shape: readonly number[],
    readonly data: Float32Array,
    public requiresGrad = false,
  ) {
    const n = shape.reduce((a, b) => a * b, 1);
    if (n !== data.length)
      throw new Error(`tensor data has ${data.length} values, shape ${JSON.stringify(shape)} needs ${n}`);
  }

  static zeros(shape: readonly number[], requiresGrad = false): Tensor {
    return new Tensor(shape, new Float32Array(shape.reduce((a, b) => a * b, 1)), requiresGrad);
  }

  get size(): number {
    return this.data.length;
  }
}
