// wb's module hooks (Node's hooks thread), for the user's pipeline files and node libraries.
//
// load: TypeScript files (.ts, .mts) are compiled by esbuild, as ES modules (pipeline files are ES
// modules, whatever package.json is near them), and kept per user by content (compileTypeScript).
// Only the user's files come here (the workbench is compiled JavaScript in dist/, or, run from the
// sources, left to tsx), so this is a handful of small files per run; tsx would do the same but
// costs ~0.2 s of start-up.
//
// resolve:
// - "preference-workbench" (and "/nodes") and "effect" name the workbench that runs the file and the
//   Effect it runs on: when they cannot be found from the file's own folder (a pipeline kept outside
//   any project), they resolve from the running wb's package.
// - TypeScript's NodeNext style (`./x.js` naming `./x.ts`) and extensionless relative imports resolve
//   to the .ts file.
// - Twins, in a checkout, so that there is one copy of the engine (`twins`: [from, to] URL prefixes):
//   running dist/, an import of a source file inside workbench/ or nodes/ gets its compiled twin in
//   dist/; one without a twin is refused, with the fix (pipeline-file.ts knows the code). Running the
//   sources, the other way round: the package's "exports" name dist/, and "preference-workbench"
//   must give the sources the CLI runs.
//
// Reloading (`wb serve`, io/pipeline-reload.ts): Node caches every module by URL, so a pipeline file
// edited while the server runs would never be seen. The server imports it as `pipeline.ts?wbv=N`;
// here every file: module that a `?wbv=N` module imports gets the same `?wbv=N`, except the engine
// and packages (node_modules, the workbench's own folders), which must stay one shared copy. So a new
// N re-evaluates the pipeline and its local helpers. Each such file's stamp (mtime and size, taken
// before it is read) goes back on `reloadPort`, so the server knows which files a version depends on.

import { createHash } from "node:crypto"
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { homedir } from "node:os"
import { join, relative } from "node:path"
import { fileURLToPath } from "node:url"

/** URL of the workbench's package.json: where our own packages resolve from as a last resort. */
let packageURL
/** [URL prefix of a folder, URL prefix of its twin], e.g. workbench/ -> dist/workbench/ */
let twins = []
/** URL prefixes whose TypeScript this hook leaves to the next one (tsx, for the workbench's sources). */
let typeScriptLeftOut = []
/** Where the stamps of versioned files go (a MessagePort), when wb.js made one. */
let reloadPort
/** URL prefixes never versioned: the workbench's own code, shared by every pipeline version. */
let engine = []

export async function initialize(data) {
  packageURL = data.packageURL
  twins = data.twins ?? []
  typeScriptLeftOut = data.typeScriptLeftOut ?? []
  reloadPort = data.reloadPort
  engine =
    packageURL === undefined
      ? []
      : ["workbench/", "nodes/", "dist/", "bin/", "scripts/"].map((d) => new URL(d, packageURL).href)
}

const VERSION = /[?&]wbv=([\w.-]+)/

/** The parent's reload version onto a local file it imports (see the header). */
function versioned(resolved, parentURL) {
  const v = parentURL === undefined ? null : VERSION.exec(parentURL)
  const url = resolved.url
  if (v === null || !url.startsWith("file:") || url.includes("?") || url.includes("/node_modules/")) return resolved
  if (engine.some((p) => url.startsWith(p))) return resolved
  return { ...resolved, url: `${url}?wbv=${v[1]}` }
}

/** Tell the server which file a version read, and its stamp before reading it. */
function stamp(url) {
  const v = reloadPort === undefined ? null : VERSION.exec(url)
  if (v === null) return
  const path = fileURLToPath(url)
  let st = "missing"
  try {
    const s = statSync(path)
    st = `${s.mtimeMs}:${s.size}`
  } catch {
    // a file that is gone: its import fails, and the next stamp differs
  }
  reloadPort.postMessage({ version: v[1], path, stamp: st })
}

/** Packages a pipeline may import without installing them itself: the workbench and its Effect. */
const OWN_PACKAGES = new Set(["preference-workbench", "effect"])
const packageName = (s) => (s.startsWith("@") ? s.split("/").slice(0, 2).join("/") : s.split("/")[0])

const shown = (u) => (u?.startsWith("file:") ? relative(process.cwd(), fileURLToPath(u)) : (u ?? "a module"))

