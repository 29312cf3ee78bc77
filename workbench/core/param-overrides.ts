/**
 * Param overrides from the command line (`wb run --set clean.threshold=0.9`), data-juicer style: each
 * `node.param=value` replaces one param in the pipeline's definition before the graph is built, so the
 * value goes through the same Schema decode (defaults, checks, messages) as the file's own params and
 * changes the cache key like an edit of the file would.
 *
 * - the value is JSON when it parses as JSON (`0.9`, `true`, `null`, `["a","b"]`, `"0.9"` for the
 *   string), else the text itself (`--set hh.path=data/x.jsonl`);
 * - a nested param is a dotted path (`--set nums.shape.step=2`);
 * - an unknown node or param fails with the names that exist and the closest match.
 *
 * Pure (no I/O): front ends other than the CLI apply the same overrides.
 */
import { Effect } from "effect"
import { didYouMean } from "./did-you-mean.js"
import { DataError } from "./errors.js"
import type { NodeRegistry } from "./node.js"
import { describeParams } from "./params-doc.js"
import type { PipelineDefinition } from "./pipeline.js"

export interface ParamOverride {
  /** As the user wrote it, for messages. */
  readonly text: string
  readonly node: string
  /** The param's path: ["threshold"], or ["shape", "step"] for a nested one. */
  readonly path: ReadonlyArray<string>
  readonly value: unknown
}

const EXAMPLE = "--set clean.threshold=0.9"

/** `node.param=value` as an override, or what is wrong with it. */
export function parseOverride(text: string): ParamOverride | DataError {
  const eq = text.indexOf("=")
  const target = eq < 0 ? text : text.slice(0, eq)
  const segments = target.split(".")
  if (eq < 0 || segments.length < 2 || segments.some((s) => s.trim() === "")) {
    return new DataError({
      where: `--set ${text}`,
      found:
        eq < 0
          ? 'no "=" between the param and its value'
          : `"${target}", which does not name a node and one of its params`,
      expected: `node.param=value (a nested param: node.param.field=value), e.g. ${EXAMPLE}`,
      fix: `write the node's name, a dot, the param's name, "=" and the value, e.g. ${EXAMPLE}`
    })
  }
  const raw = text.slice(eq + 1)
  return { text, node: segments[0]!, path: segments.slice(1), value: parseValue(raw) }
}

/** JSON when the text parses as JSON, else the text: `0.9` is a number, `data/x.jsonl` a string. */
export function parseValue(raw: string): unknown {
  try {
    return JSON.parse(raw)
  } catch {
    return raw
  }
}

/** What is wrong with an override for this pipeline (unknown node or param), or undefined. */
function checkOverride(def: PipelineDefinition, registry: NodeRegistry, o: ParamOverride): DataError | undefined {
  const names = def.nodes.map((n) => n.name)
  const node = def.nodes.find((n) => n.name === o.node)
  if (node === undefined) {
    return new DataError({
      where: `--set ${o.text}`,
      found: `pipeline "${def.name}" has no node "${o.node}"`,
      expected: `one of its nodes: ${names.join(", ")}`,
      fix: didYouMean(o.node, names) || "name a node of the pipeline (`wb ls <file>` lists them)"
    })
  }
  const definition = node.spec.definition ?? registry.get(node.spec.kind)
  // an unknown kind is reported by the graph build, with its own did-you-mean
  if (definition === undefined) return undefined
  const paths = describeParams(definition.params).map((p) => p.path)
  for (let i = 0; i < o.path.length; i++) {
    const parent = o.path.slice(0, i).join(".")
    const level = paths.filter((p) =>
      i === 0 ? !p.includes(".") : p.startsWith(`${parent}.`) && !p.slice(parent.length + 1).includes(".")
    )
    // a record or free-form param has no declared fields below it: the decode judges what is there
    if (i > 0 && level.length === 0) return undefined
    const path = o.path.slice(0, i + 1).join(".")
    if (!level.includes(path)) {
      const short = level.map((p) => p.split(".").pop()!)
      return new DataError({
        where: `--set ${o.text}`,
        found: `node "${o.node}" (${definition.kind}) has no param "${path}"`,
        expected:
          level.length === 0
            ? `a param of ${definition.kind}, which has none`
            : `one of ${i === 0 ? "its params" : `the fields of ${parent}`}: ${level.join(", ")}`,
        fix: `${didYouMean(o.path[i]!, short) || "pick one of them"} (\`wb nodes ${definition.kind}\` lists the params)`
      })
    }
  }
  return undefined
}

/** `params` with the value at `path` replaced; the objects along the path are copied, never changed. */
function withParam(params: unknown, path: ReadonlyArray<string>, value: unknown): unknown {
  if (path.length === 0) return value
  const record =
    typeof params === "object" && params !== null && !Array.isArray(params) ? (params as Record<string, unknown>) : {}
  const [head, ...rest] = path
  return { ...record, [head!]: withParam(record[head!], rest, value) }
}

/**
 * The definition with every override applied, in order (a later one wins on the same param). Fails on
 * the first override that is malformed or names an unknown node or param. `registry` resolves the
 * kinds that YAML pipelines name by string.
 */
export const applyOverrides = (
  def: PipelineDefinition,
  registry: NodeRegistry,
  texts: ReadonlyArray<string>
): Effect.Effect<PipelineDefinition, DataError> =>
  Effect.suspend(() => {
    let out = def
    for (const text of texts) {
      const o = parseOverride(text)
      if (o instanceof DataError) return Effect.fail(o)
      const problem = checkOverride(out, registry, o)
      if (problem !== undefined) return Effect.fail(problem)
      // a spread keeps the definition's own symbol marks (which copy of the workbench built it)
      out = {
        ...out,
        nodes: out.nodes.map((n) =>
          n.name === o.node ? { ...n, spec: { ...n.spec, params: withParam(n.spec.params, o.path, o.value) } } : n
        )
      }
    }
    return Effect.succeed(out)
  })
