#!/usr/bin/env node
// The `wb` command. Starts from the prebuilt bundle (dist/, see bundle.mjs) when it matches the
// sources, else from the TypeScript sources through tsx. Either way, pipeline files and node
// libraries written in TypeScript load.
import { register as registerHooks } from "node:module"
import { dirname, resolve } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { builtBundle, freshBundle } from "./bundle.mjs"

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..")
const HOOKS = pathToFileURL(resolve(root, "bin/module-hooks.mjs")).href
const packageURL = pathToFileURL(resolve(root, "package.json")).href
const fromSource = process.env["WB_FROM_SOURCE"] === "1"
// WB_FROM_BUNDLE=1: the bundle as built, even if the sources changed since (tests of the bundle itself)
const bundle = fromSource ? undefined : process.env["WB_FROM_BUNDLE"] === "1" ? builtBundle(root) : freshBundle(root)
if (process.env["WB_DEBUG_START"] === "1") {
  process.stderr.write(`wb: starting from ${bundle === undefined ? "the sources" : "the bundle"}\n`)
} else if (bundle === undefined && !fromSource && process.stderr.isTTY) {
  // a person at a terminal is told; scripts and logs get the same results without a note to parse around
  process.stderr.write("wb: the prebuilt bundle (dist/) is missing or was built from other sources or packages: starting from the sources, " +
    "~0.5 s slower. `npm run build` rebuilds it; WB_FROM_SOURCE=1 silences this.\n")
}

let cli
if (bundle !== undefined) {
  // everything the CLI needs loads before any hook exists: hooks run on another thread, per module
  const dist = (path) => pathToFileURL(resolve(root, "dist", path)).href
  cli = await import(dist("workbench/cli/main.js"))
  // what pipeline files import: already loaded, their imports cost no trip through the hooks
  await import(dist("workbench/index.js"))
  await import(dist("nodes/index.js"))
  // TypeScript pipeline files, and imports of the workbench redirected to the bundle
  registerHooks(HOOKS, {
    data: {
      packageURL,
      compileTypeScript: true,
      redirects: bundle.redirects,
      sourceFolders: ["workbench", "nodes"].map((d) => pathToFileURL(resolve(root, d)).href + "/")
    }
  })
} else {
  // plain-JS dependencies load before tsx is registered: they then skip its hooks, which otherwise
  // double the start-up (Effect alone is several hundred modules)
  await import("effect")
  await import("effect/cli")
  await import("effect/encoding")
  await import("@effect/platform-node/NodeRuntime")
  await import("@effect/platform-node/NodeServices")
  const { register } = await import("tsx/esm/api")
  register()
  // after tsx, so it runs first: our packages resolve for pipeline files anywhere, and the user's
  // TypeScript compiles as with the bundle; tsx compiles the workbench's own
  registerHooks(HOOKS, { data: { packageURL, compileTypeScript: true, typeScriptLeftOut: [pathToFileURL(root).href + "/"] } })
  cli = await import("../workbench/cli/main.ts")
}
cli.main()
