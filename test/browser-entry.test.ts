/**
 * The browser-safe library entry: nothing it imports (statically, transitively) needs Node,
 * and shipped files handed over by a page take the place of the package's folders.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), "../src");
/** Packages a browser bundle may contain. */
const BROWSER_PACKAGES = new Set(["zod"]);

/** Value imports and re-exports of a module (type-only ones vanish at compile time). */
function valueImports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const specs: string[] = [];
  for (const m of text.matchAll(/^(import|export)\s+(type\s+)?([^;]*?)\s+from\s+"([^"]+)";/gms))
    if (!m[2]) specs.push(m[4]!);
  for (const m of text.matchAll(/^import\s+"([^"]+)";/gm)) specs.push(m[1]!);
  for (const m of text.matchAll(/\bimport\(\s*"([^"]+)"\s*\)/g)) specs.push(m[1]!);
  return specs;
}

test("the browser entry imports no Node module and no package but zod, transitively", () => {
  const seen = new Set<string>();
  const foreign: string[] = [];
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const spec of valueImports(file)) {
      if (spec.startsWith(".")) visit(join(dirname(file), spec.replace(/\.js$/, ".ts")));
      else if (!BROWSER_PACKAGES.has(spec))
        foreign.push(`${spec} (imported by ${file.slice(SRC.length + 1)})`);
    }
  };
  visit(join(SRC, "browser.ts"));
  assert.deepEqual(foreign, []);
  // It does reach the cost model, the hypernetwork compiler and the space (the walk is not vacuous).
  for (const m of ["hw/cost.ts", "hyper/compiler.ts", "hyper/cost.ts", "space/code.ts", "ir/network.ts"])
    assert.ok(seen.has(join(SRC, m)), m);
});

test("the walk sees through a module that does import Node (negative control)", () => {
  assert.ok(valueImports(join(SRC, "explore/server.ts")).includes("node:fs"));
  assert.ok(!valueImports(join(SRC, "hw/cost.ts")).some((s) => s.startsWith("node:")));
  // A type-only import is not a value import.
  assert.ok(!valueImports(join(SRC, "util/files.ts")).includes("node:fs"));
});

test("shipped files handed over by a page replace the package's (presets and technology)", async () => {
  const { provideShippedFiles } = await import("../src/util/files.js");
  const { loadPreset } = await import("../src/hw/config.js");
  const { loadTech } = await import("../src/hw/tech.js");
  const onDisk = loadPreset("default");
  const preset = JSON.parse(readFileSync(join(SRC, "../presets/default.json"), "utf8"));
  const tech = JSON.parse(readFileSync(join(SRC, "../tech/mnsim-130nm.json"), "utf8"));
  provideShippedFiles({
    "presets/default.json": { ...preset, description: "handed over" },
    "tech/mnsim-130nm.json": { ...tech, description: "handed over" },
  });
  assert.equal(loadPreset("default").description, "handed over");
  assert.notEqual(onDisk.description, "handed over");
  assert.equal(loadTech("mnsim-130nm").file.description, "handed over");
});
