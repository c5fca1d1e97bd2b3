/**
 * The 84-bit configuration code: 28 op indices of 3 bits, most significant first
 * (normal edges 0..13, then reduction edges 0..13), written as 21 lower-case hex digits.
 */
import { type Configuration, EDGES_PER_CELL, validateConfiguration } from "./cell.js";
import type { OpIndex } from "./primitives.js";

export const CODE_HEX_DIGITS = 21;
const CODE_RE = /^(0x)?[0-9a-f]{21}$/i;

export function isConfigurationCode(text: string): boolean {
  return CODE_RE.test(text.trim());
}

export function encodeConfiguration(config: Configuration): string {
  validateConfiguration(config);
  let value = 0n;
  for (const op of [...config.normal, ...config.reduce]) value = (value << 3n) | BigInt(op);
  return value.toString(16).padStart(CODE_HEX_DIGITS, "0");
}

export function decodeConfiguration(code: string): Configuration {
  const text = code.trim();
  if (!CODE_RE.test(text)) {
    throw new Error(
      `bad configuration code '${code}': expected ${CODE_HEX_DIGITS} hex digits (84 bits), e.g. 'memhyper space show DARTS_V2' prints one`,
    );
  }
  let value = BigInt(`0x${text.replace(/^0x/i, "")}`);
  const ops: OpIndex[] = new Array(2 * EDGES_PER_CELL);
  for (let i = ops.length - 1; i >= 0; i--) {
    ops[i] = Number(value & 7n) as OpIndex;
    value >>= 3n;
  }
  return { normal: ops.slice(0, EDGES_PER_CELL), reduce: ops.slice(EDGES_PER_CELL) };
}
