#!/usr/bin/env node
// `npm run build` (also `prepare`, so `npm ci` runs it, and `prepack`, so every tarball carries it):
// compile workbench/ and nodes/ with tsc (tsconfig.build.json) into dist/, mirroring the sources:
// dist/workbench/**, dist/nodes/**, a .js and a .d.ts per .ts file. Plain JavaScript and hand-written
// declarations (the MinHash kernel and worker, which worker threads load without a TypeScript
// loader) are copied as they are. Unbundled on purpose: a pipeline that imports
// "preference-workbench" then gets the very modules the CLI loaded, and "effect" stays one package.
//
// Written to a temp folder and swapped in, with the record of what it was compiled from
// (scripts/dist-record.mjs). Type errors fail the build; `--allow-type-errors` (the test setup, while
// a file is mid-edit) still emits, as tsc does, warns, and records it. A dist/ already compiled, without
// type errors, from the same sources by the same compiler is kept (`npm pack` runs both `prepare` and
// `prepack`); `--force` compiles anyway.
import { spawnSync } from "node:child_process"
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { dirname, join, relative } from "node:path"
import { fileURLToPath } from "node:url"
import { BUILD_RECORD, buildRecord, DIST, SOURCE_DIRS, filesUnder, sourceFingerprint } from "./dist-record.mjs"
import { buildUi } from "./build-ui.mjs"

const UI_SOURCES = "workbench/ui"

const root = join(dirname(fileURLToPath(import.meta.url)), "..")
const allowTypeErrors = process.argv.includes("--allow-type-errors")
const started = performance.now()
const fingerprint = sourceFingerprint(root)

const require = createRequire(join(root, "package.json"))
const tscPackage = require.resolve("typescript/package.json")
const { bin, version } = require(tscPackage)
const tsc = join(dirname(tscPackage), typeof bin === "string" ? bin : bin.tsc)
const compiler = `typescript ${version}`

const previous = buildRecord(root)
if (
  !process.argv.includes("--force") &&
  previous?.fingerprint === fingerprint &&
  previous.compiler === compiler &&
  (previous.typeErrors !== true || allowTypeErrors)
) {
  console.log(`dist/ is up to date (compiled from these sources by ${compiler}); --force recompiles`)
  process.exit(0)
}

const tmp = join(root, `${DIST}.tmp-${process.pid}`)
rmSync(tmp, { recursive: true, force: true })
let typeErrors = false
const compiled = spawnSync(process.execPath, [tsc, "-p", join(root, "tsconfig.build.json"), "--outDir", tmp], {
  cwd: root,
  stdio: "inherit"
})
if (compiled.status !== 0) {
  const emitted = existsSync(join(tmp, "workbench", "index.js"))
  if (!allowTypeErrors || !emitted) {
    rmSync(tmp, { recursive: true, force: true })
    console.error(
      `build: tsc failed (exit ${compiled.status ?? compiled.signal}); dist/ left as it was. Fix the errors above (\`npm run typecheck\`).`
    )
    process.exit(1)
  }
  console.warn(
    "build: tsc reported type errors (above); dist/ emitted anyway (--allow-type-errors). `npm run typecheck` fails until they are fixed."
  )
  typeErrors = true
}

// what tsc does not emit: plain JavaScript next to the sources, and declarations written by hand
let copied = 0
for (const rel of SOURCE_DIRS.flatMap((d) => filesUnder(root, d))) {
  if (rel.endsWith(".ts") && !rel.endsWith(".d.ts")) continue
  if (rel.startsWith(`${UI_SOURCES}/`)) continue // bundled by Vite below, not shipped as sources
  mkdirSync(dirname(join(tmp, rel)), { recursive: true })
  copyFileSync(join(root, rel), join(tmp, rel))
  copied++
}

// the browser UI, bundled by Vite into dist/ui (where `wb serve` finds it, installed or in a checkout)
try {
  await buildUi(root, join(tmp, "ui"))
} catch (e) {
  if (!allowTypeErrors) {
    rmSync(tmp, { recursive: true, force: true })
    console.error(`build: the browser UI did not build; dist/ left as it was.\n${e.message ?? e}`)
    process.exit(1)
  }
  console.warn(`build: the browser UI did not build (wb serve shows a placeholder page): ${e.message ?? e}`)
  typeErrors = true
}

writeFileSync(
  join(tmp, BUILD_RECORD),
  `${JSON.stringify({ fingerprint, compiler, ...(typeErrors ? { typeErrors } : {}) }, null, 2)}\n`
)

// swap: a running `wb` keeps the files it already opened; one starting now sees the old or the new folder
const dist = join(root, DIST)
const old = `${dist}.old-${process.pid}`
try {
  if (existsSync(dist)) renameSync(dist, old)
  renameSync(tmp, dist)
} catch (e) {
  // another build (say, a second test run) swapped its folder in between: it compiled the same sources
  if (!["ENOTEMPTY", "EEXIST", "ENOENT"].includes(e.code)) throw e
  rmSync(tmp, { recursive: true, force: true })
}
rmSync(old, { recursive: true, force: true })
console.log(
  `built ${relative(process.cwd(), dist) || "."}/ (tsc ${version}, ${copied} files copied) in ${((performance.now() - started) / 1000).toFixed(1)} s`
)
