/** Run a node definition on inline DuckDB tables (a real in-memory DuckDB) and read back its outputs. */
import { Effect, Schema } from "effect"
import type { NodeDefinition, NodeKind } from "../../workbench/core/node.js"
import { Sql } from "../../workbench/core/services.js"
import { inputTable, runWithSql } from "../support/sql.js"

export type Row = Record<string, unknown>

/**
 * Create the tables of `setup` (SQL), hand `inputs` (input name → table name) to the node's run with
 * `params` decoded by its schema, and return its stats and every output table's rows (in table order).
 */
export const runNode = (
  kind: NodeKind<any, any, any, any, any>,
  setup: string,
  inputs: Readonly<Record<string, string>>,
  params: unknown = {}
) =>
  runWithSql(
    Effect.gen(function* () {
      const sql = yield* Sql
      yield* sql.run(setup)
      const tables: Record<string, unknown> = {}
      for (const [name, table] of Object.entries(inputs)) tables[name] = yield* inputTable(sql, table)
      const definition = kind.definition as NodeDefinition
      const decoded = Schema.decodeUnknownSync(definition.params as never)(params)
      const out = yield* definition.run({ node: "n", kind: definition.kind, params: decoded, inputs: tables as never })
      const rows: Record<string, ReadonlyArray<Row>> = {}
      for (const [name, table] of Object.entries(out.tables)) {
        rows[name] = yield* sql.rows<Row>(`SELECT * FROM ${table}`)
      }
      return { stats: out.stats ?? {}, tables: rows }
    })
  )

/** Like runNode, for a run that must fail: its error message. */
export const runNodeError = (
  kind: NodeKind<any, any, any, any, any>,
  setup: string,
  inputs: Readonly<Record<string, string>>,
  params: unknown = {}
) =>
  runWithSql(
    Effect.gen(function* () {
      const sql = yield* Sql
      yield* sql.run(setup)
      const tables: Record<string, unknown> = {}
      for (const [name, table] of Object.entries(inputs)) tables[name] = yield* inputTable(sql, table)
      const definition = kind.definition as NodeDefinition
      const decoded = Schema.decodeUnknownSync(definition.params as never)(params)
      const e = yield* Effect.flip(
        definition.run({ node: "n", kind: definition.kind, params: decoded, inputs: tables as never })
      )
      return (e as { message: string }).message
    })
  )

/** Column `name` of `rows`, as an array. */
export const col = (rows: ReadonlyArray<Row>, name: string) => rows.map((r) => r[name])

/** Mean and population variance, for expected values computed independently of the SQL. */
export const mean = (xs: ReadonlyArray<number>) => xs.reduce((a, b) => a + b, 0) / xs.length
export const varPop = (xs: ReadonlyArray<number>) => {
  const m = mean(xs)
  return mean(xs.map((x) => (x - m) ** 2))
}
