import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

// The explorer: built from web/ into dist/web, which `memhyper explore` serves.
export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "./",
  build: {
    outDir: fileURLToPath(new URL("../dist/web", import.meta.url)),
    emptyOutDir: true,
    target: "es2022",
    reportCompressedSize: false,
  },
});
