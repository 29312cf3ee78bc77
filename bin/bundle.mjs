// The prebuilt bundle of the workbench (dist/, made by `npm run build`, which `npm ci` runs as
// `prepare`). A cached run is mostly start-up: Effect alone is ~570 modules and loading them and our
// TypeScript through loader hooks took ~1.5 s; the bundle starts in ~0.7 s.
//
// The bundle is used only while it matches what it was built from: `dist/build.json` records a
// fingerprint of our sources (workbench/, nodes/, package.json, the build script and these files)
// and the version of every package bundled into it. When anything changed since the build, `wb`
// runs from the sources instead: slower, never stale.
import { createHash } from "node:crypto"
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { dirname, join } from "node:path"

/** Folders whose every file goes into the fingerprint. */
const SOURCE_DIRS = ["workbench", "nodes"]
/** Single files that also shape the bundle (they ship with the package, unlike the lockfile). */
const SOURCE_FILES = ["package.json", "scripts/build.mjs", "bin/bundle.mjs", "bin/module-hooks.mjs"]

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

/** A hash of our sources (paths and contents), so that a changed, added or removed file is noticed. */
export const sourceFingerprint = (root) => {
  const hash = createHash("sha256")
  const files = [...SOURCE_DIRS.flatMap((d) => filesUnder(root, d)), ...SOURCE_FILES.filter((f) => existsSync(join(root, f)))]
  for (const rel of files.sort()) {
    hash.update(rel).update("\0").update(readFileSync(join(root, rel))).update("\0")
  }
  return hash.digest("hex")
}

/**
 * The version of package `name` as Node would find it from `root` (node_modules folders upwards), or
 * undefined. Read from its package.json directly: a package's exports may hide that file.
 */
export const installedVersion = (root, name) => {
  for (let dir = root; ; dir = dirname(dir)) {
    const file = join(dir, "node_modules", name, "package.json")
    if (existsSync(file)) {
      try {
        return JSON.parse(readFileSync(file, "utf8")).version
      } catch {
        return undefined
      }
    }
    if (dirname(dir) === dir) return undefined
  }
}

/** Where the bundle lives under the package root, and its build record. */
export const DIST = "dist"
export const BUILD_RECORD = "build.json"

/** The bundle's build record, fresh or not, or undefined when there is none. */
export const builtBundle = (root) => {
  const recordPath = join(root, DIST, BUILD_RECORD)
  if (!existsSync(recordPath)) return undefined
  try {
    return JSON.parse(readFileSync(recordPath, "utf8"))
  } catch {
    return undefined
  }
}

/**
 * The bundle's build record when the bundle exists and matches the sources and installed packages,
 * else undefined. `record.redirects`: module URL (a source file or an `effect` module) -> bundled URL.
 */
export const freshBundle = (root) => {
  const record = builtBundle(root)
  if (record === undefined || record.fingerprint !== sourceFingerprint(root)) return undefined
  const packages = Object.entries(record.packages ?? {})
  return packages.every(([name, version]) => installedVersion(root, name) === version) ? record : undefined
}
