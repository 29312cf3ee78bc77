/**
 * What the workspace holds for a pipeline's nodes: the artifact matching each node's current cache key,
 * if any. A node's key hashes the content of the tables it reads (early cutoff), so it is known only
 * when every upstream node is cached; below an upstream that must run first, a node waits.
 */
import { existsSync, readdirSync } from "node:fs"
import { join } from "node:path"
import type { GraphNode, PipelineGraph } from "../../core/graph.js"
import type { Manifest } from "../../core/report.js"
import { computeRecipes, nodeKey } from "../../core/cache-key.js"
import { checkArtifactSync } from "../artifact-integrity.js"
import { artifactDir, readManifest, readManifestFile } from "../parquet-store.js"

export type CacheState =
  | { readonly _tag: "Cached"; readonly manifest: Manifest }
  /** A file of its artifact does not match the size or content hash the manifest records: never read. */
  | { readonly _tag: "Damaged"; readonly problem: string }
  | { readonly _tag: "Stale"; readonly previous: Manifest }
  /**
   * Its own key cannot be known yet: the `upstream` nodes it reads are not cached, so they run first,
   * and this node re-runs only if what they write differs from what its `previous` artifact read.
   */
  | { readonly _tag: "Upstream"; readonly upstream: ReadonlyArray<string>; readonly previous: Manifest }
  | { readonly _tag: "NotRun" }

export interface NodeArtifacts {
  readonly node: GraphNode
  /** Its cache key; undefined while an upstream node is not cached (the key hashes what that node writes). */
  readonly key: string | undefined
  readonly state: CacheState
}

/** Every complete artifact in the workspace, newest first. */
export function listArtifacts(dir: string): Array<Manifest> {
  const root = join(dir, "artifacts")
  if (!existsSync(root)) return []
  return readdirSync(root)
    .map((key) => readManifest(dir, key))
    .filter((m): m is Manifest => m !== undefined)
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
}

/**
 * Each node's cache state, in run order: cached (its current key has an intact artifact), damaged, stale
 * (only older ones), waiting on an upstream node that is not cached (stale or not run, by whether it has
 * an older artifact), or not run. `sample`: as `wb run --sample N` keys its sources.
 */
export function cacheStates(graph: PipelineGraph, root: string, dir: string, sample?: number): Array<NodeArtifacts> {
  const recipes = computeRecipes(graph, root, dir, sample)
  const cached = new Map<string, Manifest>()
  let manifests: Array<Manifest> | undefined
  const previousOf = (node: GraphNode) =>
    (manifests ??= listArtifacts(dir)).find((m) => m.node === node.name && m.kind === node.definition.kind)
  return graph.nodes.map((node): NodeArtifacts => {
    const waiting = [
      ...new Set(
        Object.values(node.inputs)
          .flat()
          .map((r) => r.node)
      )
    ].filter((p) => !cached.has(p))
    if (waiting.length > 0) {
      const previous = previousOf(node)
      return {
        node,
        key: undefined,
        state: previous === undefined ? { _tag: "NotRun" } : { _tag: "Upstream", upstream: waiting, previous }
      }
    }
    const key = nodeKey(node, recipes.get(node.name)!, (p) => cached.get(p))
    const state = stateOf(dir, key, () => previousOf(node))
    if (state._tag === "Cached") cached.set(node.name, state.manifest)
    return { node, key, state }
  })
}

/**
 * Why a node waits on `upstream` (its Upstream state), each by its own state, for messages:
 * `"clean" (its artifact is damaged)`. Not "its params changed" for every case: a damaged or removed
 * artifact changes nothing the node reads, and a run may well leave it cached.
 */
export function waitingFor(states: ReadonlyArray<NodeArtifacts>, upstream: ReadonlyArray<string>): string {
  const why = (state: CacheState | undefined) =>
    state?._tag === "Damaged"
      ? "its artifact is damaged"
      : state?._tag === "Stale"
        ? "its params or inputs changed since it ran"
        : state?._tag === "Upstream"
          ? "it waits on its own upstream"
          : "it has no artifact: it has not run, or its artifact was removed"
  return upstream.map((u) => `"${u}" (${why(states.find((s) => s.node.name === u)?.state)})`).join(", ")
}

/** The state of a node whose key is known. */
function stateOf(dir: string, key: string, previousOf: () => Manifest | undefined): CacheState {
  const current = readManifestFile(dir, key)
  if (current === "unreadable") {
    return { _tag: "Damaged", problem: "manifest.json is not a valid manifest (not JSON, or without its tables)" }
  }
  if (current !== undefined) {
    // sizes always; content hashes of files whose mtime moved (wb run records the new mtime once verified)
    const check = checkArtifactSync(artifactDir(dir, key), current, false)
    return check._tag === "Intact" ? { _tag: "Cached", manifest: current } : { _tag: "Damaged", problem: check.problem }
  }
  const previous = previousOf()
  return previous === undefined ? { _tag: "NotRun" } : { _tag: "Stale", previous }
}

/** The main table of an artifact: the one with role "main", else the first. */
export const mainTable = (m: Manifest): string | undefined =>
  Object.keys(m.tables).find((t) => m.tables[t]!.role === "main") ?? Object.keys(m.tables)[0]

export const tableFile = (dir: string, m: Manifest, table: string): string =>
  join(artifactDir(dir, m.key), m.tables[table]!.file)

/** One step of an artifact's lineage: an input it was computed from. */
export interface LineageStep {
  /** The artifact that read the input. */
  readonly key: string
  readonly input: string
  readonly inputKey: string
  readonly inputTable: string
  /** The content hash of the table read, which the artifact's key was computed from (absent in older manifests). */
  readonly inputHash?: string
  /** The input's artifact, when the workspace still holds it. */
  readonly from?: Manifest
}

/** Everything artifact `key` was computed from, breadth first (nearest inputs first), each artifact once. */
export function lineage(dir: string, key: string): Array<LineageStep> {
  const steps: Array<LineageStep> = []
  const seen = new Set([key])
  const queue = [key]
  while (queue.length > 0) {
    const current = queue.shift()!
    const manifest = readManifest(dir, current)
    for (const [input, refs] of Object.entries(manifest?.inputs ?? {})) {
      for (const ref of refs) {
        const from = readManifest(dir, ref.key)
        steps.push({
          key: current,
          input,
          inputKey: ref.key,
          inputTable: ref.table,
          ...(ref.hash === undefined ? {} : { inputHash: ref.hash }),
          ...(from === undefined ? {} : { from })
        })
        if (!seen.has(ref.key)) {
          seen.add(ref.key)
          queue.push(ref.key)
        }
      }
    }
  }
  return steps
}
