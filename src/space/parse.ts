/**
 * Genotype parser for the forms users paste from the DARTS-family repositories:
 * DARTS pairs ('op', input), FairDARTS triples ('op', to_node, from_node), GDAS nested
 * pairs per node, and a JSON form. Every problem gets its own message naming the token.
 */
import { CELL_TYPES, type CellType, FIRST_NODE, LAST_NODE } from "./cell.js";
import type { CellGenotype, Genotype, GenotypeOp, GenotypeStyle } from "./genotype.js";
import { closestOpName, isOpName } from "./primitives.js";
import { type PyValue, parsePyLiteral } from "./pyliteral.js";

export class GenotypeError extends Error {
  override name = "GenotypeError";
}

type Format = GenotypeStyle["format"];

/** A cell entry before validation, uniform across formats. */
interface RawOp {
  readonly op: string;
  readonly from: number;
  readonly to: number;
  readonly where: string;
}

export function parseGenotype(text: string): Genotype {
  const src = text.trim();
  if (src === "")
    throw new GenotypeError("empty genotype: give a catalogue name, a Genotype(...) string or a file");
  return src.startsWith("{") ? parseJsonGenotype(src) : parsePythonGenotype(src);
}

function parsePythonGenotype(src: string): Genotype {
  let value: PyValue;
  try {
    value = parsePyLiteral(src).value;
  } catch (err) {
    throw new GenotypeError(`cannot read genotype: ${(err as Error).message}`);
  }
  if (value.t !== "call" || !/(^|\.)Genotype$/.test(value.name)) {
    throw new GenotypeError(
      "expected Genotype(normal=[...], normal_concat=..., reduce=[...], reduce_concat=...)",
    );
  }
  if (value.args.length > 0) {
    throw new GenotypeError(
      "Genotype(...) takes keyword arguments: normal=, normal_concat=, reduce=, reduce_concat=",
    );
  }
  const allowed = new Set(["normal", "normal_concat", "reduce", "reduce_concat", "connectN", "connects"]);
  for (const key of value.kwargs.keys()) {
    if (!allowed.has(key))
      throw new GenotypeError(`unknown Genotype field '${key}'; expected ${[...allowed].join(", ")}`);
  }
  for (const key of ["connectN", "connects"]) {
    const v = value.kwargs.get(key);
    if (v && v.t !== "none") throw new GenotypeError(`Genotype field '${key}' is only supported as None`);
  }
  const get = (key: string): PyValue => {
    const v = value.kwargs.get(key);
    if (!v) throw new GenotypeError(`Genotype(...) is missing '${key}'`);
    return v;
  };

  const cells = {} as Record<CellType, { ops: RawOp[]; format: Format }>;
  const concats = {} as Record<CellType, { concat: number[]; asRange: boolean }>;
  for (const type of CELL_TYPES) {
    cells[type] = readPyCell(type, get(type));
    concats[type] = readPyConcat(`${type}_concat`, get(`${type}_concat`));
  }
  const format = sameFormat(cells.normal.format, cells.reduce.format);
  return build(
    { normal: cells.normal.ops, reduce: cells.reduce.ops },
    { normal: concats.normal.concat, reduce: concats.reduce.concat },
    {
      format,
      concatAsRange: { normal: concats.normal.asRange, reduce: concats.reduce.asRange },
      gdasExtras: value.kwargs.has("connectN") || value.kwargs.has("connects"),
    },
  );
}

function sameFormat(a: Format, b: Format): Format {
  if (a !== b)
    throw new GenotypeError(`normal cell is written in ${a} form but reduce cell in ${b} form; use one form`);
  return a;
}

function readPyCell(type: CellType, v: PyValue): { ops: RawOp[]; format: Format } {
  if (v.t !== "list" && v.t !== "tuple") throw new GenotypeError(`${type}: expected a list of tuples`);
  if (v.items.length === 0) throw new GenotypeError(`${type}: the cell has no ops`);
  const isNested = v.items.every(
    (it) => (it.t === "tuple" || it.t === "list") && it.items.every((x) => x.t === "tuple" || x.t === "list"),
  );
  if (isNested) {
    // GDAS: one entry per node, each a tuple of ('op', input) pairs.
    const ops: RawOp[] = [];
    v.items.forEach((node, n) => {
      const pairs = (node as { items: readonly PyValue[] }).items;
      pairs.forEach((pair, j) => {
        ops.push(readPyTuple(`${type}[${n}][${j}]`, pair, FIRST_NODE + n, "gdas"));
      });
    });
    return { ops, format: "gdas" };
  }
  const arity = new Set(v.items.map((it) => (it.t === "tuple" || it.t === "list" ? it.items.length : -1)));
  const format: Format = arity.has(3) ? "fair" : "darts";
  const ops = v.items.map((it, i) =>
    readPyTuple(`${type}[${i}]`, it, FIRST_NODE + Math.floor(i / 2), format),
  );
  if (format === "darts" && ops.length !== 8) {
    throw new GenotypeError(
      `${type}: expected 8 ('op', input) tuples (2 per node for 4 nodes), got ${ops.length}`,
    );
  }
  return { ops, format };
}

