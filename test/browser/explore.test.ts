/// <reference lib="dom" />
/**
 * memhyper explore in a real browser (Debian's chromium driven by playwright-core): the page
 * served by `memhyper explore` from the built package, DARTS_V2 built by clicking edges, its
 * code and costs against the CLI's JSON (full precision, from data- attributes), the code
 * field, errors, the genotype view's rule, keyboard use, results, and an axe-core check.
 * It also reports (does not assert) the explorer's speed and bundle size.
 * Screenshots go to artifacts/browser/ (git-ignored).
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { type Browser, chromium, type Locator, type Page } from "playwright-core";
import { resolveArchitecture } from "../../src/space/architecture.js";
import { CELL_EDGES, CELL_TYPES } from "../../src/space/cell.js";
import { PRIMITIVES } from "../../src/space/primitives.js";
import { runCli } from "../helpers.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const CHROMIUM = process.env.MEMHYPER_CHROMIUM ?? "/usr/bin/chromium";
const ARTIFACTS = join(ROOT, "artifacts", "browser");
const WEB = join(ROOT, "dist", "web");

const missing = !existsSync(CHROMIUM)
  ? `no browser at ${CHROMIUM} (apt-get install chromium, or set MEMHYPER_CHROMIUM)`
  : !existsSync(join(WEB, "index.html"))
    ? "the page is not built (npm run build)"
    : null;
if (missing && process.env.CI === "1") throw new Error(`browser suite: ${missing}`);
const suite = { skip: missing ?? false, timeout: 60_000 };

let server: ChildProcess;
let url = "";
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

function cliJson(...args: string[]): Record<string, unknown> {
  const r = runCli(...args, "--json");
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

before(async () => {
  if (missing) return;
  mkdirSync(ARTIFACTS, { recursive: true });
  const results = mkdtempSync(join(tmpdir(), "memhyper-results-"));
  const evalRun = runCli(
    "eval",
    "--genotype",
    "DARTS_V1",
    "--weights",
    "models/darts_v1-c16-l8.safetensors",
    "--limit",
    "10",
    "--json",
  );
  assert.equal(evalRun.code, 0, evalRun.stderr);
  writeFileSync(join(results, "darts_v1-fp32.json"), evalRun.stdout);
  const sweep = runCli("hyper", "sweep", "--samples", "20", "--seed", "1", "--json");
  assert.equal(sweep.code, 0, sweep.stderr);
  writeFileSync(join(results, "hyper-sweep.json"), sweep.stdout);
  writeFileSync(join(results, "truncated.json"), sweep.stdout.slice(0, 100));
  // A real `memhyper search --json` output (a minute to compute, so kept as a fixture: the
  // supernet checkpoint of commit 6b7fbab, --budget 6 --population 4 --score-images 50 --recalibrate 50).
  copyFileSync(join(ROOT, "test/fixtures/search-supernet-epoch4.json"), join(results, "search.json"));

  server = spawn(process.execPath, ["bin/memhyper.js", "explore", "--port", "0", "--results", results], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "inherit"],
  });
  url = await new Promise<string>((done, fail) => {
    let out = "";
    server.stdout!.on("data", (b: Buffer) => {
      out += b.toString();
      const m = /open (http\S+)/.exec(out);
      if (m) done(m[1]!);
    });
    server.once("exit", (code) => fail(new Error(`memhyper explore exited with ${code}: ${out}`)));
  });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  page.on("pageerror", (e) => pageErrors.push(e.message));
  await page.goto(url);
  await page.waitForSelector("body[data-ready=true]");
});

after(async () => {
  await browser?.close();
  server?.kill("SIGINT");
});

const attr = async (selector: string, name: string): Promise<string> => {
  const v = await page.locator(selector).first().getAttribute(name);
  assert.notEqual(v, null, `${selector}[${name}]`);
  return v!;
};
const text = async (l: Locator): Promise<string> => (await l.textContent()) ?? "";
const codeField = () => page.getByLabel("84-bit configuration code");

test(
  "DARTS_V2 built by clicking edges has the CLI's code, and the page's costs are the CLI's",
  suite,
  async () => {
    await page.getByRole("button", { name: "clear all edges" }).click();
    assert.equal(await codeField().inputValue(), "0".repeat(21));
    const darts = resolveArchitecture("DARTS_V2").configuration!;
    for (const type of CELL_TYPES)
      for (const e of CELL_EDGES) {
        const op = darts[type][e.index]!;
        if (op === 0) continue;
        await page.locator(`figure[data-cell=${type}] g[data-edge="${e.index}"]`).click();
        await page.locator(`button[data-choose=${PRIMITIVES[op]}]`).click();
      }
    const shown = cliJson("space", "show", "DARTS_V2");
    assert.equal(await codeField().inputValue(), shown.code);
    // The switch map and the arrays agree with the CLI.
    const config = cliJson("hyper", "config", "DARTS_V2");
    const slots = config.slots as { slot: string; unit: string | null }[];
    assert.equal(
      Number(await attr("[data-powered]", "data-powered")),
      slots.filter((s) => s.unit !== null).length,
    );
    for (const s of [slots[0]!, slots[13]!, slots[111]!])
      assert.equal(await attr(`td[data-slot="${s.slot}"]`, "data-unit"), s.unit ?? "off", s.slot);
    assert.equal(
      Number(await attr(".arraymap", "data-arrays")),
      cliJson("hw", "report", "--genotype", "DARTS_V2").arrays,
    );
    await page.screenshot({ path: join(ARTIFACTS, "darts_v2.png"), fullPage: true });

    for (const preset of ["default", "analog-chain"]) {
      await page.getByLabel("hardware preset").selectOption(preset);
      const cmp = cliJson("hyper", "compare", "--arch", String(shown.code), "--preset", preset);
      const row = (cmp.rows as Record<string, Record<string, number>>[])[0]!;
      const report = cliJson("hw", "report", "--genotype", String(shown.code), "--preset", preset);
      for (const m of ["areaMm2", "energyUj", "latencyUs", "powerMw", "throughputImgPerSec"]) {
        const sel = `tr[data-metric=${m}]`;
        assert.equal(Number(await attr(sel, "data-individual")), report[m], `${preset} individual ${m}`);
        assert.equal(
          Number(await attr(sel, "data-individual")),
          row.individual![m],
          `${preset} compare ${m}`,
        );
        assert.equal(Number(await attr(sel, "data-hyper")), row.hyper![m], `${preset} hyper ${m}`);
      }
      const breakdown = (report.breakdown as Record<string, Record<string, number>>).areaMm2ByComponent!;
      for (const [k, v] of Object.entries(breakdown))
        if (v > 0)
          assert.equal(
            Number(await attr(`[data-breakdown=area-component] dd[data-part=${k}]`, "data-individual")),
            v,
            k,
          );
    }
    await page.getByLabel("hardware preset").selectOption("default");
  },
);

test(
  "every preset at once: a row per hardware preset, both platforms, the same ratios as the preset's own view",
  suite,
  async () => {
    await page.getByLabel("catalogue").selectOption("PDARTS");
    await page.getByRole("button", { name: "compare on every preset" }).click();
    const rows = page.locator("table[aria-label='the configuration on every preset'] tbody tr");
    const presets = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-preset")));
    assert.deepEqual(presets, ["default", "int8", "rram", "rram-robust", "pcm", "analog-chain"]);
    for (const preset of ["default", "analog-chain"]) {
      await page.getByLabel("hardware preset").selectOption(preset);
      for (const m of ["areaMm2", "latencyUs", "throughputImgPerSec"])
        assert.equal(
          await attr(`tr[data-preset="${preset}"] td[data-metric=${m}]`, "data-ratio"),
          await attr(`table.cost tr[data-metric=${m}]`, "data-ratio"),
          `${preset} ${m}`,
        );
    }
    await page.getByLabel("hardware preset").selectOption("default");
  },
);

test("a code typed into the field redraws both cells", suite, async () => {
  const pdarts = resolveArchitecture("PDARTS");
  await codeField().fill(pdarts.code!);
  for (const type of CELL_TYPES)
    for (const e of CELL_EDGES)
      assert.equal(
        await attr(`figure[data-cell=${type}] g[data-edge="${e.index}"]`, "data-op"),
        PRIMITIVES[pdarts.configuration![type][e.index]!],
        `${type} edge ${e.index}`,
      );
  assert.equal(await page.getByLabel("catalogue").inputValue(), "PDARTS");
});

test("a malformed code is an inline error, and the page keeps working", suite, async () => {
  const before = await attr("tr[data-metric=areaMm2]", "data-individual");
  await codeField().fill("12345xyz");
  assert.match(await text(page.getByTestId("code-error")), /bad configuration code.*21 hex digits/);
  assert.equal(await codeField().getAttribute("aria-invalid"), "true");
  assert.equal(await attr("tr[data-metric=areaMm2]", "data-individual"), before);
  await page.screenshot({ path: join(ARTIFACTS, "malformed-code.png") });
  await page.getByLabel("catalogue").selectOption("DARTS_V1");
  assert.equal(await text(page.getByTestId("code-error")), "");
  assert.deepEqual(pageErrors, []);
});

test(
  "the genotype view refuses a third input to a node; off, the edge-complete view takes it",
  suite,
  async () => {
    await page.getByLabel("catalogue").selectOption("DARTS_V2");
    const code = await codeField().inputValue();
    const darts = resolveArchitecture("DARTS_V2").configuration!;
    // Node 2 of DARTS_V2's normal cell has two inputs; edge 0→3 is free, 2→3 too: find a free edge into a full node.
    const full = CELL_EDGES.find(
      (e) =>
        darts.normal[e.index] === 0 &&
        CELL_EDGES.filter((f) => f.to === e.to && darts.normal[f.index] !== 0).length === 2,
    )!;
    await page.getByLabel("genotype view: two inputs per node").check();
    await page.locator(`figure[data-cell=normal] g[data-edge="${full.index}"]`).click();
    await page.locator("button[data-choose=skip_connect]").click();
    assert.match(
      await text(page.getByTestId("refusal")),
      new RegExp(`node ${full.to} .* already has two inputs`),
    );
    assert.equal(await codeField().inputValue(), code);
    await page.getByLabel("genotype view: two inputs per node").uncheck();
    await page.locator("button[data-choose=skip_connect]").click();
    assert.notEqual(await codeField().inputValue(), code);
    assert.equal(
      await attr(`figure[data-cell=normal] g[data-edge="${full.index}"]`, "data-op"),
      "skip_connect",
    );
  },
);

test("the editor works from the keyboard", suite, async () => {
  await page.getByLabel("catalogue").selectOption("DARTS_V1");
  const edge = page.locator('figure[data-cell=reduce] g[data-edge="13"]');
  await edge.focus();
  await page.keyboard.press("Enter");
  assert.equal(await edge.getAttribute("aria-pressed"), "true");
  await page.locator("button[data-choose=sep_conv_5x5]").focus();
  await page.keyboard.press("Enter");
  assert.equal(await edge.getAttribute("data-op"), "sep_conv_5x5");
});

test(
  "results: accuracy table, sweep distribution, broken files named; an architecture opens in the editor",
  suite,
  async () => {
    const row = page.locator("tr[data-result='darts_v1-fp32.json']");
    await row.waitFor();
    assert.ok(Number(await row.locator("[data-accuracy]").getAttribute("data-accuracy")) > 0);
    assert.match(await text(page.locator("table[aria-label='distribution: hyper-sweep.json']")), /areaRatio/);
    assert.match(await text(page.locator(".results-view")), /truncated\.json: not valid JSON/);
    await page.getByLabel("catalogue").selectOption("PDARTS");
    await row.getByRole("button", { name: "DARTS_V1" }).click();
    assert.equal(await codeField().inputValue(), resolveArchitecture("DARTS_V1").code);
  },
);

test("a search's Pareto front: every point plotted, a click opens its architecture", suite, async () => {
  const search = JSON.parse(readFileSync(join(ROOT, "test/fixtures/search-supernet-epoch4.json"), "utf8"));
  const points = page.locator(".pareto circle[data-code]");
  assert.equal(await points.count(), search.front.length + search.references.length);
  const target = search.front[0].code as string;
  await page.getByLabel("catalogue").selectOption("DARTS_V2");
  await page.locator(`.pareto circle[data-code="${target}"]`).first().click();
  assert.equal(await codeField().inputValue(), target);
});

test("axe-core finds no serious or critical accessibility violation", suite, async () => {
  await page.addScriptTag({ path: join(ROOT, "node_modules/axe-core/axe.min.js") });
  const violations = (await page.evaluate(async () => {
    const r = await (
      window as unknown as { axe: { run: () => Promise<{ violations: unknown[] }> } }
    ).axe.run();
    return r.violations;
  })) as { id: string; impact: string; nodes: unknown[] }[];
  const serious = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(
    serious.map((v) => `${v.id} (${v.impact}, ${v.nodes.length} elements)`),
    [],
  );
});

test("speed and size (reported, not asserted)", suite, async () => {
  // Interactive: from navigation to the first render with costs, on a fresh page.
  const fresh = await browser.newPage();
  await fresh.goto(url);
  await fresh.waitForSelector("body[data-ready=true]");
  const interactiveMs = Number(await fresh.locator("body").getAttribute("data-ready-ms"));
  // A click's cost update: from the op button's click to the new hypernetwork energy in the DOM.
  const clicks: number[] = [];
  await fresh.getByLabel("catalogue").selectOption("DARTS_V2");
  await fresh.locator('figure[data-cell=normal] g[data-edge="13"]').click();
  // The first round compiles the cost paths of each op kind (cold); later rounds run them warm.
  const ops = [
    "sep_conv_5x5",
    "max_pool_3x3",
    "dil_conv_3x3",
    "avg_pool_3x3",
    "sep_conv_3x3",
    "skip_connect",
  ];
  for (const op of [...ops, ...ops, ...ops]) {
    clicks.push(
      await fresh.evaluate(async (choice) => {
        const before = document.querySelector("tr[data-metric=energyUj]")!.getAttribute("data-hyper");
        const t0 = performance.now();
        (document.querySelector(`button[data-choose=${choice}]`) as HTMLButtonElement).click();
        for (;;) {
          if (document.querySelector("tr[data-metric=energyUj]")!.getAttribute("data-hyper") !== before)
            return performance.now() - t0;
          await new Promise((r) => setTimeout(r, 0));
        }
      }, op),
    );
  }
  await fresh.close();
  const assets = join(WEB, "assets");
  const gzBytes = readdirSync(assets).reduce((s, f) => s + gzipSync(readFileSync(join(assets, f))).length, 0);
  const median = (v: number[]): number => [...v].sort((p, q) => p - q)[Math.floor(v.length / 2)]!;
  const cold = clicks.slice(0, ops.length);
  const warm = clicks.slice(ops.length);
  const report = {
    interactiveMs,
    clickUpdateMs: {
      coldMedian: median(cold),
      warmMedian: median(warm),
      warmMax: Math.max(...warm),
      all: clicks,
    },
    bundleGzipBytes: gzBytes,
    targets: { interactiveMs: 500, clickUpdateMs: 16, bundleGzipBytes: 1_000_000 },
  };
  writeFileSync(join(ARTIFACTS, "speed.json"), `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`# explorer speed: ${JSON.stringify(report)}\n`);
  assert.ok(gzBytes > 0);
});
