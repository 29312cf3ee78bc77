/**
 * Columns computed in JS, added to a table: the featurize family's shared plumbing. The input's text
 * columns are streamed into JS a window of rows at a time (`sql.scan`), the new columns computed and
 * loaded back (`sql.load`), and joined to the input in input order, so memory holds one window of
 * results however large the table.
 */
import { Effect } from "effect"
import type { ColumnSpec, TableSchema } from "../../workbench/core/contract.js"
import type { InputTable } from "../../workbench/core/node.js"
import { Progress, Sql } from "../../workbench/core/services.js"

export const quoted = (name: string) => `"${name.replaceAll('"', '""')}"`

/** `SELECT p.*` minus the columns the node replaces (an input featurized twice keeps one copy). */
export const keptColumns = (schema: TableSchema, replaced: ReadonlyArray<string>, alias = "p") => {
  const drop = [...replaced.filter((c) => schema.columns.some((s) => s.name === c)), "_wb_row"]
  return `${alias}.* EXCLUDE (${drop.map(quoted).join(", ")})`
}

export interface JsColumns {
  /** Input columns read, in this order, for `compute`. */
  readonly read: ReadonlyArray<string>
  /** The columns added (replacing input columns of the same name). */
  readonly added: ReadonlyArray<ColumnSpec>
  /** One window of rows: the read columns' values in, one array per added column out. */
  readonly compute: (columns: ReadonlyArray<ReadonlyArray<unknown>>, rows: number) => ReadonlyArray<ArrayLike<unknown>>
  /** Rows per window (default 50,000). */
  readonly window?: number
  /** Unit for progress ("texts"); rows done are reported after each window. */
  readonly unit: string
}

/** A new table: `input`'s rows in input order, with the added columns computed in JS. */
export const addJsColumns = (hint: string, input: InputTable, spec: JsColumns) =>
  Effect.gen(function* () {
    const sql = yield* Sql
    const progress = yield* Progress
    const window = spec.window ?? 50_000
    // a dense 0..n-1 index: `_wb_row` need not be contiguous, and windows must hold `window` rows
    const texts = yield* sql.create(
      `${hint}_in`,
      `SELECT (row_number() OVER (ORDER BY _wb_row) - 1)::BIGINT AS _fz, _wb_row, ${spec.read.map(quoted).join(", ")} FROM ${input.numbered}`
    )
    const columns: Array<ColumnSpec> = [{ name: "_wb_row", type: "int64" }, ...spec.added]
    const acc = sql.tempName(`${hint}_out`)
    const part = sql.tempName(`${hint}_part`)
    for (let lo = 0; lo < input.rows || lo === 0; lo += window) {
      const rowIds: Array<unknown> = []
      const read: Array<Array<unknown>> = spec.read.map(() => [])
      yield* sql.scan(
        `SELECT _wb_row, ${spec.read.map(quoted).join(", ")} FROM ${texts} WHERE _fz >= ${lo} AND _fz < ${lo + window} ORDER BY _fz`,
        (cols, n) => {
          for (let i = 0; i < n; i++) rowIds.push(cols[0]![i])
          for (let c = 0; c < read.length; c++) for (let i = 0; i < n; i++) read[c]!.push(cols[c + 1]![i])
        }
      )
      const out = spec.compute(read, rowIds.length)
      yield* sql.load(part, columns, [rowIds, ...out])
      yield* sql.run(
        lo === 0 ? `CREATE TABLE ${acc} AS SELECT * FROM ${part}` : `INSERT INTO ${acc} SELECT * FROM ${part}`
      )
      yield* progress.rows(Math.min(lo + window, input.rows), input.rows, spec.unit)
    }
    const added = spec.added.map((c) => `a.${quoted(c.name)}`).join(", ")
    return yield* sql.create(
      hint,
      `SELECT ${keptColumns(
        input.schema,
        spec.added.map((c) => c.name)
      )}, ${added} FROM ${input.numbered} p JOIN ${acc} a ON a._wb_row = p._wb_row ORDER BY p._wb_row`
    )
  })