function readPyTuple(where: string, v: PyValue, impliedTo: number, format: Format): RawOp {
  const items = v.t === "tuple" || v.t === "list" ? v.items : null;
  const expected = format === "fair" ? "('op', to_node, from_node)" : "('op', input)";
  if (!items || items.length !== (format === "fair" ? 3 : 2)) {
    const got = items ? `a ${items.length}-tuple` : "a single value";
    throw new GenotypeError(`${where}: wrong tuple count: expected ${expected}, got ${got}`);
  }
  const [opV, a, b] = items;
  if (opV!.t !== "str") throw new GenotypeError(`${where}: the op name must be a quoted string`);
  const ints = items.slice(1);
  for (const x of ints) {
    if (x.t !== "num") throw new GenotypeError(`${where}: node indices must be integers in ${expected}`);
  }
  const num = (x: PyValue | undefined): number => (x as { v: number }).v;
  return format === "fair"
    ? { op: opV!.v, to: num(a), from: num(b), where }
    : { op: opV!.v, from: num(a), to: impliedTo, where };
}

function readPyConcat(where: string, v: PyValue): { concat: number[]; asRange: boolean } {
  if (v.t === "call" && v.name === "range") {
    const nums = v.args.map((a) => (a.t === "num" ? a.v : Number.NaN));
    if (nums.length !== 2 || nums.some(Number.isNaN))
      throw new GenotypeError(`${where}: bad concat list: range(start, stop) expected`);
    const out: number[] = [];
    for (let i = nums[0]!; i < nums[1]!; i++) out.push(i);
    return { concat: out, asRange: true };
  }
  if ((v.t === "list" || v.t === "tuple") && v.items.every((x) => x.t === "num")) {
    return { concat: v.items.map((x) => (x as { v: number }).v), asRange: false };
  }
  throw new GenotypeError(`${where}: bad concat list: expected [2, 3, 4, 5] or range(2, 6)`);
}

function parseJsonGenotype(src: string): Genotype {
  let obj: unknown;
  try {
    obj = JSON.parse(src);
  } catch (err) {
    throw new GenotypeError(`cannot read JSON genotype: ${(err as Error).message}`);
  }
  const o = obj as Record<string, unknown>;
  const ops = {} as Record<CellType, RawOp[]>;
  const concat = {} as Record<CellType, number[]>;
  for (const type of CELL_TYPES) {
    const list = o[type];
    if (!Array.isArray(list))
      throw new GenotypeError(`JSON genotype is missing '${type}' (a list of [op, input])`);
    ops[type] = list.map((it, i) => {
      const where = `${type}[${i}]`;
      if (!Array.isArray(it) || (it.length !== 2 && it.length !== 3)) {
        throw new GenotypeError(
          `${where}: wrong tuple count: expected [op, input] or [op, to_node, from_node]`,
        );
      }
      if (typeof it[0] !== "string") throw new GenotypeError(`${where}: the op name must be a string`);
      if (!it.slice(1).every(Number.isInteger))
        throw new GenotypeError(`${where}: node indices must be integers`);
      return it.length === 3
        ? { op: it[0], to: it[1], from: it[2], where }
        : { op: it[0], from: it[1], to: FIRST_NODE + Math.floor(i / 2), where };
    });
    const c = o[`${type}_concat`] ?? [2, 3, 4, 5];
    if (!Array.isArray(c) || !c.every(Number.isInteger))
      throw new GenotypeError(`${type}_concat: bad concat list: expected a list of node indices`);
    concat[type] = c;
  }
  return build(ops, concat, {
    format: "json",
    concatAsRange: { normal: false, reduce: false },
    gdasExtras: false,
  });
}

function build(
  raw: Record<CellType, readonly RawOp[]>,
  concat: Record<CellType, readonly number[]>,
  style: GenotypeStyle,
): Genotype {
  const cell = (type: CellType): CellGenotype => ({
    ops: raw[type].map(validateOp),
    concat: validateConcat(`${type}_concat`, concat[type]),
  });
  return { normal: cell("normal"), reduce: cell("reduce"), style };
}

function validateOp(r: RawOp): GenotypeOp {
  if (!isOpName(r.op)) {
    throw new GenotypeError(`${r.where}: unknown op '${r.op}'; did you mean '${closestOpName(r.op)}'?`);
  }
  if (r.op === "none") {
    throw new GenotypeError(
      `${r.where}: op 'none' does not appear in genotypes; use an edge-complete configuration code for empty edges`,
    );
  }
  if (!Number.isInteger(r.to) || r.to < FIRST_NODE || r.to > LAST_NODE) {
    throw new GenotypeError(
      `${r.where}: target node ${r.to} does not exist (intermediate nodes are ${FIRST_NODE}..${LAST_NODE})`,
    );
  }
  if (!Number.isInteger(r.from) || r.from < 0 || r.from >= r.to) {
    throw new GenotypeError(
      `${r.where}: input ${r.from} is out of range for node ${r.to} (valid inputs are 0..${r.to - 1})`,
    );
  }
  return { op: r.op, from: r.from, to: r.to };
}

function validateConcat(where: string, concat: readonly number[]): number[] {
  if (concat.length === 0) throw new GenotypeError(`${where}: bad concat list: it is empty`);
  const seen = new Set<number>();
  for (const n of concat) {
    if (!Number.isInteger(n) || n < FIRST_NODE || n > LAST_NODE) {
      throw new GenotypeError(
        `${where}: bad concat list: node ${n} is not an intermediate node (${FIRST_NODE}..${LAST_NODE})`,
      );
    }
    if (seen.has(n)) throw new GenotypeError(`${where}: bad concat list: node ${n} appears twice`);
    seen.add(n);
  }
  return [...concat];
}
