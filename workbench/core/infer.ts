/**
 * The infer phase: output schemas only the table engine can tell, worked out after the graph is built
 * and before anything runs. `buildGraph` stays synchronous and engine-free: a kind whose columns depend
 * on what its params say in SQL (transform.sql) declares an open output there, and an `inferOutputs`
 * hook. This phase walks the graph in order, asks each such node with what is known of its inputs (on a
 * `SchemaProbe`: empty tables under the input names, so it can DESCRIBE its query), re-derives every
 * downstream output schema from the refined ones and checks again each input contract whose upstream
 * schema changed, so a wrong column anywhere fails before anything runs.
 *
 * Where it runs: `wb validate` (with a standalone probe, opened only when a hook asks) and `runGraph`
 * (the run's layer provides one), before the run starts. Without a SchemaProbe the graph stays as
 * built; the nodes still check their SQL when they run.
 */
import { Effect, Option, Result } from "effect"
import { type TableSchema, unionSchemas } from "./contract.js"
import { type DefinitionError, NodeCheckError, PipelineInvalidError } from "./errors.js"
import { checkContract, type GraphNode, type PipelineGraph } from "./graph.js"
import { SchemaProbe } from "./services.js"

/** Whether any node of the graph has an `inferOutputs` hook (else the phase has nothing to do). */
export const needsInference = (graph: PipelineGraph): boolean =>
  graph.nodes.some((n) => n.definition.inferOutputs !== undefined)

const unknownTable: TableSchema = { columns: [], open: true }
const sameSchema = (a: TableSchema | undefined, b: TableSchema | undefined) => JSON.stringify(a) === JSON.stringify(b)

/** A node's note on what only its run can check. */
export interface InferNote {
  readonly node: string
  readonly kind: string
  readonly text: string
}

export interface InferredGraph {
  readonly graph: PipelineGraph
  readonly notes: ReadonlyArray<InferNote>
}

/**
 * The graph with refined output schemas and the nodes' notes, or PipelineInvalidError with every
 * problem the phase found.
 */
export const inferSchemas = (graph: PipelineGraph) =>
  Effect.gen(function* () {
    const notes: Array<InferNote> = []
    if (!needsInference(graph)) return { graph, notes } satisfies InferredGraph
    const probe = yield* Effect.serviceOption(SchemaProbe)
    if (Option.isNone(probe)) return { graph, notes } satisfies InferredGraph
    const built = new Map(graph.nodes.map((n) => [n.name, n]))
    const schemas = new Map<string, Readonly<Record<string, TableSchema>>>()
    const problems: Array<DefinitionError> = []
    const nodes: Array<GraphNode> = []
    for (const node of graph.nodes) {
      const known: Record<string, TableSchema> = {}
      const before = problems.length
      for (const [inputName, refs] of Object.entries(node.inputs)) {
        const upstream = refs.map((r) => schemas.get(r.node)?.[r.table] ?? unknownTable)
        known[inputName] = unionSchemas(upstream)
        refs.forEach((r, i) => {
          // an unchanged schema was checked when the graph was built
          if (sameSchema(upstream[i], built.get(r.node)?.outputs[r.table])) return
          checkContract(problems, node.name, node.definition, inputName, r, built.get(r.node)!.definition, upstream[i]!)
        })
      }
      let outputs: Record<string, TableSchema> = Object.fromEntries(
        Object.entries(node.definition.outputs).map(([t, c]) => [t, c.schema(known)] as const)
      )
      // a node whose inputs already break its contract is not asked: its own check would only repeat that
      if (node.definition.inferOutputs !== undefined && problems.length === before) {
        const inferred = yield* Effect.result(
          node.definition
            .inferOutputs({
              node: node.name,
              kind: node.definition.kind,
              params: node.params,
              inputs: known
            })
            .pipe(Effect.provideService(SchemaProbe, probe.value))
        )
        if (Result.isSuccess(inferred)) {
          outputs = { ...outputs, ...(inferred.success.outputs as Record<string, TableSchema> | undefined) }
          for (const text of inferred.success.notes ?? [])
            notes.push({ node: node.name, kind: node.definition.kind, text })
        } else {
          const e = inferred.failure
          problems.push(
            e._tag === "DataError"
              ? new NodeCheckError({
                  node: node.name,
                  kind: node.definition.kind,
                  where: e.where,
                  found: e.found,
                  expected: e.expected,
                  fix: e.fix
                })
              : new NodeCheckError({
                  node: node.name,
                  kind: node.definition.kind,
                  where: "output columns",
                  found: `the table engine failed: ${e.reason}`,
                  expected: "a query the engine can describe",
                  fix: "correct the node's params; if they are right, this is a bug in wb"
                })
          )
        }
      }
      schemas.set(node.name, outputs)
      nodes.push({ ...node, outputs })
    }
    if (problems.length > 0) return yield* Effect.fail(new PipelineInvalidError({ pipeline: graph.name, problems }))
    return { graph: { ...graph, nodes }, notes } satisfies InferredGraph
  })
