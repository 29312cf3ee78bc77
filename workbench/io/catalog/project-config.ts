/**
 * The project's `wb.config.ts` (or .mts, .js, .mjs): found at the project root (the nearest folder
 * holding package.json or .wb/, see project-root.ts), imported like a pipeline file, and checked to
 * default-export `defineConfig({ layer, nodes })`. No file: an empty config.
 */
import { Effect } from "effect"
import { existsSync } from "node:fs"
import { join, relative } from "node:path"
import { pathToFileURL } from "node:url"
import { isWbConfig, type WbConfig } from "../../core/config.js"
import { DataError } from "../../core/errors.js"
import { findProjectRoot } from "../project-root.js"
import { importFailureText } from "../import-failure.js"

export const CONFIG_FILES = ["wb.config.ts", "wb.config.mts", "wb.config.js", "wb.config.mjs"] as const

export interface ProjectConfig {
  readonly config: WbConfig
  /** The config file (absolute), when there is one. */
  readonly file?: string
  /** How messages name it: relative to the current directory when inside it. */
  readonly shown?: string
}

const EMPTY: ProjectConfig = { config: { _tag: "WbConfig" } }

/** The config file at `rootDir`, if any (the first of CONFIG_FILES that exists). */
export const findConfigFile = (rootDir: string): string | undefined =>
  CONFIG_FILES.map((name) => join(rootDir, name)).find((path) => existsSync(path))

/** The project root of the current directory, for commands that open no pipeline (`wb nodes`). */
export const currentProjectRoot = (cwd: string = process.cwd()): string => findProjectRoot(join(cwd, "wb"), cwd).dir

const cache = new Map<string, ProjectConfig>()

/** Load the config of the project rooted at `rootDir` (cached per file). */
export const loadProjectConfig = (rootDir: string): Effect.Effect<ProjectConfig, DataError> =>
  Effect.suspend(() => {
    const file = findConfigFile(rootDir)
    if (file === undefined) return Effect.succeed(EMPTY)
    const known = cache.get(file)
    if (known !== undefined) return Effect.succeed(known)
    const rel = relative(process.cwd(), file)
    const shown = rel !== "" && !rel.startsWith("..") ? rel : file
    const expected = "a module that default-exports defineConfig({ layer, nodes }) from preference-workbench"
    return Effect.tryPromise({
      try: () => import(pathToFileURL(file).href) as Promise<Record<string, unknown>>,
      catch: (e) =>
        new DataError({
          where: shown,
          found: `importing it failed: ${importFailureText(e)}`,
          expected,
          fix: "fix the error above; `npx tsc -p .` type-checks the config"
        })
    }).pipe(
      Effect.flatMap((mod) => {
        const config = mod["default"]
        if (!isWbConfig(config)) {
          return Effect.fail(
            new DataError({
              where: shown,
              found: config === undefined ? "no default export" : "a default export that is not defineConfig(...)",
              expected,
              fix: "write `export default defineConfig({ ... })`, importing defineConfig from preference-workbench"
            })
          )
        }
        const loaded: ProjectConfig = { config, file, shown }
        cache.set(file, loaded)
        return Effect.succeed(loaded)
      })
    )
  })
