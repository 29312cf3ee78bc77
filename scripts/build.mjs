#!/usr/bin/env node
// `npm run build` (and `prepare`, so `npm ci` runs it): the prebuilt bundle `wb` starts from
// (bin/bundle.mjs says why and when it is used).
//
// Entry points: the CLI, the package's public modules ("preference-workbench" and "/nodes"), and the
// public folders of `effect` ("effect", "effect/cli", …). esbuild puts code shared between entries in
// chunks, so each module exists once, and a pipeline file that imports any entry gets the very
// instance the CLI uses (bin/module-hooks.mjs redirects it). Effect's single modules ("effect/Schema")
// are not entries (165 more entries split the code into ~250 chunk files, ~0.2 s more start-up):
// each gets a small file that re-exports its namespace from the bundled "effect".
// Written to a temp folder and swapped in, with the fingerprint of its inputs.
import { build } from "esbuild"
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { dirname, join, relative, resolve } from "node:path"
import { pathToFileURL } from "node:url"
import { BUILD_RECORD, DIST, installedVersion, sourceFingerprint } from "../bin/bundle.mjs"

const root = resolve(dirname(new URL(import.meta.url).pathname), "..")
const started = performance.now()
const fingerprint = sourceFingerprint(root)
const pkg = createRequire(join(root, "package.json"))("./package.json")

// loaders and the native DuckDB library stay outside the bundle (its JavaScript API goes in: loading
// its ~60 CommonJS files from an ES module cost ~100 ms of start-up)
const EXTERNAL = ["@duckdb/node-bindings-*", "tsx", "esbuild", "apache-arrow", "arquero"]

const outName = (rel) => rel.replace(/^\.\//, "").replace(/\.(ts|js|mjs)$/, "")
const sources = ["workbench/cli/main.ts", ...Object.values(pkg.exports)].map(outName)

const require = createRequire(join(root, "package.json"))
const effectPkg = require("effect/package.json")
// "effect" and its folders; "effect/schema" (a folder) and "effect/Schema" (a module) differ only
// in case, so folders get an index file of their own
const effectFolders = Object.keys(effectPkg.exports)
  .filter((k) => !k.includes("*") && !["./package.json", "./testing", "./index"].includes(k))
  .map((k) => (k === "." ? { spec: "effect", name: "vendor/effect/index" } : { spec: `effect/${k.slice(2)}`, name: `vendor/effect/${k.slice(2)}/index` }))
const effectModules = readdirSync(join(dirname(require.resolve("effect/package.json")), "dist"))
  .filter((f) => f.endsWith(".js") && f !== "index.js").map((f) => f.slice(0, -3))

const entryPoints = {}
const redirects = {}
for (const rel of sources) {
  entryPoints[rel] = join(root, `${rel}.ts`)
  redirects[pathToFileURL(join(root, `${rel}.ts`)).href] = `${rel}.js`
}
for (const { spec, name } of effectFolders) {
  entryPoints[name] = `vendor:${spec}`
  redirects[import.meta.resolve(spec)] = `${name}.js`
}

const tmp = join(root, `${DIST}.tmp-${process.pid}`)
rmSync(tmp, { recursive: true, force: true })
const result = await build({
  metafile: true,
  entryPoints,
  outdir: tmp,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  external: EXTERNAL,
  chunkNames: "chunks/[name]-[hash]",
  logLevel: "warning",
  // bundled CommonJS (DuckDB's API) requires the native binding: give it a real `require`
  banner: { js: `import { createRequire as __wbCreateRequire } from "node:module"; const require = __wbCreateRequire(import.meta.url);` },
  plugins: [{
    name: "vendor",
    setup(b) {
      b.onResolve({ filter: /^vendor:/ }, (a) => ({ path: a.path.slice("vendor:".length), namespace: "vendor" }))
      b.onLoad({ filter: /.*/, namespace: "vendor" }, (a) => ({ contents: `export * from ${JSON.stringify(a.path)}`, resolveDir: root }))
    }
  }]
})

// effect's single modules: the bundled "effect" holds each as a namespace of the same name
const barrel = await import(pathToFileURL(join(tmp, "vendor/effect/index.js")).href)
const missing = []
for (const m of effectModules) {
  const ns = barrel[m]
  const original = await import(`effect/${m}`)
  const names = Object.keys(original).filter((k) => k !== "default")
  if (ns === undefined || names.some((k) => !(k in ns))) {
    missing.push(m)
    continue
  }
  const lines = [`import { ${m} as ns } from "./index.js"`]
  names.forEach((k, i) => lines.push(`const e${i} = ns[${JSON.stringify(k)}]`, `export { e${i} as ${JSON.stringify(k)} }`))
  mkdirSync(join(tmp, "vendor/effect"), { recursive: true })
  writeFileSync(join(tmp, `vendor/effect/${m}.js`), lines.join("\n") + "\n")
  redirects[import.meta.resolve(`effect/${m}`)] = `vendor/effect/${m}.js`
}
if (missing.length > 0) {
  // not fatal: such a module, imported by a pipeline file, loads from node_modules (a second copy)
  console.warn(`build: effect modules not in the "effect" namespace, left out: ${missing.join(", ")}`)
}

// the packages inside the bundle, by version: a changed dependency makes the bundle stale too
const packages = {}
for (const input of Object.keys(result.metafile.inputs)) {
  const m = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input)
  if (m !== null && packages[m[1]] === undefined) packages[m[1]] = installedVersion(root, m[1]) ?? "unknown"
}

const dist = join(root, DIST)
const absolute = Object.fromEntries(Object.entries(redirects).map(([from, to]) => [from, pathToFileURL(join(dist, to)).href]))
writeFileSync(join(tmp, BUILD_RECORD), JSON.stringify({ fingerprint, packages, builtAt: new Date().toISOString(), redirects: absolute }))
// swap: a running `wb` keeps the files it already opened; one starting now sees the old or the new folder
const old = `${dist}.old-${process.pid}`
try {
  if (existsSync(dist)) renameSync(dist, old)
  renameSync(tmp, dist)
} catch (e) {
  // another build (say, a second test run) swapped its folder in between: it built the same inputs
  if (!["ENOTEMPTY", "EEXIST", "ENOENT"].includes(e.code)) throw e
  rmSync(tmp, { recursive: true, force: true })
}
rmSync(old, { recursive: true, force: true })
console.log(`built ${relative(process.cwd(), dist) || "."}/ (${sources.length} entry modules, ${effectFolders.length} effect folders, ` +
  `${effectModules.length - missing.length} effect modules, ${Object.keys(packages).length} packages) in ${((performance.now() - started) / 1000).toFixed(1)} s`)
