// Module hooks used with the prebuilt bundle (see bundle.mjs), on Node's hooks thread.
//
// resolve: pipeline files and node libraries import the workbench by package name
// ("preference-workbench"), by relative path to its sources, or import "effect"; each must get the
// bundle's module, not a second copy of the sources: two copies of Effect or of the engine in one
// process do not recognise each other's values. The package's public modules and every public module
// of `effect` have a bundled twin to redirect to (scripts/build.mjs); any other file inside our
// sources would be a second copy, so its import is refused with the fix. TypeScript's NodeNext
// style (`./x.js` naming `./x.ts`) and extensionless relative imports resolve to the .ts file.
//
// load: TypeScript files (.ts, .mts) are compiled by esbuild, as ES modules. Only the user's own
// files come here (the workbench itself is bundled), so this is a handful of small files per run;
// tsx does the same and more but costs ~0.2 s of start-up.

import { relative } from "node:path"
import { fileURLToPath } from "node:url"

/** @type {Map<string, string>} module URL -> bundled URL */
let redirects = new Map()
/** URL prefixes of the workbench's source folders (workbench/, nodes/). */
let sourceFolders = []

export async function initialize(data) {
  redirects = new Map(Object.entries(data.redirects))
  sourceFolders = data.sourceFolders
}

/** A source module with no bundled twin would load as a second copy: refuse it, saying why. */
function secondCopyError(url, parentURL) {
  const shown = (u) => (u?.startsWith("file:") ? relative(process.cwd(), fileURLToPath(u)) : u ?? "a module")
  const e = new Error(
    `${shown(parentURL)} imports ${shown(url)}, a file inside the workbench's sources, while wb runs from its ` +
    `prebuilt bundle (a second copy of the sources would not recognise the bundle's values)`
  )
  e.code = "ERR_WB_SOURCE_IMPORT"
  return e
}

const TS_FOR_JS = { ".js": ".ts", ".mjs": ".mts" }

const isRelative = (s) => s.startsWith("./") || s.startsWith("../") || s.startsWith("/") || s.startsWith("file:")

async function resolveTypeScript(specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context)
  } catch (e) {
    if (e?.code !== "ERR_MODULE_NOT_FOUND" || !isRelative(specifier)) throw e
    const ext = /\.[cm]?js$/.exec(specifier)?.[0]
    const candidates = ext !== undefined
      ? [specifier.slice(0, -ext.length) + (TS_FOR_JS[ext] ?? ext)]
      : [`${specifier}.ts`, `${specifier}/index.ts`, `${specifier}.js`, `${specifier}/index.js`]
    for (const candidate of candidates) {
      try {
        return await nextResolve(candidate, context)
      } catch {
        // try the next one; the original error is the one to report
      }
    }
    throw e
  }
}

export async function resolve(specifier, context, nextResolve) {
  const resolved = await resolveTypeScript(specifier, context, nextResolve)
  const bundled = redirects.get(resolved.url)
  if (bundled !== undefined) return { ...resolved, url: bundled, format: "module" }
  if (sourceFolders.some((f) => resolved.url.startsWith(f))) throw secondCopyError(resolved.url, context.parentURL)
  return resolved
}

let esbuild

export async function load(url, context, nextLoad) {
  if (!url.startsWith("file:") || !/\.m?ts$/.test(url)) return nextLoad(url, context)
  const { readFile } = await import("node:fs/promises")
  const path = fileURLToPath(url)
  esbuild ??= await import("esbuild")
  const { code } = await esbuild.transform(await readFile(path, "utf8"), {
    loader: "ts",
    format: "esm",
    target: "node20",
    sourcefile: path,
    sourcemap: "inline"
  })
  return { format: "module", source: code, shortCircuit: true }
}
