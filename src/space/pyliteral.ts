/**
 * A small reader for the Python literal syntax genotypes are pasted in:
 * strings, integers, None, identifiers, tuples, lists and calls with keyword arguments
 * (`Genotype(normal=[...], normal_concat=range(2, 6), ...)`).
 */
export type PyValue =
  | { readonly t: "str"; readonly v: string; readonly pos: number }
  | { readonly t: "num"; readonly v: number; readonly pos: number }
  | { readonly t: "none"; readonly pos: number }
  | { readonly t: "ident"; readonly name: string; readonly pos: number }
  | { readonly t: "list" | "tuple"; readonly items: readonly PyValue[]; readonly pos: number }
  | {
      readonly t: "call";
      readonly name: string;
      readonly args: readonly PyValue[];
      readonly kwargs: ReadonlyMap<string, PyValue>;
      readonly pos: number;
    };

interface Token {
  readonly kind: "str" | "num" | "ident" | "punct" | "end";
  readonly text: string;
  readonly pos: number;
}

export class PyLiteralError extends Error {}

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "#") {
      while (i < src.length && src[i] !== "\n") i++;
    } else if (c === "'" || c === '"') {
      const end = src.indexOf(c, i + 1);
      if (end < 0) throw new PyLiteralError(`unterminated string starting at character ${i + 1}`);
      tokens.push({ kind: "str", text: src.slice(i + 1, end), pos: i });
      i = end + 1;
    } else if (/[-0-9]/.test(c)) {
      const m = /^-?[0-9]+/.exec(src.slice(i));
      if (!m) throw new PyLiteralError(`unexpected '${c}' at character ${i + 1}`);
      tokens.push({ kind: "num", text: m[0], pos: i });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(src.slice(i))!;
      tokens.push({ kind: "ident", text: m[0], pos: i });
      i += m[0].length;
    } else if ("()[],=".includes(c)) {
      tokens.push({ kind: "punct", text: c, pos: i });
      i++;
    } else {
      throw new PyLiteralError(`unexpected character '${c}' at character ${i + 1}`);
    }
  }
  tokens.push({ kind: "end", text: "end of input", pos: src.length });
  return tokens;
}

/** Parses one literal (optionally preceded by `NAME =`), and nothing after it. */
export function parsePyLiteral(src: string): { value: PyValue; assignedName: string | null } {
  const tokens = tokenize(src);
  let k = 0;
  const peek = (): Token => tokens[k]!;
  const next = (): Token => tokens[k++]!;
  const describe = (t: Token): string =>
    t.kind === "end" ? "the end of the input" : `'${t.text}' at character ${t.pos + 1}`;
  const expect = (text: string): void => {
    const t = next();
    if (t.kind !== "punct" || t.text !== text)
      throw new PyLiteralError(`expected '${text}' but found ${describe(t)}`);
  };

  const parseSequence = (
    close: string,
  ): { items: PyValue[]; kwargs: Map<string, PyValue>; trailingComma: boolean } => {
    const items: PyValue[] = [];
    const kwargs = new Map<string, PyValue>();
    let trailingComma = false;
    while (!(peek().kind === "punct" && peek().text === close)) {
      const t = peek();
      if (t.kind === "ident" && tokens[k + 1]?.text === "=" && close === ")") {
        k += 2;
        if (kwargs.has(t.text)) throw new PyLiteralError(`keyword '${t.text}' given twice`);
        kwargs.set(t.text, parseValue());
      } else {
        if (kwargs.size > 0)
          throw new PyLiteralError(`positional value after keywords at character ${t.pos + 1}`);
        items.push(parseValue());
      }
      trailingComma = false;
      if (peek().kind === "punct" && peek().text === ",") {
        next();
        trailingComma = true;
      } else if (!(peek().kind === "punct" && peek().text === close)) {
        throw new PyLiteralError(`expected ',' or '${close}' but found ${describe(peek())}`);
      }
    }
    expect(close);
    return { items, kwargs, trailingComma };
  };

  const parseValue = (): PyValue => {
    const t = next();
    if (t.kind === "str") return { t: "str", v: t.text, pos: t.pos };
    if (t.kind === "num") return { t: "num", v: Number(t.text), pos: t.pos };
    if (t.kind === "ident") {
      if (t.text === "None") return { t: "none", pos: t.pos };
      if (peek().kind === "punct" && peek().text === "(") {
        next();
        const { items, kwargs } = parseSequence(")");
        return { t: "call", name: t.text, args: items, kwargs, pos: t.pos };
      }
      return { t: "ident", name: t.text, pos: t.pos };
    }
    if (t.kind === "punct" && t.text === "[")
      return { t: "list", items: parseSequence("]").items, pos: t.pos };
    if (t.kind === "punct" && t.text === "(") {
      const { items, kwargs, trailingComma } = parseSequence(")");
      if (kwargs.size > 0)
        throw new PyLiteralError(`keyword arguments inside a tuple at character ${t.pos + 1}`);
      // (x) is just x in Python; (x,) is a 1-tuple.
      if (items.length === 1 && !trailingComma) return items[0]!;
      return { t: "tuple", items, pos: t.pos };
    }
    throw new PyLiteralError(`unexpected ${describe(t)}`);
  };

  let assignedName: string | null = null;
  if (peek().kind === "ident" && tokens[k + 1]?.text === "=") {
    assignedName = next().text;
    next();
  }
  const value = parseValue();
  if (peek().kind !== "end") throw new PyLiteralError(`unexpected ${describe(peek())} after the genotype`);
  return { value, assignedName };
}
