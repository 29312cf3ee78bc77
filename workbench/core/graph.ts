/**
 * Build and validate a pipeline's graph before anything runs: names, node kinds, params, input
 * references, cycles, and table contracts checked against what upstream nodes promise.
 * Every problem found is reported at once.
 */
import { Effect, Result } from "effect"
import { isAssignable } from "./column-type.js"
import { type ColumnSpec, findColumn, type TableSchema, unionSchemas } from "./contract.js"
import {
  ColumnMissingError,
  ColumnTypeError,
  CycleError,
  type DefinitionError,
  DuplicateNodeError,
  InputArityError,
  InputMissingError,
  InputNameError,
  NodeCheckError,
  NodeNameError,
  ParamDecodeError,
  PipelineInvalidError,
  ServiceMissingError,
  UnknownInputError,
  UnknownNodeKindError
} from "./errors.js"
import { didYouMean } from "./did-you-mean.js"
import { inputContract, type NodeDefinition, type NodeRegistry } from "./node.js"
import { decodeParams } from "./params.js"
import { formatRef, parseRef, type PipelineDefinition, type TableRef } from "./pipeline.js"
import { ExportFiles } from "./export-files.js"
import { sameFileProblems } from "./file-writers.js"
import { Progress, Sql, Workspace } from "./services.js"

export interface ResolvedRef {
  readonly node: string
  readonly table: string
}

export interface GraphNode {
  readonly name: string
  readonly definition: NodeDefinition
  readonly params: unknown
  readonly inputs: Readonly<Record<string, ReadonlyArray<ResolvedRef>>>
  /** Output schemas as far as they are known before running. */
  readonly outputs: Readonly<Record<string, TableSchema>>
}

export interface PipelineGraph {
  readonly name: string
  /** In a topological order: every node after the nodes it reads. */
  readonly nodes: ReadonlyArray<GraphNode>
}

const NAME = /^[A-Za-z][A-Za-z0-9_-]*$/

/** The output a reference without a table name means: the same-named table, else the main one. */
export function defaultTable(definition: NodeDefinition, inputName: string): string {
  const names = Object.keys(definition.outputs)
  if (names.includes(inputName)) return inputName
  return names.find((n) => definition.outputs[n]!.role === "main") ?? names[0] ?? inputName
}

export interface BuildOptions {
  /**
   * Keys of the services the run will provide beyond the core ones. Default: those of the context
   * `buildGraph` runs in (so under `Effect.provide(layer)`, the layer's). "any": do not check (for
   * commands that inspect a pipeline without running it).
   */
  readonly services?: ReadonlySet<string> | "any"
}

/** The services every run provides: a node never has to be given these. */
export const coreServiceKeys: ReadonlySet<string> = new Set([Sql.key, Progress.key, Workspace.key, ExportFiles.key])

/** The keys of the services in the context this runs in. */
export const providedServiceKeys: Effect.Effect<ReadonlySet<string>> = Effect.map(
  Effect.context<never>(),
  (context) => new Set(context.mapUnsafe.keys())
)

/** A node's `requires` that neither the core nor `provided` covers, as definition problems. */
export function missingServices(
  node: string,
  definition: NodeDefinition,
  provided: ReadonlySet<string>
): Array<ServiceMissingError> {
  return (definition.requires ?? [])
    .filter((s) => !coreServiceKeys.has(s.key) && !provided.has(s.key))
    .map((s) => {
      // a Context.Service class is a function named after the class; a function-style key has no name
      const named: unknown = s
      const name = typeof named === "function" && named.name !== "" ? named.name : s.key
      return new ServiceMissingError({ node, kind: definition.kind, service: name, key: s.key })
    })
}

/**
 * Refuse a built graph whose nodes need services that the context this runs in does not provide: the
 * runner's own check, before anything starts (the graph may have been built without the run's layer).
 */
export const checkServices = (graph: PipelineGraph) =>
  Effect.flatMap(providedServiceKeys, (provided) => {
    const problems = graph.nodes.flatMap((n) => missingServices(n.name, n.definition, provided))
    return problems.length === 0
      ? Effect.void
      : Effect.fail(new PipelineInvalidError({ pipeline: graph.name, problems }))
  })

/**
 * Outputs declared `outputLike(…, input)` for an input the kind does not declare: a typo there would
 * give the output no known columns and leave everything downstream unchecked. (TypeScript refuses it
 * already; this catches kinds written in plain JavaScript.) A kind with `otherInputs` takes any name.
 */
