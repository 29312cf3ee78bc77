/**
 * Transform family: table shaping in SQL, without writing a node.
 *
 * `transform.sql` — one SELECT over the node's inputs, each read by the name the pipeline connects it
 * under (`{ pairs: clean, votes: clean.votes }` → `select … from pairs join votes using (pair_id)`), as
 * a dbt model reads its refs. Its output columns are whatever the SELECT gives: DuckDB works them out
 * before anything runs (DESCRIBE over empty stand-ins of the inputs, typed from the upstream contracts),
 * so a misspelt column fails `wb validate` naming it and listing the columns that exist, and every node
 * downstream is checked against the real columns.
 *
 * **Input columns**: any inputs, under any names (several tables on one name are unioned by column name).
 *
 * **Output columns**
 * - `rows` (main): the SELECT's columns, in its order; its row order when it has an ORDER BY.
 *
 * **Params**
 * - `sql` (required): one SELECT. Only reading: no DDL, COPY, ATTACH, SET; tables are the inputs (and the
 *   query's own CTEs); table functions only range, generate_series and unnest (no read_csv, read_parquet:
 *   to read a file, connect a loader). A trailing `;` is ignored.
 *
 * **Stats**: rows_in_<input> (each input's rows), rows_out. Rows in (the run summary's) are those of the
 * first input as connected.
 *
 * **Example**
 * ```ts
 * const short = p.node("short", transform.sql({
 *   sql: "select pair_id, prompt, response_a, response_b, label from pairs where length(prompt) < 2000"
 * }), { pairs: clean })
 * ```
 *
 * Gotchas: an input whose upstream may carry columns it does not list (a loader's pass-through extras)
 * cannot have its unlisted columns checked before the run: a column missing there fails the node when
 * it runs, with the same message. The node is cached by its SQL text and its inputs: a query calling
 * random() or now() gives a different table when it re-runs, but is not re-run while cached.
 */
import { Effect, Result, Schema } from "effect"
import { input, type OutputContract, type TableSchema } from "../../workbench/core/contract.js"
import { defineNode, type Inferred, type InputTable } from "../../workbench/core/node.js"
import { SchemaProbe, Sql, type SqlShape } from "../../workbench/core/services.js"
import {
  anyOpen,
  bindRefusal,
  checkSelectTree,
  deferredNote,
  duplicateRefusal,
  missingColumnOf,
  parseTree,
  refusalError,
  trimStatement
} from "../lib/select-check.js"

export const TransformParams = Schema.Struct({
  sql: Schema.String.check(Schema.isMinLength(1)).annotate({
    description: "one SELECT over the inputs, each named as the pipeline connects it (required)"
  })
})
export type TransformParams = typeof TransformParams.Type

const quoted = (name: string) => `"${name.replaceAll('"', '""')}"`

/** What the messages suggest: a SELECT over the first input. */
const exampleFor = (inputs: ReadonlyArray<string>) => `select * from ${inputs[0] ?? "pairs"} where …`

/** The placeholder column the probe gives an input with no known column: never a real output column. */
const isPlaceholder = (name: string) => name === "_wb_no_known_column"

/**
 * The columns of `text` over the stand-ins on `sql` (the probe), or a note when that cannot be told
 * before the run: a column the upstream does not list, on an input that may carry unlisted ones.
 */
export const describeSelect = (
  sql: SqlShape,
  text: string,
  inputs: Readonly<Record<string, TableSchema>>,
  at: string
) =>
  Effect.gen(function* () {
    const names = Object.keys(inputs)
    const check = checkSelectTree(yield* parseTree(sql, text), names, exampleFor(names))
    if (check._tag === "Refused") return yield* refusalError(at, check)
    const described = yield* Effect.result(sql.describe(`(\n${text}\n)`))
    if (Result.isFailure(described)) {
      const reason = described.failure.reason
      if (missingColumnOf(reason) !== undefined && anyOpen(inputs, check.tables)) {
        return { notes: [deferredNote(reason, inputs, check.tables)] } satisfies Inferred<"rows">
      }
      return yield* refusalError(at, bindRefusal(reason, inputs, "select"))
    }
    // names as the SELECT gives them: a wrapping SELECT * (as describe and CREATE TABLE AS are) renames twins
    const named = yield* sql.rows<{ column_name: string }>(`DESCRIBE (\n${text}\n)`)
    const duplicate = duplicateRefusal(
      named.map((c) => ({ name: c.column_name })).filter((c) => !isPlaceholder(c.name))
    )
    if (duplicate !== undefined) return yield* refusalError(at, duplicate)
    const columns = described.success.columns.filter((c) => !isPlaceholder(c.name))
    // `select *` over an input with unlisted columns passes them on
    return {
      outputs: { rows: { columns, open: check.star && anyOpen(inputs, check.tables) } }
    } satisfies Inferred<"rows">
  })

const rowsOutput: OutputContract = {
  role: "main",
  doc: "the SELECT's columns (worked out by DuckDB before the run)",
  // before the infer phase nothing is known; it replaces this with the SELECT's columns
  schema: () => ({ columns: [], open: true })
}

export const sql = defineNode({
  kind: "transform.sql",
  version: 1,
  summary: "A SELECT over the inputs by name; its columns are checked before the run",
  params: TransformParams,
  inputs: {},
  otherInputs: input({}, { many: true, doc: "any table, under the name the SQL reads it by" }),
  outputs: { rows: rowsOutput },
  inferOutputs: ({ params, inputs }) =>
    Effect.gen(function* () {
      const probe = yield* SchemaProbe
      return yield* probe.withTables(inputs, (s) => describeSelect(s, trimStatement(params.sql), inputs, "param sql"))
    }),
  run: (ctx) =>
    Effect.gen(function* () {
      const db = yield* Sql
      const inputs = ctx.inputs as unknown as Readonly<Record<string, InputTable>>
      const where = `node "${ctx.node}" (${ctx.kind}) param sql`
      const text = trimStatement(ctx.params.sql)
      // each input under its own name, on this node's connection only (TEMP views are per connection)
      for (const [name, t] of Object.entries(inputs)) {
        yield* db.run(`CREATE OR REPLACE TEMP VIEW ${quoted(name)} AS SELECT * FROM ${t.relation}`)
      }
      // the same checks as before the run, now on the real columns (so nothing is left for later)
      const schemas = Object.fromEntries(Object.entries(inputs).map(([n, t]) => [n, t.schema] as const))
      yield* describeSelect(db, text, schemas, where)
      const rows = yield* db
        .create("transform", `${text}\n`)
        .pipe(
          Effect.catchTag("SqlError", (e) => Effect.fail(refusalError(where, bindRefusal(e.reason, schemas, "select"))))
        )
      // rows in: the first input as connected (`{ pairs, votes }`: the pairs); each input's rows in the stats
      const rowsIn = Object.values(inputs)[0]?.rows ?? 0
      const perInput = Object.fromEntries(Object.entries(inputs).map(([n, t]) => [`rows_in_${n}`, t.rows] as const))
      return { tables: { rows }, rowsIn, stats: { ...perInput, rows_out: yield* db.count(rows) } }
    })
})

export const transform = { sql }
