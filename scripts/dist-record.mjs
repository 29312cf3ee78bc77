// dist/ (the compiled JavaScript `wb` and the package's exports run) and the record of what it was
// compiled from. Only a checkout has the TypeScript sources, so only a checkout asks whether dist/ is
// stale: bin/wb.js then runs the sources (through tsx) instead, and the test setup rebuilds it. An
// installed copy ships dist/ without this file and never asks.
//
// The record holds a hash of the sources (relative paths and contents, so a clone anywhere, at any
// mtime, matches) and nothing machine-specific: no absolute path, no time.
import { createHash } from "node:crypto"
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"

/** Where the compiled package lives under the package root, and its build record. */
export const DIST = "dist"
export const BUILD_RECORD = "build.json"

/** Folders compiled into dist/ (their .ts files by tsc; their plain .js and .d.ts files copied as they are). */
export const SOURCE_DIRS = ["workbench", "nodes"]
/** Single files that also shape dist/. package.json does not: dist/ imports packages by name. */
const SOURCE_FILES = [
  "tsconfig.json",
  "tsconfig.build.json",
  "scripts/build.mjs",
  "scripts/build-ui.mjs",
  "scripts/dist-record.mjs"
]

/** Files under `dir` (relative to `root`, with `/`), recursively. */
export const filesUnder = (root, dir) => {
  const out = []
  const walk = (rel) => {
    for (const e of readdirSync(join(root, rel), { withFileTypes: true })) {
      const child = `${rel}/${e.name}`
      if (e.isDirectory()) walk(child)
      else if (e.isFile()) out.push(child)
    }
  }
  if (existsSync(join(root, dir))) walk(dir)
  return out
}

/** A hash of the sources (paths and contents), so that a changed, added or removed file is noticed. */
export const sourceFingerprint = (root) => {
  const hash = createHash("sha256")
  const files = [
    ...SOURCE_DIRS.flatMap((d) => filesUnder(root, d)),
    ...SOURCE_FILES.filter((f) => existsSync(join(root, f)))
  ]
  for (const rel of files.sort()) {
    hash
      .update(rel)
      .update("\0")
      .update(readFileSync(join(root, rel)))
      .update("\0")
  }
  return hash.digest("hex")
}

/** dist/'s build record, fresh or not, or undefined when there is none (or it is unreadable). */
export const buildRecord = (root) => {
  const file = join(root, DIST, BUILD_RECORD)
  if (!existsSync(file)) return undefined
  try {
    return JSON.parse(readFileSync(file, "utf8"))
  } catch {
    return undefined
  }
}

/** Whether dist/ exists and was compiled from the sources as they are now. */
export const distIsFresh = (root) => buildRecord(root)?.fingerprint === sourceFingerprint(root)
