/** SQL helpers of the dedupe family: normalised text keys, empty checks, column tests. */
import type { ColumnSpec } from "../../workbench/core/contract.js"
import { DataError } from "../../workbench/core/errors.js"
import type { InputTable } from "../../workbench/core/node.js"
import type { Normalize } from "./dedupe-params.js"

/** The column the dedupe run adds to its copy of the input: true for rows removed. */
export const DROP = "__wb_dedupe_drop"

/** SQL for a text column as compared under `normalize` (never NULL). */
export function normalizedSql(column: string, normalize: Normalize): string {
  const x = normalize === "nfc" ? `nfc_normalize(coalesce(${column}, ''))` : `coalesce(${column}, '')`
  if (normalize === "none") return x
  // collapse whitespace runs without trim(), which is slow on long text: pad with spaces first, so
  // leading and trailing runs become one space on each side
  const ws = `regexp_replace(' ' || ${x} || ' ', '[[:space:]][[:space:]]+|[\\t\\n\\v\\f\\r]', ' ', 'g')`
  return normalize === "whitespace" ? ws : `lower(${ws})`
}

/** SQL: true when a text column is NULL, empty or whitespace only. */
export const emptySql = (column: string): string => `(${column} IS NULL OR NOT regexp_matches(${column}, '[^[:space:]]'))`

export const hasColumn = (t: InputTable | undefined, name: string): boolean =>
  t !== undefined && t.schema.columns.some((c) => c.name === name)

/** Columns of a loaded JS table. */
export const cols = (spec: Record<string, ColumnSpec["type"]>): Array<ColumnSpec> =>
  Object.entries(spec).map(([name, type]) => ({ name, type }))

export const invariantBroken = (node: string, found: string) =>
  new DataError({
    where: `node "${node}" (dedupe)`,
    found,
    expected: "rows in = rows out + rows removed",
    fix: "this is a bug in the dedupe node; report it with the input that triggers it"
  })
