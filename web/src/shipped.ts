/** The shipped presets and technology files, bundled into the page and handed to the library. */
import { z } from "zod";
import { provideShippedFiles } from "../../src/browser.js";

// The page validates a few configurations: zod's compiled validators would cost more to build
// (about 25 ms on the first parse) than they save.
z.config({ jitless: true });

const presets = import.meta.glob<unknown>("../../presets/*.json", { eager: true, import: "default" });
const tech = import.meta.glob<unknown>("../../tech/*.json", { eager: true, import: "default" });

provideShippedFiles(
  Object.fromEntries(
    Object.entries({ ...presets, ...tech }).map(([path, json]) => [path.replace("../../", ""), json]),
  ),
);
