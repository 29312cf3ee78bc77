/**
 * Files of this package by their path from its root. `import.meta.url` names the file that holds the
 * code: a source file, or a chunk of the prebuilt bundle (dist/chunks/…), so a fixed relative path
 * from it is right in one of the two only. The root is the nearest folder above with our package.json.
 */
import { existsSync, readFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"

const PACKAGE_NAME = "preference-workbench"

let root: string | undefined

const isOurPackage = (dir: string): boolean => {
  const file = join(dir, "package.json")
  if (!existsSync(file)) return false
  try {
    return (JSON.parse(readFileSync(file, "utf8")) as { name?: unknown }).name === PACKAGE_NAME
  } catch {
    return false
  }
}

/** The package's root folder. */
export function packageRoot(): string {
  if (root !== undefined) return root
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    if (isOurPackage(dir)) return (root = dir)
    if (dirname(dir) === dir) throw new Error(`no package.json named ${PACKAGE_NAME} above ${fileURLToPath(import.meta.url)}`)
  }
}

/** A file of the package, e.g. `packageFile("nodes/lib/minhash-worker.js")`. */
export const packageFile = (path: string): URL => pathToFileURL(join(packageRoot(), path))
