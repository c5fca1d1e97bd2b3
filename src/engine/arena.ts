/**
 * Activation memory reused across steps. A training step allocates the same sequence of
 * buffer sizes every time; taking them from an arena and handing them all back after the
 * optimiser step removes allocation, zero-filling and page faults from the hot loop.
 * Gradients come back early (`release`), as soon as the backward pass has consumed them,
 * so the next gradient of that size reuses a buffer still warm in cache and the step holds
 * only the gradients alive at once, not all of them.
 * Buffers from `alloc` are NOT zeroed when an arena is active: every op writes its
 * whole output.
 */
export class Arena {
  private readonly free = new Map<number, Float32Array[]>();
  private readonly used = new Set<Float32Array>();

  take(size: number): Float32Array {
    const buf = this.free.get(size)?.pop() ?? new Float32Array(size);
    this.used.add(buf);
    return buf;
  }

  /** Hands one buffer back before the reset; a buffer the arena did not give is ignored. */
  release(buf: Float32Array): void {
    if (this.used.delete(buf)) this.putFree(buf);
  }

  /** Returns every buffer taken since the last reset; tensors holding them must no longer be read. */
  reset(): void {
    for (const buf of this.used) this.putFree(buf);
    this.used.clear();
  }

  private putFree(buf: Float32Array): void {
    const list = this.free.get(buf.length);
    if (list) list.push(buf);
    else this.free.set(buf.length, [buf]);
  }

  /** Bytes held, in use or free. */
  bytes(): number {
    let n = 0;
    for (const b of this.used) n += b.byteLength;
    for (const list of this.free.values()) n += list.reduce((a, b) => a + b.byteLength, 0);
    return n;
  }
}

/**
 * Buffers recycled one by one: inference hands each activation back as soon as its last
 * reader ran, so memory stays at the network's widest point, not its total.
 */
export class BufferPool {
  private readonly free = new Map<number, Float32Array[]>();
  // Weak, so that a buffer taken and never given back is still collected.
  private readonly lent = new WeakSet<Float32Array>();

  take(size: number): Float32Array {
    const buf = this.free.get(size)?.pop() ?? new Float32Array(size);
    this.lent.add(buf);
    return buf;
  }

  /**
   * Hands a buffer back. One the pool did not lend (an op's own array, an executor's
   * output) or already has back is ignored: the pool neither grows per call nor holds a
   * buffer twice.
   */
  give(buf: Float32Array): void {
    if (!this.lent.delete(buf)) return;
    const list = this.free.get(buf.length);
    if (list) list.push(buf);
    else this.free.set(buf.length, [buf]);
  }
}

interface Allocator {
  take(size: number): Float32Array;
  release?(buf: Float32Array): void;
}

let current: Allocator | null = null;

/** Runs fn with `arena` (or a pool) serving activation-sized allocations. */
export function withArena<T>(arena: Allocator, fn: () => T): T {
  const prev = current;
  current = arena;
  try {
    return fn();
  } finally {
    current = prev;
  }
}

/** An activation-sized buffer: from the active arena (contents undefined) or fresh (zeroed). */
export function alloc(size: number): Float32Array {
  return current ? current.take(size) : new Float32Array(size);
}

/** Hands a buffer from `alloc` back to the active arena early: nothing may read it afterwards. */
export function release(buf: Float32Array): void {
  current?.release?.(buf);
}
