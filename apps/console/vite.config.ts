import { defineConfig } from "vite";

// Served by the ingest under /console: every asset is bundled here and named by its hash, so
// the page needs nothing from another origin and the ingest may let browsers keep assets for good.
export default defineConfig({
  base: "/console/",
  // Preact's JSX runtime through esbuild: no framework plugin (and its Babel) is needed.
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: { outDir: "dist", emptyOutDir: true, assetsInlineLimit: 0, target: "es2022" },
});
