// The browser UI (workbench/ui/, Vite + Preact): bundled into `<outDir>` (scripts/build.mjs passes
// dist/ui, where `wb serve` looks in the package and in a checkout). Everything the browser runs
// (preact, arquero, Plot, dagre) is bundled here, at build time: they are devDependencies, never
// dependencies of the installed CLI (arquero's own dependency tree does not install from the registry
// without our `overrides`, which only apply in this project).
//
// No vite.config.ts: the config is here, so workbench/ui/ holds only browser code (the layer rules).
import { join, resolve } from "node:path"

/** Build the UI into `outDir`; throws with a sentence when Vite is missing or the build fails. */
export async function buildUi(root, outDir) {
  let vite
  try {
    vite = await import("vite")
  } catch {
    throw new Error(
      "build-ui: vite is not installed (a devDependency). Run `npm ci` in the checkout, then `npm run build`."
    )
  }
  await vite.build({
    root: join(root, "workbench", "ui"),
    configFile: false,
    logLevel: "warn",
    base: "/",
    // JSX for Preact without @preact/preset-vite (which brings Babel): Oxc's automatic runtime
    oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
    build: {
      target: "es2022",
      outDir: resolve(outDir),
      emptyOutDir: true,
      reportCompressedSize: false,
      chunkSizeWarningLimit: 800
    }
  })
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const root = resolve(new URL("..", import.meta.url).pathname)
  const out = process.argv[2] ?? join(root, "dist", "ui")
  const t0 = performance.now()
  await buildUi(root, out)
  console.log(`built the UI into ${out} in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
}
