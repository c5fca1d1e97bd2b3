/** Output helpers: one JSON object with --json, readable tables otherwise. */
import Table from "cli-table3";

export class UsageError extends Error {
  override name = "UsageError";
}

export interface Out {
  readonly json: boolean;
  /** Prints the JSON object (with --json) or calls `human` to print tables. */
  result(obj: unknown, human: () => void): void;
  line(text?: string): void;
}

export function makeOut(json: boolean): Out {
  return {
    json,
    result(obj, human) {
      if (json) process.stdout.write(`${JSON.stringify(obj, bigintReplacer)}\n`);
      else human();
    },
    line(text = "") {
      if (!json) process.stdout.write(`${text}\n`);
    },
  };
}

function bigintReplacer(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}

export function table(head: string[], rows: (string | number)[][]): string {
  const t = new Table({
    head,
    style: { head: [], border: [] },
    chars: { mid: "", "left-mid": "", "mid-mid": "", "right-mid": "" },
  });
  for (const r of rows) t.push(r.map(String));
  return t.toString();
}

export function fmtInt(n: number | bigint): string {
  return n.toLocaleString("en-US");
}

export function parseIntOption(
  name: string,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (!/^-?\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new UsageError(
        `--${name} must be an integer from ${min} to ${max === Number.MAX_SAFE_INTEGER ? "∞" : max}, got '${v}'`,
      );
    }
    return n;
  };
}
