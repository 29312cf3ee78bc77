/**
 * The node library, loaded at runtime by path so the CLI names no specific node: `nodes/index.ts`
 * (its `registry` export), or the module `WB_NODE_LIBRARY` points at. Until the library exists,
 * the registry is empty; TS pipelines carry their own node definitions and do not need it.
 */
import { Effect } from "effect"
import { existsSync } from "node:fs"
import { resolve } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { DataError } from "../core/errors.js"
import type { NodeRegistry } from "../core/node.js"
import { packageFile } from "../core/package-root.js"


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

let cached: NodeRegistry | undefined

/** The registry of node kinds (empty when the default library does not exist yet). */
export const loadNodeLibrary: Effect.Effect<NodeRegistry, DataError> = Effect.suspend(() => {
  if (cached !== undefined) return Effect.succeed<NodeRegistry>(cached)
  const where = nodeLibraryLocation()
  const label = where.custom ? `node library ${process.env["WB_NODE_LIBRARY"]} (WB_NODE_LIBRARY)` : "node library nodes/index.ts"
  const fix = where.custom ? "point WB_NODE_LIBRARY at a module that exports `registry`" : "fix nodes/index.ts"
  if (!where.present) {
    if (!where.custom) return Effect.succeed<NodeRegistry>(cached = new Map())
    return Effect.fail(new DataError({ where: label, found: "no such file", expected: "a module that exports `registry`", fix }))
  }
  return Effect.tryPromise({
    try: () => import(where.url) as Promise<Record<string, unknown>>,
    catch: (e) => new DataError({
      where: label,
      found: `importing it failed: ${e instanceof Error ? e.message : String(e)}`,
      expected: "a module that loads without errors",
      fix
    })
  }).pipe(Effect.flatMap((mod) => {
    const registry = mod["registry"]
    if (isRegistry(registry)) return Effect.succeed(cached = registry)
    return Effect.fail(new DataError({
      where: label,
      found: registry === undefined ? "no `registry` export" : "a `registry` export that is not a map of node definitions",
      expected: "`export const registry = registryOf([...])` (a NodeRegistry)",
      fix
    }))
  }))
})
