import { Effect, Schema } from "effect"
import { Sql } from "../../workbench/core/services.js"
import { anyTable, defineExport } from "./define.js"
import { FormatParam } from "./format.js"
import { ToParam } from "./params.js"

export const TableExportParams = Schema.Struct({ to: ToParam, format: FormatParam })
export type TableExportParams = typeof TableExportParams.Type

/**
 * Write any table to a file: JSON Lines, a JSON array, CSV or Parquet (the first three optionally
 * gzip'd), every row in input order and every column as it is (JSON columns as JSON, lists as lists;
 * in CSV both as text).
 *
 * **Input columns** `table`: any.
 *
 * **Output columns**
 * - `rows`: the input's columns, as written. `removed`: empty (nothing is left out).
 * - `card`: file, section (its part of the README.md data card), sha256, bytes.
 *
 * **Params** to (required), format (auto: from the file name).
 *
 * **Stats** written, bytes, file.
 *
 * **Example**
 * ```ts
 * p.node("removed-csv", exportTo.table({ to: "exports/removed.csv" }), { table: clean.removed })
 * ```
 */
export const table = defineExport({
  kind: "export.table",
  version: 1,
  summary: "Any table -> a JSONL, JSON, CSV or Parquet file with a data card",
  params: TableExportParams,
  input: { name: "table", contract: anyTable("the table to write") },
  build: ({ input }) =>
    Effect.gen(function* () {
      const rows = yield* (yield* Sql).create(
        "rows",
        `SELECT * EXCLUDE (_wb_row) FROM ${input.numbered} ORDER BY _wb_row`
      )
      return { rows, kept: rows }
    })
})
