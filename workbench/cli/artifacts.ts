/** What the workspace holds for a pipeline's nodes: the artifact matching each node's current cache key, if any. */
import { existsSync, readdirSync } from "node:fs"
import { join } from "node:path"
import type { GraphNode, PipelineGraph } from "../core/graph.js"
import type { Manifest } from "../core/report.js"
import { computeKeys } from "../core/runner.js"
import { artifactDir, readManifest } from "../io/parquet-store.js"

export type CacheState =
  | { readonly _tag: "Cached"; readonly manifest: Manifest }
  | { readonly _tag: "Stale"; readonly previous: Manifest }
  | { readonly _tag: "NotRun" }

export interface NodeArtifacts {
  readonly node: GraphNode
  readonly key: string
  readonly state: CacheState
}

/** Every complete artifact in the workspace, newest first. */
function allManifests(dir: string): Array<Manifest> {
  const root = join(dir, "artifacts")
  if (!existsSync(root)) return []
  return readdirSync(root)
    .map((key) => readManifest(dir, key))
    .filter((m): m is Manifest => m !== undefined)
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
}

/** Each node's cache state: cached (its current key has an artifact), stale (only older ones), or not run. */
export function cacheStates(graph: PipelineGraph, root: string, dir: string): Array<NodeArtifacts> {
  const keys = computeKeys(graph, root)
  let manifests: Array<Manifest> | undefined
  return graph.nodes.map((node) => {
    const key = keys.get(node.name)!
    const current = readManifest(dir, key)
    if (current !== undefined) return { node, key, state: { _tag: "Cached", manifest: current } }
    manifests ??= allManifests(dir)
    const previous = manifests.find((m) => m.node === node.name && m.kind === node.definition.kind)
    return { node, key, state: previous === undefined ? { _tag: "NotRun" } : { _tag: "Stale", previous } }
  })
}

/** The main table of an artifact: the one with role "main", else the first. */
export const mainTable = (m: Manifest): string | undefined =>
  Object.keys(m.tables).find((t) => m.tables[t]!.role === "main") ?? Object.keys(m.tables)[0]

export const tableFile = (dir: string, m: Manifest, table: string): string =>
  join(artifactDir(dir, m.key), m.tables[table]!.file)
