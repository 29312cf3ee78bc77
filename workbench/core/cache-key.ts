/** Content addresses for artifacts: a hash of what determines a node's output. */
import { createHash } from "node:crypto"
import type { GraphNode, PipelineGraph } from "./graph.js"
import type { Manifest } from "./report.js"

/** JSON with object keys sorted, so equal values always give equal text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null"
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`
}

/**
 * What a node's key is made of. `inputs` holds, per input name, each table read: its name and its
 * content (the `sha256:` hash of the upstream artifact's Parquet file), not the upstream's key. That is
 * early cutoff, as in Bazel and Shake: an upstream that re-runs (a param change, `--from`) and writes the
 * same bytes leaves every downstream key as it was, so nothing below it re-runs. Source nodes have no
 * inputs; their key is kind, version, params and fingerprint alone.
 */
export interface CacheKeyParts {
  readonly kind: string
  readonly version: number
  readonly params: unknown
  readonly inputs: Readonly<Record<string, ReadonlyArray<InputContent>>>
  readonly fingerprint: string
  /** A sample run's size (`wb run --sample N`, sources only), so sampled artifacts never pass for full ones. */
  readonly sample?: number
}

/** One table a node reads, as its key sees it. */
export interface InputContent {
  readonly table: string
  /** The upstream file's content hash (`sha256:<hex>`); `key:<upstream key>` for a manifest without one. */
  readonly content: string
}

/** 24 hex digits of sha256 over the canonical parts (96 bits: collisions are not a practical concern). */
export const cacheKey = (parts: CacheKeyParts): string =>
  createHash("sha256").update(canonicalJson(parts)).digest("hex").slice(0, 24)

/** A node's own part of its cache key (kind, version, params, fingerprint, sample): all but its inputs. */
export type Recipe = Omit<CacheKeyParts, "inputs">

/**
 * Every node's recipe, known before anything runs (fingerprints read the files loaders will read).
 * `workspace`: the workspace directory, where fingerprints remember file hashes between runs.
 */
export function computeRecipes(
  graph: PipelineGraph,
  root: string,
  workspace?: string,
  sample?: number
): Map<string, Recipe> {
  const recipes = new Map<string, Recipe>()
  for (const node of graph.nodes) {
    let fingerprint = ""
    try {
      fingerprint = node.definition.fingerprint?.(node.params, root, workspace ?? "") ?? ""
    } catch (e) {
      fingerprint = `unreadable: ${String(e)}` // the node's own run reports the problem properly
    }
    const size = sampled(node, sample)
    recipes.set(node.name, {
      kind: node.definition.kind,
      version: node.definition.version,
      params: recordedParams(node),
      fingerprint,
      ...(size === undefined ? {} : { sample: size })
    })
  }
  return recipes
}

/**
 * A node's cache key, once its upstream artifacts are known (`manifestOf`: each upstream node's): its
 * recipe and, per input, each table read by its content hash rather than its producer's key, so an
 * upstream that re-ran and wrote the same bytes gives the same key (early cutoff). A source node's key
 * is its recipe alone (the same key as before early cutoff existed).
 */
export function nodeKey(node: GraphNode, recipe: Recipe, manifestOf: (node: string) => Manifest | undefined): string {
  const inputs = Object.fromEntries(
    Object.entries(node.inputs).map(
      ([name, refs]) =>
        [
          name,
          refs.map((r): InputContent => {
            const m = manifestOf(r.node)
            // a manifest always records hashes since artifact integrity (an older one is treated as damaged
            // and recomputed): the key fallback only keeps the key well defined
            return { table: r.table, content: m?.tables[r.table]?.hash ?? `key:${m?.key ?? "?"}` }
          })
        ] as const
    )
  )
  return cacheKey({ ...recipe, inputs })
}

/** What the manifest records of each input: the artifact read (lineage) and its file's content hash (the key's part). */
export const inputRecord = (node: GraphNode, manifestOf: (node: string) => Manifest | undefined) =>
  Object.fromEntries(
    Object.entries(node.inputs).map(
      ([name, refs]) =>
        [
          name,
          refs.map((r) => {
            const m = manifestOf(r.node)
            const hash = m?.tables[r.table]?.hash
            return { key: m?.key ?? "?", table: r.table, ...(hash === undefined ? {} : { hash }) }
          })
        ] as const
    )
  )

/** The sample size a node runs with: sources only (downstream nodes see sampled tables, and their keys follow their inputs'). */
export const sampled = (node: GraphNode, sample: number | undefined): number | undefined =>
  sample !== undefined && Object.keys(node.inputs).length === 0 ? sample : undefined

/** The params as the key and the manifest hold them: `keyParams` stands in for values that are not data (an in-memory table). */
export const recordedParams = (node: GraphNode): unknown =>
  node.definition.keyParams === undefined ? node.params : node.definition.keyParams(node.params)
