/**
 * Type-check a TypeScript pipeline file with the project's own TypeScript, for `wb validate`.
 *
 * Why: wb loads `.ts` pipelines through esbuild, which strips types without checking them, so a
 * `load.hhRlhf({ path: 3 })` runs until the params decode says so, and a wrong type in a node's own
 * code never shows. `tsc` is run as a program (`typescript` 7 has no compiler API in JavaScript) on
 * the pipeline file alone (and what it imports), with the project's tsconfig.json when it has one.
 *
 * Gotchas
 * - The temporary tsconfig extends the project's and lists the file in `files` (with `include: []`):
 *   tsc given a file on its command line ignores tsconfig.json. It is written under node_modules/.cache
 *   beside the TypeScript found, where type roots (node_modules/@types) still resolve by walking up.
 */
import { spawnSync } from "node:child_process"
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { dirname, join, relative, resolve } from "node:path"

export type TypeCheck =
  | { readonly _tag: "Checked"; readonly tool: string }
  | { readonly _tag: "TypeErrors"; readonly tool: string; readonly errors: ReadonlyArray<string> }
  /** No TypeScript to check with, or tsc could not run: why, said to the user. */
  | { readonly _tag: "NotChecked"; readonly why: string }

/** The project's TypeScript: its version and its `tsc` launcher, or undefined when it has none. */
function findTypeScript(
  root: string
): { readonly version: string; readonly tsc: string; readonly modules: string } | undefined {
  try {
    const manifest = createRequire(join(root, "package.json")).resolve("typescript/package.json")
    const pkg = JSON.parse(readFileSync(manifest, "utf8")) as { version?: string; bin?: { tsc?: string } }
    const tsc = pkg.bin?.tsc === undefined ? undefined : join(dirname(manifest), pkg.bin.tsc)
    if (tsc === undefined || !existsSync(tsc)) return undefined
    return { version: pkg.version ?? "?", tsc, modules: dirname(dirname(manifest)) }
  } catch {
    return undefined
  }
}

/** The options a project without a tsconfig.json gets: what wb's own pipelines are written for. */
const DEFAULT_OPTIONS = {
  target: "ES2022",
  module: "NodeNext",
  moduleResolution: "NodeNext",
  strict: true,
  skipLibCheck: true
}

/** Type-check `file` (absolute) against the project at `root`; `shown` is how messages name paths (relative to `cwd`). */
export function typeCheck(file: string, root: string, cwd: string = process.cwd()): TypeCheck {
  const ts = findTypeScript(root)
  if (ts === undefined) {
    return {
      _tag: "NotChecked",
      why:
        `TypeScript is not installed in ${root} (wb loads .ts pipelines with esbuild, which strips types without checking them); ` +
        "`npm i -D typescript` and wb validate checks them"
    }
  }
  const tsconfig = join(root, "tsconfig.json")
  const hasConfig = existsSync(tsconfig)
  const shown = relative(cwd, tsconfig)
  const tool = `tsc ${ts.version}${hasConfig ? ` with ${shown.startsWith("..") ? tsconfig : shown}` : ""}`
  const dir = join(ts.modules, ".cache", "preference-workbench")
  const config = join(dir, `tsconfig.validate-${process.pid}.json`)
  try {
    mkdirSync(dir, { recursive: true })
    writeFileSync(
      config,
      JSON.stringify(
        hasConfig
          ? { extends: tsconfig, compilerOptions: { noEmit: true }, files: [file], include: [] }
          : { compilerOptions: { ...DEFAULT_OPTIONS, noEmit: true }, files: [file] }
      )
    )
  } catch (e) {
    return {
      _tag: "NotChecked",
      why: `could not write a tsconfig for tsc in ${dir}: ${e instanceof Error ? e.message : String(e)}`
    }
  }
  try {
    const run = spawnSync(process.execPath, [ts.tsc, "-p", config, "--pretty", "false"], {
      cwd: root,
      encoding: "utf8",
      timeout: 300_000,
      maxBuffer: 64 * 1024 * 1024
    })
    if (run.error !== undefined)
      return { _tag: "NotChecked", why: `tsc ${ts.version} could not run: ${run.error.message}` }
    if (run.status === 0) return { _tag: "Checked", tool }
    const lines = `${run.stdout}${run.stderr}`.split("\n").filter((l) => l.trim() !== "")
    // `path(line,col): error TS…` as `path:line:col TS…`, paths as the user reads them
    const errors = lines.map((l) => {
      const m = /^(.+?)\((\d+),(\d+)\): error (TS\d+): (.*)$/.exec(l)
      return m === null ? l.trim() : `${relative(cwd, resolve(root, m[1]!))}:${m[2]}:${m[3]} ${m[4]} ${m[5]}`
    })
    return { _tag: "TypeErrors", tool, errors }
  } finally {
    rmSync(config, { force: true })
  }
}
