/**
 * The pipeline builder: `pipeline(name, (p) => { ... })` records nodes and the tables they read.
 * YAML pipelines produce the same `PipelineDefinition`; both are validated by `buildGraph`.
 */
import type { ServicesLayer } from "./config.js"
import type { NodeSpec } from "./node.js"

/** A reference to a node's output table: "node" (its table of the same name, or its main one) or "node.table". */
export interface TableRef {
  readonly node: string
  readonly table?: string
}

export type InputRef = TableRef | string
export type InputBinding = InputRef | ReadonlyArray<InputRef>

export interface PipelineNodeDefinition {
  readonly name: string
  readonly spec: NodeSpec
  readonly inputs: Readonly<Record<string, InputBinding>>
}

export interface PipelineDefinition {
  readonly _tag: "PipelineDefinition"
  readonly name: string
  readonly nodes: ReadonlyArray<PipelineNodeDefinition>
  /** The module that built it: tells which copy of the workbench a pipeline file imported. */
  readonly builtBy?: string
  /** Services its nodes need beyond the core ones, provided with the run's own (`pipeline(name, build, { layer })`). */
  readonly layer?: ServicesLayer
}

/** A mark only this copy of the workbench sets: a pipeline built by another copy (another install) lacks it. */
const THIS_COPY = Symbol("preference-workbench: this copy")

/** What `p.node` returns: a reference to the node, with one property per output table. */
export type NodeHandle<O extends string> = TableRef & { readonly [K in O]: TableRef }

export interface PipelineBuilder {
  node<O extends string>(
    name: string,
    spec: NodeSpec<O>,
    inputs?: Readonly<Record<string, InputBinding | NodeHandle<string>>>
  ): NodeHandle<O>
}

const RESERVED = new Set(["table", "then", "toJSON", "constructor", "valueOf", "toString"])

/**
 * Define a pipeline. Default-export it from a pipeline file and run it with `wb run`. `options.layer`
 * provides services its nodes need (`runPipeline` and wb.config.ts layers are added to it).
 */
export function pipeline(
  name: string,
  build: (p: PipelineBuilder) => void,
  options: { readonly layer?: ServicesLayer } = {}
): PipelineDefinition {
  const nodes: Array<PipelineNodeDefinition> = []
  build({
    node(nodeName, spec, inputs = {}) {
      nodes.push({ name: nodeName, spec, inputs: inputs as Record<string, InputBinding> })
      // one property per declared output table (`hh.votes`); kinds named by string get a lenient proxy
      const outputs = spec.definition === undefined ? undefined : Object.keys(spec.definition.outputs)
      const handle: Record<string, unknown> = { node: nodeName }
      for (const o of outputs ?? []) handle[o] = { node: nodeName, table: o }
      if (outputs !== undefined) return handle as NodeHandle<typeof spec extends NodeSpec<infer O> ? O : never>
      return new Proxy(handle, {
        get: (target, prop) =>
          typeof prop === "string" && !(prop in target) && !RESERVED.has(prop)
            ? { node: nodeName, table: prop }
            : Reflect.get(target, prop)
      }) as NodeHandle<typeof spec extends NodeSpec<infer O> ? O : never>
    }
  })
  const layer = options.layer === undefined ? {} : { layer: options.layer }
  return Object.assign(
    { _tag: "PipelineDefinition" as const, name, nodes, builtBy: import.meta.url, ...layer },
    { [THIS_COPY]: true }
  )
}

/**
 * Whether this copy of the workbench built `def`. Two installs of preference-workbench (a project's
 * own and the `wb` running it) each bring their own Effect: their Schemas and Effects do not mix.
 */
export const builtByThisCopy = (def: PipelineDefinition): boolean =>
  (def as unknown as Record<symbol, unknown>)[THIS_COPY] === true

export const isPipelineDefinition = (u: unknown): u is PipelineDefinition =>
  typeof u === "object" && u !== null && (u as { _tag?: unknown })._tag === "PipelineDefinition"

/** Parse "node" or "node.table". */
export const parseRef = (ref: InputRef): TableRef => {
  if (typeof ref !== "string")
    return typeof ref.table !== "string" ? { node: ref.node } : { node: ref.node, table: ref.table }
  const dot = ref.indexOf(".")
  return dot < 0 ? { node: ref } : { node: ref.slice(0, dot), table: ref.slice(dot + 1) }
}

export const formatRef = (ref: TableRef): string => (ref.table === undefined ? ref.node : `${ref.node}.${ref.table}`)
