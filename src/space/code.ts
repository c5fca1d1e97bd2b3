/**
 * The configuration code: 28 op indices (normal edges 0..13, then reduction edges 0..13), most
 * significant first, of ⌈log2 ops⌉ bits each, written as lower-case hex digits. The DARTS
 * space's 8 ops make 3 bits an edge: 84 bits, 21 hex digits; 9 to 16 ops make 4 bits, 28 digits.
 */
import { type Configuration, EDGES_PER_CELL, validateConfiguration } from "./cell.js";
import { numOps, type OpIndex } from "./primitives.js";

const EDGES = 2 * EDGES_PER_CELL;

/** Bits of one edge's op index. */
export function bitsPerEdge(): number {
  return Math.max(1, Math.ceil(Math.log2(numOps())));
}

/** Bits of a whole code (84 for the DARTS space). */
export function codeBits(): number {
  return EDGES * bitsPerEdge();
}

/** Hex digits of a code (21 for the DARTS space). */
export function codeHexDigits(): number {
  return Math.ceil(codeBits() / 4);
}

const HEX = /^(0x)?([0-9a-f]+)$/i;

export function isConfigurationCode(text: string): boolean {
  return HEX.exec(text.trim())?.[2]?.length === codeHexDigits();
}

export function encodeConfiguration(config: Configuration): string {
  validateConfiguration(config);
  const bits = BigInt(bitsPerEdge());
  let value = 0n;
  for (const op of [...config.normal, ...config.reduce]) value = (value << bits) | BigInt(op);
  return value.toString(16).padStart(codeHexDigits(), "0");
}

export function decodeConfiguration(code: string): Configuration {
  const text = code.trim();
  if (!isConfigurationCode(text)) {
    throw new Error(
      `bad configuration code '${code}': expected ${codeHexDigits()} hex digits (${codeBits()} bits), e.g. 'memhyper space show DARTS_V2' prints one`,
    );
  }
  const bits = BigInt(bitsPerEdge());
  const mask = (1n << bits) - 1n;
  let value = BigInt(`0x${text.replace(/^0x/i, "")}`);
  const ops: OpIndex[] = new Array(EDGES);
  for (let i = ops.length - 1; i >= 0; i--) {
    ops[i] = Number(value & mask);
    value >>= bits;
  }
  const config = { normal: ops.slice(0, EDGES_PER_CELL), reduce: ops.slice(EDGES_PER_CELL) };
  validateConfiguration(config);
  return config;
}