/** A source module with no compiled twin would load as a second copy: refuse it, saying why. */
function secondCopyError(url, parentURL) {
  const e = new Error(
    `${shown(parentURL)} imports ${shown(url)}, a file inside the workbench's sources that dist/ (what wb runs) has no ` +
      `compiled copy of (a second copy of the sources would not recognise the running workbench's values)`
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
    const candidates =
      ext !== undefined
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

/** The twin's file names, in order of preference: compiled .ts -> .js; from dist/, .js -> its .ts, or plain .js. */
const TWIN_NAMES = { ".ts": [".js"], ".mts": [".mjs"], ".js": [".ts", ".js"], ".mjs": [".mts", ".mjs"] }

export async function resolve(specifier, context, nextResolve) {
  return versioned(await resolveModule(specifier, context, nextResolve), context.parentURL)
}

async function resolveModule(specifier, context, nextResolve) {
  let resolved
  try {
    resolved = await resolveTypeScript(specifier, context, nextResolve)
  } catch (e) {
    // running the sources before dist/ exists: the package's "exports" name files not compiled yet
    if (e?.code !== "ERR_MODULE_NOT_FOUND" || !twins.some(([from]) => e.url?.startsWith(from))) throw e
    resolved = { url: e.url }
  }
  for (const [from, to] of twins) {
    if (!resolved.url.startsWith(from)) continue
    const rest = resolved.url.slice(from.length)
    const ext = /\.[cm]?[jt]s$/.exec(rest)?.[0] ?? ""
    const names = (TWIN_NAMES[ext] ?? [ext]).map((e) => to + rest.slice(0, rest.length - ext.length) + e)
    const twin = names.find((u) => existsSync(fileURLToPath(u)))
    if (twin === undefined) throw secondCopyError(resolved.url, context.parentURL)
    // through the next hooks, so that tsx compiles a source twin
    return nextResolve(twin, context)
  }
  return resolved
}

const TS_OPTIONS = { loader: "ts", format: "esm", target: "node20", sourcemap: "inline" }

let esbuild
/** What the compiled code depends on besides the source: compiler version and options. */
let compilerKey

/**
 * Compiled files are kept per user (`~/.cache/preference-workbench/ts/`, or under XDG_CACHE_HOME), one
 * entry per source path holding the hash of what it was compiled from: an unchanged pipeline file
 * skips esbuild, whose import and service process cost ~0.2 s of every run's start-up. Any problem
 * with the cache (no home, read-only) just compiles.
 */
let cacheDir
function compiledCacheDir() {
  if (cacheDir !== undefined) return cacheDir
  try {
    const dir = join(process.env["XDG_CACHE_HOME"] || join(homedir(), ".cache"), "preference-workbench", "ts")
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    cacheDir = dir
  } catch {
    cacheDir = null
  }
  return cacheDir
}

const sha256 = (...parts) => {
  const h = createHash("sha256")
  for (const p of parts) h.update(p).update("\0")
  return h.digest("hex")
}

async function compileTypeScript(path, source) {
  if (compilerKey === undefined) {
    let version = "unknown"
    try {
      version = JSON.parse(readFileSync(createRequire(import.meta.url).resolve("esbuild/package.json"), "utf8")).version
    } catch {
      // no version: the key still changes with the source
    }
    compilerKey = `esbuild ${version} ${JSON.stringify(TS_OPTIONS)}`
  }
  const key = sha256(compilerKey, path, source)
  const dir = compiledCacheDir()
  const entry = dir === null ? undefined : join(dir, `${sha256(path).slice(0, 32)}.js`)
  const header = `// wb compiled ${key}\n`
  if (entry !== undefined) {
    try {
      const cached = readFileSync(entry, "utf8")
      if (cached.startsWith(header)) return cached.slice(header.length)
    } catch {
      // not compiled before
    }
  }
  esbuild ??= await import("esbuild")
  const { code } = await esbuild.transform(source, { ...TS_OPTIONS, sourcefile: path })
  if (entry !== undefined) {
    try {
      const tmp = `${entry}.${process.pid}.tmp`
      writeFileSync(tmp, header + code)
      renameSync(tmp, entry)
    } catch {
      // the next run compiles again
    }
  }
  return code
}

export async function load(url, context, nextLoad) {
  if (url.startsWith("file:")) stamp(url)
  const bare = url.replace(/[?#].*$/, "")
  if (!url.startsWith("file:") || !/\.m?ts$/.test(bare) || typeScriptLeftOut.some((p) => url.startsWith(p))) {
    return nextLoad(url, context)
  }
  const path = fileURLToPath(url)
  return { format: "module", source: await compileTypeScript(path, readFileSync(path, "utf8")), shortCircuit: true }
}
