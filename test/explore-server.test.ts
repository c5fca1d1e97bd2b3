/** memhyper explore's server: the page, the read-only results API, and its errors. */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ExploreError, exploreApp, readResults, startExplore } from "../src/explore/server.js";

function fixture(): { web: string; results: string } {
  const root = mkdtempSync(join(tmpdir(), "memhyper-explore-"));
  const web = join(root, "web");
  const results = join(root, "results");
  mkdirSync(web);
  mkdirSync(join(results, "sweeps"), { recursive: true });
  writeFileSync(join(web, "index.html"), '<div id="app"></div>');
  writeFileSync(join(results, "eval.json"), JSON.stringify({ accuracy: 0.9, perTrial: [0.9] }));
  writeFileSync(
    join(results, "sweeps", "hyper.json"),
    JSON.stringify({ metrics: { areaRatio: { min: 1 } } }),
  );
  writeFileSync(join(results, "broken.json"), "{ not json");
  writeFileSync(join(results, "notes.txt"), "not a result");
  return { web, results };
}

test("results: every JSON file (sorted, one level of folders), broken ones with their reason, nothing else", () => {
  const { results } = fixture();
  const r = readResults(results);
  assert.deepEqual(
    r.map((f) => f.name),
    ["broken.json", "eval.json", "sweeps/hyper.json"],
  );
  assert.match(r[0]!.error!, /not valid JSON/);
  assert.deepEqual(r[1]!.data, { accuracy: 0.9, perTrial: [0.9] });
});

test("the API serves the page and the results, read-only", async () => {
  const { web, results } = fixture();
  const app = exploreApp({ webDir: web, resultsDir: results });
  const page = await app.inject({ method: "GET", url: "/" });
  assert.equal(page.statusCode, 200);
  assert.match(page.body, /id="app"/);
  const api = await app.inject({ method: "GET", url: "/api/results" });
  assert.equal(api.statusCode, 200);
  assert.equal(api.json().files.length, 3);
  for (const method of ["POST", "PUT", "DELETE"] as const)
    assert.equal((await app.inject({ method, url: "/api/results" })).statusCode, 404, method);
  // Nothing outside the page's folder is served.
  const outside = await app.inject({ method: "GET", url: "/../results/eval.json" });
  assert.notEqual(outside.statusCode, 200);
  const none = exploreApp({ webDir: web, resultsDir: null });
  assert.deepEqual((await none.inject({ method: "GET", url: "/api/results" })).json(), {
    dir: null,
    files: [],
  });
  await app.close();
  await none.close();
});

test("an unbuilt page, a missing results folder and a port in use are clear errors", async () => {
  const { web, results } = fixture();
  assert.throws(
    () => exploreApp({ webDir: join(web, "nope"), resultsDir: null }),
    /not built.*npm run build/,
  );
  assert.throws(
    () => exploreApp({ webDir: web, resultsDir: join(results, "nope") }),
    /--results .*no such directory/,
  );
  const first = await startExplore({ webDir: web, resultsDir: null, host: "127.0.0.1", port: 0 });
  const port = Number(new URL(first.url).port);
  assert.match(first.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  await assert.rejects(
    startExplore({ webDir: web, resultsDir: null, host: "127.0.0.1", port }),
    (e: Error) => e instanceof ExploreError && /port \d+ on 127\.0\.0\.1 is in use.*--port/.test(e.message),
  );
  await first.app.close();
});
