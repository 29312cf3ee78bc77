/**
 * The project root of a pipeline file: the nearest folder at or above the file's own folder that holds
 * `package.json` or a `.wb/` workspace. Relative paths in the pipeline (data files) resolve against it,
 * so `wb run ~/proj/pipelines/x.ts` finds `data/…` from any current directory, and the same pipeline
 * always gets the same cache keys wherever it is run from.
 *
 * When no folder above holds either, the pipeline's own folder is the root: a lone pipeline file's
 * paths are read relative to where the file is, never to where the user happens to stand.
 */
import { existsSync, statSync } from "node:fs"
import { dirname, join, resolve } from "node:path"

export interface ProjectRoot {
  /** Absolute path of the root folder. */
  readonly dir: string
  /** What made it the root: the marker found there, or "pipeline folder" when none was found above. */
  readonly reason: "package.json" | ".wb" | "pipeline folder"
}

const isDirectory = (path: string) => existsSync(path) && statSync(path).isDirectory()

/** The project root of `pipelineFile` (absolute, or relative to `cwd`). */
export function findProjectRoot(pipelineFile: string, cwd: string = process.cwd()): ProjectRoot {
  const start = dirname(resolve(cwd, pipelineFile))
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json"))) return { dir, reason: "package.json" }
    if (isDirectory(join(dir, ".wb"))) return { dir, reason: ".wb" }
    if (dirname(dir) === dir) return { dir: start, reason: "pipeline folder" }
  }
}

/** How `wb run`'s summary names the root: `project root /p (nearest package.json above the pipeline; …)`. */
export function describeProjectRoot(root: ProjectRoot): string {
  const why =
    root.reason === "pipeline folder"
      ? "the pipeline's folder: no package.json or .wb/ above it"
      : `nearest ${root.reason === ".wb" ? ".wb/" : "package.json"} above the pipeline`
  return `project root ${root.dir} (${why}; relative paths resolve here)`
}
