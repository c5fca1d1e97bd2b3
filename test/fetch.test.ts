import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import * as tar from "tar";
import { loadSplit, RECORD_BYTES, TEST_FILE, TRAIN_FILES } from "../src/data/cifar10.js";
import { fetchCifar10 } from "../src/data/fetch.js";

describe("data fetch (against a local HTTP server)", () => {
  const root = mkdtempSync(join(tmpdir(), "mh-fetch-"));
  let archive: Buffer;
  let server: Server;
  let base = "";

  before(async () => {
    const src = join(root, "src", "cifar-10-batches-bin");
    mkdirSync(src, { recursive: true });
    for (const [i, name] of [...TRAIN_FILES, TEST_FILE].entries()) {
      const buf = Buffer.alloc(3 * RECORD_BYTES, i + 1);
      for (let r = 0; r < 3; r++) buf[r * RECORD_BYTES] = (i + r) % 10;
      writeFileSync(join(src, name), buf);
    }
    writeFileSync(join(src, "batches.meta.txt"), "airplane\n");
    writeFileSync(join(src, "unexpected.sh"), "echo not extracted\n");
    const file = join(root, "small.tar.gz");
    await tar.c({ gzip: true, file, cwd: join(root, "src") }, ["cifar-10-batches-bin"]);
    archive = readFileSync(file);
    server = createServer((req, res) => {
      if (req.url === "/cifar.tar.gz") {
        res.writeHead(200, { "content-length": archive.length });
        res.end(archive);
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  it("downloads, checks the MD5 and extracts only the expected files", async () => {
    const md5 = createHash("md5").update(archive).digest("hex");
    const into = join(root, "a");
    const dir = await fetchCifar10({ url: `${base}/cifar.tar.gz`, md5, into });
    assert.equal(dir, join(into, "cifar-10-batches-bin"));
    const test = loadSplit(dir, "test");
    assert.equal(test.count, 3);
    assert.deepEqual([...test.labels], [5, 6, 7]);
    assert.ok(!existsSync(join(dir, "unexpected.sh")));
    assert.deepEqual(readdirSync(into), ["cifar-10-batches-bin"], "no temporary files left");
  });

  it("rejects an archive whose MD5 differs, leaving nothing behind", async () => {
    const into = join(root, "b");
    await assert.rejects(
      fetchCifar10({ url: `${base}/cifar.tar.gz`, md5: "0".repeat(32), into }),
      /has MD5 [0-9a-f]{32}, expected 0{32}/,
    );
    assert.deepEqual(readdirSync(into), []);
  });

  it("reports an HTTP error with the URL", async () => {
    await assert.rejects(
      fetchCifar10({ url: `${base}/missing`, into: join(root, "c") }),
      /cannot download .*missing: HTTP 404/,
    );
  });
});