function outputLikeProblems(node: string, definition: NodeDefinition): Array<DefinitionError> {
  if (definition.otherInputs !== undefined) return []
  const inputs = Object.keys(definition.inputs)
  return Object.entries(definition.outputs).flatMap(([table, c]) => {
    if (c.like === undefined || Object.hasOwn(definition.inputs, c.like)) return []
    const hint = didYouMean(c.like, inputs)
    return [
      new NodeCheckError({
        node,
        kind: definition.kind,
        where: `output "${table}"`,
        found: `declared outputLike(…, "${c.like}"), but the kind has no input "${c.like}"`,
        expected:
          inputs.length === 0
            ? "no outputLike: the kind has no inputs (use output(role, columns))"
            : `an input of the kind: ${inputs.join(", ")}`,
        fix: `correct the input name in outputLike in the definition of ${definition.kind}${hint === "" ? "" : `: ${hint}`}`
      })
    ]
  })
}

export const buildGraph = (def: PipelineDefinition, registry: NodeRegistry = new Map(), options: BuildOptions = {}) =>
  Effect.flatMap(
    options.services === undefined ? providedServiceKeys : Effect.succeed(options.services),
    (services) => {
      const problems: Array<DefinitionError> = []
      const defs = new Map<string, { definition: NodeDefinition; params: unknown }>()
      const seen = new Set<string>()
      for (const n of def.nodes) {
        if (seen.has(n.name)) problems.push(new DuplicateNodeError({ node: n.name }))
        seen.add(n.name)
        if (!NAME.test(n.name)) problems.push(new NodeNameError({ node: n.name }))
        const definition = n.spec.definition ?? registry.get(n.spec.kind)
        if (definition === undefined) {
          problems.push(
            new UnknownNodeKindError({ node: n.name, kind: n.spec.kind, known: [...registry.keys()].sort() })
          )
          continue
        }
        const decoded = decodeParams(definition.params, n.spec.params)
        if (Result.isFailure(decoded)) {
          problems.push(new ParamDecodeError({ node: n.name, kind: definition.kind, issues: decoded.failure }))
        }
        if (services !== "any") problems.push(...missingServices(n.name, definition, services))
        problems.push(...outputLikeProblems(n.name, definition))
        if (!defs.has(n.name))
          defs.set(n.name, { definition, params: Result.isSuccess(decoded) ? decoded.success : undefined })
      }

      // two nodes writing one file would replace each other's on every run
      problems.push(...sameFileProblems([...defs].map(([name, d]) => ({ name, ...d }))))

      // Resolve input references.
      const available = def.nodes.flatMap((n) => {
        const d = defs.get(n.name)?.definition
        return [n.name, ...(d === undefined ? [] : Object.keys(d.outputs).map((t) => `${n.name}.${t}`))]
      })
      const inputs = new Map<string, Record<string, Array<ResolvedRef>>>()
      for (const n of def.nodes) {
        const d = defs.get(n.name)
        if (d === undefined) continue
        const resolved: Record<string, Array<ResolvedRef>> = {}
        for (const [inputName, binding] of Object.entries(n.inputs)) {
          if (inputContract(d.definition, inputName) === undefined) {
            problems.push(
              new InputNameError({
                node: n.name,
                kind: d.definition.kind,
                input: inputName,
                accepted: Object.keys(d.definition.inputs)
              })
            )
            continue
          }
          const refs = (Array.isArray(binding) ? binding : [binding]) as ReadonlyArray<TableRef | string>
          resolved[inputName] = []
          for (const raw of refs) {
            const ref = parseRef(raw)
            const producer = defs.get(ref.node)?.definition
            const known = producer !== undefined || def.nodes.some((m) => m.name === ref.node)
            if (!known || (producer !== undefined && ref.table !== undefined && !(ref.table in producer.outputs))) {
              problems.push(
                new UnknownInputError({ node: n.name, input: inputName, reference: formatRef(ref), available })
              )
              continue
            }
            if (producer === undefined) continue // its own problem is already reported
            resolved[inputName].push({ node: ref.node, table: ref.table ?? defaultTable(producer, inputName) })
          }
        }
        // declared inputs, then those a kind with `otherInputs` takes under names the pipeline chose
        const others =
          d.definition.otherInputs === undefined
            ? []
            : Object.keys(resolved).filter((k) => !Object.hasOwn(d.definition.inputs, k))
        for (const [inputName, contract] of [
          ...Object.entries(d.definition.inputs),
          ...others.map((k) => [k, d.definition.otherInputs!] as const)
        ]) {
          const count = n.inputs[inputName] === undefined ? 0 : (resolved[inputName]?.length ?? 1)
          if (n.inputs[inputName] === undefined && contract.optionalInput !== true) {
            problems.push(new InputMissingError({ node: n.name, kind: d.definition.kind, input: inputName }))
          } else if (count > 1 && contract.many !== true) {
            problems.push(new InputArityError({ node: n.name, kind: d.definition.kind, input: inputName, count }))
          }
        }
        inputs.set(n.name, resolved)
      }

      const order = topologicalOrder(
        def.nodes.map((n) => n.name),
        (name) =>
          Object.values(inputs.get(name) ?? {})
            .flat()
            .map((r) => r.node)
      )
      if (order._tag === "Cycle") problems.push(new CycleError({ path: order.path }))

      const nodes: Array<GraphNode> = []
      if (order._tag === "Order") {
        const schemas = new Map<string, Readonly<Record<string, TableSchema>>>()
        for (const name of order.order) {
          const d = defs.get(name)
          const ins = inputs.get(name)
          if (d === undefined || ins === undefined) continue
          const known: Record<string, TableSchema | undefined> = {}
          for (const [inputName, refs] of Object.entries(ins)) {
            const upstream = refs.map((r) => schemas.get(r.node)?.[r.table] ?? { columns: [], open: true })
            known[inputName] = unionSchemas(upstream)
            refs.forEach((r, i) =>
              checkContract(problems, name, d.definition, inputName, r, defs.get(r.node)!.definition, upstream[i]!)
            )
          }
          const outputs = Object.fromEntries(
            Object.entries(d.definition.outputs).map(([t, c]) => [t, c.schema(known)] as const)
          )
          schemas.set(name, outputs)
          nodes.push({ name, definition: d.definition, params: d.params, inputs: ins, outputs })
        }
      }
      return problems.length > 0
        ? Effect.fail(new PipelineInvalidError({ pipeline: def.name, problems }))
        : Effect.succeed<PipelineGraph>({ name: def.name, nodes })
    }
  )

