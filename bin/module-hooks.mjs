// wb's module hooks, on Node's hooks thread, for pipeline files and node libraries.
//
// Wherever a pipeline file lives, "preference-workbench" (and "/nodes") and "effect" name the
// workbench that runs it, and the Effect it runs on: when they cannot be found from the file's own
// folder, they resolve from the workbench's package. Both modes (bundle and sources) use this.
//
// The rest is for the prebuilt bundle (see bundle.mjs):
// resolve: pipeline files and node libraries import the workbench by package name
// ("preference-workbench"), by relative path to its sources, or import "effect"; each must get the
// bundle's module, not a second copy of the sources: two copies of Effect or of the engine in one
// process do not recognise each other's values. The package's public modules and every public module
// of `effect` have a bundled twin to redirect to (scripts/build.mjs); any other file inside our
// sources would be a second copy, so its import is refused with the fix. TypeScript's NodeNext
// style (`./x.js` naming `./x.ts`) and extensionless relative imports resolve to the .ts file.
//
// load: TypeScript files (.ts, .mts) are compiled by esbuild, as ES modules (pipeline files are ES
// modules, whatever package.json is near them). Only the user's own files come here (the workbench
// is bundled, or, from the sources, left to tsx), so this is a handful of small files per run; tsx
// would do the same but costs ~0.2 s of start-up.

import { relative } from "node:path"
import { fileURLToPath } from "node:url"

/** @type {Map<string, string>} module URL -> bundled URL */
let redirects = new Map()
/** URL prefixes of the workbench's source folders (workbench/, nodes/) that must not load. */
let sourceFolders = []
/** URL of the workbench's package.json: where our own packages resolve from as a last resort. */
let packageURL
/** Whether this hook compiles TypeScript, and URL prefixes it leaves to the next hook (tsx). */
let compileTypeScript = false
let typeScriptLeftOut = []

export async function initialize(data) {
  redirects = new Map(Object.entries(data.redirects ?? {}))
  sourceFolders = data.sourceFolders ?? []
  packageURL = data.packageURL
  compileTypeScript = data.compileTypeScript === true
  typeScriptLeftOut = data.typeScriptLeftOut ?? []
}

/** Packages a pipeline may import without installing them itself: the workbench and its Effect. */
const OWN_PACKAGES = new Set(["preference-workbench", "effect"])
const packageName = (s) => (s.startsWith("@") ? s.split("/").slice(0, 2).join("/") : s.split("/")[0])

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
    if (e?.code !== "ERR_MODULE_NOT_FOUND") throw e
    if (!isRelative(specifier)) {
      if (packageURL === undefined || !OWN_PACKAGES.has(packageName(specifier))) throw e
      return await nextResolve(specifier, { ...context, parentURL: packageURL })
    }
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
  if (!compileTypeScript || !url.startsWith("file:") || !/\.m?ts$/.test(url) || typeScriptLeftOut.some((p) => url.startsWith(p))) {
    return nextLoad(url, context)
  }
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
