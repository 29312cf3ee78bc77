#!/usr/bin/env node
// The `wb` command. Runs the compiled package (dist/, made by `npm run build` at `prepare` and
// `prepack`). In a checkout (the TypeScript sources are present) it first checks that dist/ was
// compiled from the sources as they are, and runs the sources through tsx when not (or when
// WB_FROM_SOURCE=1). An installed copy ships no sources and never checks. Either way, pipeline files
// and node libraries written in TypeScript load (module-hooks.mjs).
import { existsSync } from "node:fs"
import { register as registerHooks } from "node:module"
import { dirname, join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"

const root = join(dirname(fileURLToPath(import.meta.url)), "..")
const url = (path) => pathToFileURL(join(root, path)).href
const HOOKS = url("bin/module-hooks.mjs")
const packageURL = url("package.json")
const args = process.argv.slice(2)
// the hooks send the stamps of files a reloaded pipeline read (module-hooks.mjs, "Reloading") on
// this channel; io/pipeline-reload.ts reads them, synchronously, from the global slot below
const reload = new MessageChannel()
reload.port1.unref()
globalThis[Symbol.for("preference-workbench.reload-port")] = reload.port1
const hookData = (data) => ({ data: { ...data, reloadPort: reload.port2 }, transferList: [reload.port2] })

const checkout = existsSync(join(root, "workbench", "index.ts"))
let fromSource = false
if (checkout) {
  const { distIsFresh } = await import("../scripts/dist-record.mjs")
  const forced = process.env["WB_FROM_SOURCE"] === "1"
  // WB_FROM_DIST=1: dist/ as built, even if the sources changed since (tests of dist/ itself)
  fromSource = forced || (process.env["WB_FROM_DIST"] !== "1" && !distIsFresh(root))
  if (fromSource && !forced && process.stderr.isTTY && process.env["WB_DEBUG_START"] !== "1") {
    // a person at a terminal is told; scripts and logs get the same results without a note to parse around
    process.stderr.write(
      "wb: dist/ is missing or was compiled from other sources: running the sources, ~0.5 s slower. " +
        "`npm run build` recompiles it; WB_FROM_SOURCE=1 silences this.\n"
    )
  }
}
if (process.env["WB_DEBUG_START"] === "1") {
  process.stderr.write(`wb: starting from ${fromSource ? "the sources" : "dist"}\n`)
}

let cli
if (!fromSource) {
  // what the command needs loads before any hook exists: hooks run on another thread, per module
  cli = await import("../dist/workbench/cli/main.js")
  if (await cli.loadCommands(args)) {
    // what pipeline files import: already loaded, their imports cost no trip through the hooks
    await import("../dist/workbench/index.js")
    await import("../dist/nodes/index.js")
  }
  const twins = checkout ? ["workbench", "nodes"].map((d) => [url(d) + "/", url(`dist/${d}`) + "/"]) : []
  registerHooks(HOOKS, hookData({ packageURL, twins }))
} else {
  // plain-JS dependencies load before tsx is registered: they then skip its hooks, which otherwise
  // double the start-up (Effect alone is several hundred modules)
  await import("effect")
  await import("effect/cli")
  await import("effect/encoding")
  await import("@effect/platform-node/NodeRuntime")
  await import("@effect/platform-node/NodeServices")
  const tsx = await import("tsx/esm/api").catch(() => undefined)
  if (tsx === undefined) {
    // a checkout installed without its devDependencies (npm ci --omit=dev)
    process.stderr.write(
      "wb: dist/ is missing or out of date, and tsx, which runs the sources, is not installed. " +
        "fix: `npm run build` (or `npm install` with devDependencies)\n"
    )
    process.exit(1)
  }
  tsx.register()
  // after tsx, so it runs first: "preference-workbench" (whose "exports" name dist/) gets the sources
  // (one copy of the engine), our packages resolve for pipeline files anywhere, and the user's
  // TypeScript compiles as from dist/; tsx compiles the workbench's own
  registerHooks(
    HOOKS,
    hookData({
      packageURL,
      twins: ["workbench", "nodes"].map((d) => [url(`dist/${d}`) + "/", url(d) + "/"]),
      typeScriptLeftOut: [pathToFileURL(root).href + "/"]
    })
  )
  cli = await import("../workbench/cli/main.ts")
  await cli.loadCommands(args)
}
cli.main()