/** Check one upstream table feeding `inputName` against the input's contract; problems are appended. */
export function checkContract(
  problems: Array<DefinitionError>,
  node: string,
  definition: NodeDefinition,
  inputName: string,
  ref: ResolvedRef,
  producer: NodeDefinition,
  schema: TableSchema
) {
  const contract = inputContract(definition, inputName)!
  const from = `"${ref.node}" (${producer.kind}), whose ${ref.table} table`
  const missing: Array<ColumnSpec> = []
  for (const [column, expected] of Object.entries({ ...contract.required, ...contract.optional })) {
    const found = findColumn(schema, column)
    if (found === undefined) {
      if (column in contract.required && !schema.open) missing.push({ name: column, type: expected })
    } else if (!isAssignable(found.type, expected)) {
      problems.push(
        new ColumnTypeError({
          node,
          kind: definition.kind,
          input: inputName,
          column,
          expected,
          found: found.type,
          producer: from
        })
      )
    }
  }
  if (missing.length > 0) {
    problems.push(
      new ColumnMissingError({
        node,
        kind: definition.kind,
        input: inputName,
        missing,
        producer: from,
        available: schema.columns
      })
    )
  }
}

/** Kahn's order, or the first cycle found (as a closed path). */
export function topologicalOrder(
  names: ReadonlyArray<string>,
  parentsOf: (name: string) => ReadonlyArray<string>
):
  | { readonly _tag: "Order"; readonly order: Array<string> }
  | { readonly _tag: "Cycle"; readonly path: Array<string> } {
  const state = new Map<string, "visiting" | "done">()
  const order: Array<string> = []
  const stack: Array<string> = []
  const visit = (name: string): Array<string> | undefined => {
    if (state.get(name) === "done") return undefined
    if (state.get(name) === "visiting") return [...stack.slice(stack.indexOf(name)), name]
    state.set(name, "visiting")
    stack.push(name)
    for (const p of parentsOf(name)) {
      if (!names.includes(p)) continue
      const cycle = visit(p)
      if (cycle !== undefined) return cycle
    }
    stack.pop()
    state.set(name, "done")
    order.push(name)
    return undefined
  }
  for (const n of names) {
    const cycle = visit(n)
    // parents were pushed while walking upward, so the path runs consumer -> producer; flip it
    if (cycle !== undefined) return { _tag: "Cycle", path: cycle.reverse() }
  }
  return { _tag: "Order", order }
}

/** Names of `start` and everything upstream of it. */
export function upstreamOf(graph: PipelineGraph, start: string): Set<string> {
  const byName = new Map(graph.nodes.map((n) => [n.name, n]))
  const out = new Set<string>()
  const walk = (name: string) => {
    if (out.has(name)) return
    out.add(name)
    for (const refs of Object.values(byName.get(name)?.inputs ?? {})) for (const r of refs) walk(r.node)
  }
  walk(start)
  return out
}

/** Names of `start` and everything downstream of it. */
export function downstreamOf(graph: PipelineGraph, start: string): Set<string> {
  const out = new Set<string>([start])
  for (const n of graph.nodes) {
    if (
      Object.values(n.inputs)
        .flat()
        .some((r) => out.has(r.node))
    )
      out.add(n.name)
  }
  return out
}
