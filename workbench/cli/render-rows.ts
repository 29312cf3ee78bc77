/** Query results as an aligned text table: one line per row, long or multi-line cells cut short. */
import type { SandboxResult } from "../io/sandbox-sql.js"
import { cell, count, table } from "./format.js"

const NUMERIC = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|FLOAT|DOUBLE|DECIMAL)/i

export function rowsTable(result: SandboxResult, cellWidth = 40): Array<string> {
  if (result.columns.length === 0) return ["  (no columns)"]
  const lines = table(
    result.columns.map((c) => ({ header: c.name, align: NUMERIC.test(c.type) ? "right" as const : "left" as const })),
    result.rows.map((r) => r.map((v) => cell(v, cellWidth)))
  )
  if (result.rows.length === 0) lines.push("  (no rows)")
  return lines
}

/** "3 rows" / "first 100 rows (more not shown; use --limit)". */
export const rowsFooter = (result: SandboxResult): string =>
  result.truncated
    ? `first ${count(result.rows.length)} rows (more not shown; use --limit)`
    : `${count(result.rows.length)} row${result.rows.length === 1 ? "" : "s"}`
