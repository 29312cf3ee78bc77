/**
 * The run's preconditions and the contract checks on real tables: a `--only` / `--from` that names
 * known nodes, input columns as the node's contract requires, output columns as it promised.
 */
import { Effect } from "effect"
import { isAssignable } from "./column-type.js"
import { didYouMean } from "./did-you-mean.js"
import { DataError } from "./errors.js"
import { type GraphNode, type PipelineGraph, upstreamOf } from "./graph.js"
import { inputContract } from "./node.js"
import type { RunOptions } from "./runner.js"
import type { SqlShape } from "./services.js"

/** Check `--only` / `--from` before starting anything: known names, and a --from that --only runs. */
export const checkSelection = (graph: PipelineGraph, options: RunOptions) =>
  Effect.forEach(
    [
      ["only", options.only],
      ["from", options.from]
    ] as const,
    ([flag, name]) => {
      const names = graph.nodes.map((n) => n.name)
      return name === undefined || names.includes(name)
        ? Effect.void
        : Effect.fail(
            new DataError({
              where: `--${flag} ${name}`,
              found: `pipeline "${graph.name}" has no node "${name}"`,
              expected: `one of: ${names.join(", ")}`,
              fix: didYouMean(name, names) || "pick a node name from `wb ls <file>`"
            })
          )
    },
    { discard: true }
  ).pipe(
    Effect.andThen(
      Effect.suspend(() => {
        if (options.only === undefined || options.from === undefined) return Effect.void
        const runs = [...upstreamOf(graph, options.only)]
        return runs.includes(options.from)
          ? Effect.void
          : Effect.fail(
              new DataError({
                where: `--only ${options.only} --from ${options.from}`,
                found: `"${options.from}" is not among the nodes --only ${options.only} runs (${runs.join(", ")})`,
                expected: "a --from node that --only selects, so that it can be re-run",
                fix: `drop one of the two flags, or pick --from among: ${runs.join(", ")}`
              })
            )
      })
    )
  )

/** The real input table has the columns (and types) the node's contract requires. */
export const checkRealColumns = (
  node: GraphNode,
  input: string,
  columns: ReadonlyArray<{ name: string; type: string }>
) => {
  const contract = inputContract(node.definition, input)!
  for (const [column, expected] of Object.entries(contract.required)) {
    const found = columns.find((c) => c.name === column)
    if (found === undefined || !isAssignable(found.type, expected)) {
      return Effect.fail(
        new DataError({
          where: `node "${node.name}" (${node.definition.kind}) input "${input}"`,
          found:
            found === undefined
              ? `no column ${column}; the table has: ${columns.map((c) => `${c.name} (${c.type})`).join(", ")}`
              : `column ${column} is ${found.type}`,
          expected: `column ${column} (${expected})`,
          fix: `produce ${column} upstream, or map a source column onto it`
        })
      )
    }
  }
  return Effect.void
}

/** The table a node returned has the columns it promised: a node breaking its own contract is a bug. */
export const checkOutput = (node: GraphNode, table: string, sql: SqlShape, relation: string) =>
  Effect.gen(function* () {
    const real = yield* sql.describe(relation)
    for (const c of node.outputs[table]?.columns ?? []) {
      const found = real.columns.find((r) => r.name === c.name)
      if (found === undefined || !isAssignable(found.type, c.type)) {
        return yield* Effect.die(
          new Error(
            `node kind ${node.definition.kind} broke its own output contract: table ${table} column ${c.name} ` +
              `should be ${c.type}, found ${found?.type ?? "nothing"}`
          )
        )
      }
    }
  })
