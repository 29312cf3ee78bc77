/**
 * This package's own files. The code runs from the sources (workbench/, nodes/) in a checkout, or
 * from their compiled twins under dist/ (dist/workbench/, dist/nodes/, the same tree): a module of the
 * package is found relative to this file, which sits at the same depth in both, and the package's
 * root (its package.json) by walking up.
 */
import { existsSync, readFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const PACKAGE_NAME = "preference-workbench"

let root: string | undefined

const readPackageJson = (dir: string): { name?: unknown; version?: unknown } | undefined => {
  const file = join(dir, "package.json")
  if (!existsSync(file)) return undefined
  try {
    return JSON.parse(readFileSync(file, "utf8")) as { name?: unknown; version?: unknown }
  } catch {
    return undefined
  }
}

/** The package's root folder: the nearest folder above this file with our package.json. */
export function packageRoot(): string {
  if (root !== undefined) return root
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    if (readPackageJson(dir)?.name === PACKAGE_NAME) return (root = dir)
    if (dirname(dir) === dir)
      throw new Error(`no package.json named ${PACKAGE_NAME} above ${fileURLToPath(import.meta.url)}`)
  }
}

/** The package's version, from its package.json. */
export const packageVersion = (): string => {
  const version = readPackageJson(packageRoot())?.version
  return typeof version === "string" ? version : "unknown"
}

/**
 * A module of the package by its path in the sources, as this copy runs it: `packageFile("nodes/index.js")`
 * is nodes/index.js (tsx finds nodes/index.ts) from the sources, dist/nodes/index.js from dist/.
 */
export const packageFile = (path: string): URL => new URL(`../../${path}`, import.meta.url)
