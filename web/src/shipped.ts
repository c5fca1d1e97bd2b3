/** The shipped presets and technology files, bundled into the page and handed to the library. */
import { provideShippedFiles } from "../../src/browser.js";

const presets = import.meta.glob<unknown>("../../presets/*.json", { eager: true, import: "default" });
const tech = import.meta.glob<unknown>("../../tech/*.json", { eager: true, import: "default" });

provideShippedFiles(
  Object.fromEntries(
    Object.entries({ ...presets, ...tech }).map(([path, json]) => [path.replace("../../", ""), json]),
  ),
);
