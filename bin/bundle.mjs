// The prebuilt bundle of the workbench (dist/, made by `npm run build`, which `npm ci` runs as
// `prepare`). A cached run is mostly start-up: Effect alone is ~570 modules and loading them and our
// TypeScript through loader hooks took ~1.5 s; one esbuild bundle starts in ~0.6 s.
//
// The bundle is used only while it matches the sources: `dist/build.json` records a fingerprint of
// every input (our sources, the build script, package.json and the lockfile). When something changed
// since the build, `wb` runs from the sources instead: slower, never stale.
import { createHash } from "node:crypto"
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"

/** Folders whose every file goes into the fingerprint. */
const SOURCE_DIRS = ["workbench", "nodes"]
/** Single files that also shape the bundle. */
const SOURCE_FILES = ["package.json", "package-lock.json", "scripts/build.mjs", "bin/bundle.mjs", "bin/bundle-hooks.mjs"]

const filesUnder = (root, dir) => {
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

/** A hash of the bundle's inputs (paths and contents), so that a changed or added file is noticed. */
export const sourceFingerprint = (root) => {
  const hash = createHash("sha256")
  const files = [...SOURCE_DIRS.flatMap((d) => filesUnder(root, d)), ...SOURCE_FILES.filter((f) => existsSync(join(root, f)))]
  for (const rel of files.sort()) {
    hash.update(rel).update("\0").update(readFileSync(join(root, rel))).update("\0")
  }
  return hash.digest("hex")
}

/** Where the bundle lives under the package root, and its build record. */
export const DIST = "dist"
export const BUILD_RECORD = "build.json"

/**
 * The bundle's build record when the bundle exists and matches the sources, else undefined.
 * `record.redirects`: module URL (a source file or a vendored package module) -> its bundled URL.
 */
export const freshBundle = (root) => {
  const recordPath = join(root, DIST, BUILD_RECORD)
  if (!existsSync(recordPath)) return undefined
  let record
  try {
    record = JSON.parse(readFileSync(recordPath, "utf8"))
  } catch {
    return undefined
  }
  return record.fingerprint === sourceFingerprint(root) ? record : undefined
}
