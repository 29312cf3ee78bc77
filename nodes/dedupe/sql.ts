/** SQL helpers of the dedupe family: normalised text keys, empty checks, column tests. */
import type { ColumnSpec } from "../../workbench/core/contract.js"
import { DataError, type SqlError } from "../../workbench/core/errors.js"
import type { InputTable } from "../../workbench/core/node.js"
import type { Normalize } from "./params.js"

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
export const emptySql = (column: string): string =>
  `(${column} IS NULL OR NOT regexp_matches(${column}, '[^[:space:]]'))`

export const hasColumn = (t: InputTable | undefined, name: string): boolean =>
  t?.schema.columns.some((c) => c.name === name) ?? false

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

/**
 * A copy of an input that failed because the tables unioned into it (by column name) give one column
 * two types that do not convert (an extra column holding JSON in one file, text in another): a data
 * error naming the column. Other SQL errors pass through.
 */
export const unionClash =
  (node: string, input: string) =>
  (e: SqlError): DataError | SqlError => {
    if (!/^Conversion Error/.test(e.reason)) return e
    const column = /when casting from source column "?([^"\s]+)"?/.exec(e.reason)?.[1] ?? "?"
    return new DataError({
      where: `node "${node}" input "${input}"`,
      found: `column "${column}" has different types in the tables unioned into it (${e.reason.split("\n")[0]})`,
      expected:
        "a column that several tables of one input share has one type in all of them (they are unioned by column name)",
      fix:
        `rename column "${column}" in one of the files connected to "${input}", give it the same type in each, ` +
        "or dedupe each table in its own node"
    })
  }
