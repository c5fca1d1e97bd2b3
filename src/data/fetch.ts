/**
 * `memhyper data fetch`: downloads the official CIFAR-10 binary archive, checks its MD5,
 * and extracts only the expected files. Nothing appears at the destination until the
 * whole archive has been checked and extracted (temp directory, then rename).
 */
import { createHash } from "node:crypto";
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import * as tar from "tar";
import { DatasetError, loadSplit, TEST_FILE, TRAIN_FILES } from "./cifar10.js";

// The dataset authors' page lists the archive with this MD5.
export const CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz";
export const CIFAR10_MD5 = "c32a1d4ab5d03f1284b67883e8d87530";
const MEMBER_DIR = "cifar-10-batches-bin";
const MEMBERS = new Set([...TRAIN_FILES, TEST_FILE, "batches.meta.txt", "readme.html"]);

export interface FetchOptions {
  readonly url?: string;
  readonly md5?: string;
  /** Directory that receives cifar-10-batches-bin/. */
  readonly into: string;
  readonly onProgress?: (bytes: number, total: number | null) => void;
}

export async function fetchCifar10(opts: FetchOptions): Promise<string> {
  const url = opts.url ?? CIFAR10_URL;
  const expected = (opts.md5 ?? CIFAR10_MD5).toLowerCase();
  const into = resolve(opts.into);
  const dest = join(into, MEMBER_DIR);
  if (existsSync(join(dest, TEST_FILE)))
    throw new DatasetError(`${dest} already holds CIFAR-10; remove it first or point --data at it`);
  mkdirSync(into, { recursive: true });
  const work = mkdtempSync(join(into, ".memhyper-fetch-"));
  try {
    const archive = join(work, "archive.tar.gz");
    let res: Response;
    try {
      res = await fetch(url);
    } catch (err) {
      throw new DatasetError(
        `cannot download ${url}: ${(err as Error).cause ?? (err as Error).message}; check the network, or download the archive yourself and pass --data`,
      );
    }
    if (!res.ok || !res.body)
      throw new DatasetError(`cannot download ${url}: HTTP ${res.status}; check the URL`);
    const total = Number(res.headers.get("content-length")) || null;
    const hash = createHash("md5");
    let bytes = 0;
    const body = Readable.fromWeb(res.body as unknown as WebReadableStream<Uint8Array>);
    body.on("data", (chunk: Buffer) => {
      hash.update(chunk);
      bytes += chunk.length;
      opts.onProgress?.(bytes, total);
    });
    await pipeline(body, createWriteStream(archive));
    const md5 = hash.digest("hex");
    if (md5 !== expected)
      throw new DatasetError(
        `downloaded archive has MD5 ${md5}, expected ${expected}: the download is corrupt or not the CIFAR-10 binary archive; try again`,
      );
    const out = join(work, "x");
    mkdirSync(out);
    await tar.x({
      file: archive,
      cwd: out,
      // Only the known regular files of cifar-10-batches-bin/; nothing else is written.
      filter: (path, entry) => {
        const parts = path.split("/").filter(Boolean);
        return (
          parts.length === 2 &&
          parts[0] === MEMBER_DIR &&
          MEMBERS.has(parts[1]!) &&
          (entry as { type?: string }).type === "File"
        );
      },
    });
    const extracted = join(out, MEMBER_DIR);
    loadSplit(extracted, "test"); // validates sizes and labels
    for (const f of TRAIN_FILES)
      if (!existsSync(join(extracted, f))) throw new DatasetError(`archive lacks ${MEMBER_DIR}/${f}`);
    mkdirSync(dirname(dest), { recursive: true });
    renameSync(extracted, dest);
    return dest;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
