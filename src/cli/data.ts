/** `memhyper data fetch`. */
import type { Command } from "commander";
import { CIFAR10_MD5, CIFAR10_URL, fetchCifar10 } from "../data/fetch.js";
import { makeOut } from "./output.js";

export function registerData(program: Command): void {
  const data = program.command("data").description("the CIFAR-10 dataset");
  data
    .command("fetch")
    .description("download the official CIFAR-10 binary archive, check its MD5 and extract it")
    .option("--into <dir>", "directory to receive cifar-10-batches-bin/", ".")
    .option("--url <url>", "archive URL", CIFAR10_URL)
    .option("--md5 <hex>", "expected MD5 of the archive", CIFAR10_MD5)
    .option("--json", "print one JSON object")
    .action(async (o: { into: string; url: string; md5: string; json?: boolean }) => {
      const out = makeOut(!!o.json);
      let last = 0;
      const dir = await fetchCifar10({
        url: o.url,
        md5: o.md5,
        into: o.into,
        onProgress: (bytes, total) => {
          if (o.json || Date.now() - last < 2000) return;
          last = Date.now();
          process.stderr.write(
            `downloaded ${(bytes / 1e6).toFixed(0)}${total ? ` of ${(total / 1e6).toFixed(0)}` : ""} MB\n`,
          );
        },
      });
      out.result({ data: dir }, () =>
        out.line(`CIFAR-10 is in ${dir}; use --data ${dir} or MEMHYPER_DATA=${dir}`),
      );
    });
}
