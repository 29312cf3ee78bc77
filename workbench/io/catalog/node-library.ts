/**
 * The node library, loaded at runtime by path so the CLI names no specific node: `nodes/index.ts`
 * (its `registry` export), plus the module `WB_NODE_LIBRARY` points at, plus the `nodes` of the
 * project's wb.config.ts. Until the built-in library exists its part is empty; TS pipelines carry
 * their own node definitions and do not need any of it.
 */
import { Effect, Result } from "effect"
import { existsSync } from "node:fs"
import { resolve } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { configRegistry, extendRegistry } from "../../core/config.js"
import { DataError, type NodeKindClashError } from "../../core/errors.js"
import type { NodeRegistry } from "../../core/node.js"
import { packageFile } from "../package-root.js"
import type { ProjectConfig } from "./project-config.js"
import { importFailureText } from "../import-failure.js"

const isRegistry = (u: unknown): u is NodeRegistry =>
  u instanceof Map && [...u.values()].every((d) => typeof d === "object" && d !== null && typeof d.kind === "string")

/** Where the node library lives, and whether it was chosen with WB_NODE_LIBRARY. */
export function nodeLibraryLocation(): { readonly url: string; readonly custom: boolean; readonly present: boolean } {
  const custom = process.env["WB_NODE_LIBRARY"]
  if (custom !== undefined && custom !== "") {
    const path = resolve(custom)
    return { url: pathToFileURL(path).href, custom: true, present: existsSync(path) }
  }
  const library = packageFile("nodes/index.js")
  const js = fileURLToPath(library)
  return { url: library.href, custom: false, present: existsSync(js) || existsSync(js.replace(/\.js$/, ".ts")) }
}

/** The kinds a command can name, and where they came from (for messages). */
export interface NodeLibrary {
  readonly registry: NodeRegistry
  /** "nodes/index.ts", "x.ts (WB_NODE_LIBRARY)", "wb.config.ts": the sources that added kinds. */
  readonly sources: ReadonlyArray<string>
  /** Where one kind came from. */
  readonly origin: (kind: string) => string
}

const BUILT_IN = "the built-in library (nodes/index.ts)"

/** Import a module's `registry` export; `label` names it in errors. */
const importRegistry = (url: string, label: string, fix: string) =>
  Effect.tryPromise({
    try: () => import(url) as Promise<Record<string, unknown>>,
    catch: (e) =>
      new DataError({
        where: label,
        found: `importing it failed: ${importFailureText(e)}`,
        expected: "a module that loads without errors",
        fix
      })
  }).pipe(
    Effect.flatMap((mod) => {
      const registry = mod["registry"]
      if (isRegistry(registry)) return Effect.succeed(registry)
      return Effect.fail(
        new DataError({
          where: label,
          found:
            registry === undefined
              ? "no `registry` export"
              : "a `registry` export that is not a map of node definitions",
          expected: "`export const registry = registryOf([...])` (a NodeRegistry)",
          fix
        })
      )
    })
  )

/** `base` plus `added`, as an Effect that fails on a clash of kind ids. */
const extend = (
  base: NodeLibrary,
  added: NodeRegistry,
  source: string
): Effect.Effect<NodeLibrary, NodeKindClashError> =>
  Result.match(extendRegistry({ registry: base.registry, label: base.origin }, { registry: added, label: source }), {
    onFailure: (e) => Effect.fail(e),
    onSuccess: (registry) =>
      Effect.succeed({
        registry,
        sources: [...base.sources, source],
        origin: (kind) => (added.has(kind) ? source : base.origin(kind))
      })
  })

let cached: NodeLibrary | undefined

/**
 * The built-in node kinds (none when the default library does not exist yet), plus those of the
 * module WB_NODE_LIBRARY names: it adds kinds, it does not replace the built-in ones.
 */
const builtInAndEnv: Effect.Effect<NodeLibrary, DataError | NodeKindClashError> = Effect.suspend(() => {
  if (cached !== undefined) return Effect.succeed(cached)
  const builtIn = packageFile("nodes/index.js")
  const builtInPath = fileURLToPath(builtIn)
  const hasBuiltIn = existsSync(builtInPath) || existsSync(builtInPath.replace(/\.js$/, ".ts"))
  return Effect.gen(function* () {
    const base: NodeLibrary = {
      registry: hasBuiltIn
        ? yield* importRegistry(builtIn.href, `node library ${BUILT_IN}`, "fix nodes/index.ts")
        : new Map(),
      sources: hasBuiltIn ? ["nodes/index.ts"] : [],
      origin: () => BUILT_IN
    }
    const where = nodeLibraryLocation()
    if (!where.custom) return (cached = base)
    const env = `${process.env["WB_NODE_LIBRARY"]} (WB_NODE_LIBRARY)`
    const fix = "point WB_NODE_LIBRARY at a module that exports `registry`"
    if (!where.present) {
      return yield* new DataError({
        where: `node library ${env}`,
        found: "no such file",
        expected: "a module that exports `registry`",
        fix
      })
    }
    return (cached = yield* extend(base, yield* importRegistry(where.url, `node library ${env}`, fix), env))
  })
})

/**
 * Every node kind a pipeline of this project can name: the built-in ones, WB_NODE_LIBRARY's, and
 * the `nodes` of the project's wb.config.ts. A kind id registered twice is a NodeKindClashError.
 */
export const loadNodeLibrary = (project?: ProjectConfig): Effect.Effect<NodeLibrary, DataError | NodeKindClashError> =>
  Effect.flatMap(builtInAndEnv, (library) =>
    project?.config.nodes === undefined
      ? Effect.succeed(library)
      : Result.match(configRegistry(project.config, project.shown ?? "wb.config.ts"), {
          onFailure: (e) => Effect.fail(e),
          onSuccess: (added) => extend(library, added, project.shown ?? "wb.config.ts")
        })
  )
