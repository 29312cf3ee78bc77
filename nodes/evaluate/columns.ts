/**
 * What the evaluate nodes share: the `by` and `seed`/`resamples` params, how a column name (a slice
 * dimension, winRate's model) is found among the inputs, and writing result rows back as a table.
 */
import { Effect, Schema } from "effect"
import type { ColumnSpec, TableSchema } from "../../workbench/core/contract.js"
import { didYouMean } from "../../workbench/core/did-you-mean.js"
import { DataError } from "../../workbench/core/errors.js"
import { param } from "../../workbench/core/params.js"
import { Sql } from "../../workbench/core/services.js"
import { columnType, hasColumn, sqlText } from "../lib/vote-rows.js"

export const ByParam = param(
  Schema.Union([Schema.String, Schema.Array(Schema.String)]),
  [],
  "columns to slice every metric by, each on its own (a pair column such as source, subset, language; for " +
    "votes: a vote column, meta.<key>, a raters column or attributes.<key>); every slice gets its own interval"
)
export const SeedParam = param(Schema.Int, 0, "seed of the bootstrap resampling: same seed, same intervals")
export const ResamplesParam = param(
  Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 100000 })),
  1000,
  "bootstrap resamples for the 95% percentile intervals (0: no intervals)"
)

export const byList = (by: string | ReadonlyArray<string>): ReadonlyArray<string> =>
  typeof by === "string" ? [by] : by

/** One input a column can come from: its SQL alias in the node's query, its schema, its name in messages. */
export interface ColumnSource {
  readonly alias: string
  readonly schema: TableSchema
  readonly name: string
}

/**
 * SQL for column `name` over `sources`: `meta.<key>` reads the first source with a JSON meta column;
 * a plain name is the coalesce of every source that has it, in order, and of `meta.<name>` of a source
 * with meta (a vote's own meta says more than its pair: load.alpacaEval's merged records). Undefined
 * when no source has a column of that name.
 */
export function columnSql(name: string, sources: ReadonlyArray<ColumnSource>): string | undefined {
  const jsonOf = (column: string, key: string) =>
    sources
      .filter((s) => hasColumn(s.schema, column))
      .map((s) => {
        const path = sqlText(`$.${key.includes('"') || key.includes(".") ? key : `"${key}"`}`)
        const value =
          columnType(s.schema, column) === "json" ? `${s.alias}.${column}` : `TRY_CAST(${s.alias}.${column} AS JSON)`
        return `json_extract_string(${value}, ${path})`
      })
  for (const json of ["meta", "attributes"])
    if (name.startsWith(`${json}.`)) return jsonOf(json, name.slice(json.length + 1))[0]
  if (!sources.some((s) => hasColumn(s.schema, name))) return undefined
  const parts = sources.flatMap((s, i) => [
    ...(hasColumn(s.schema, name) ? [`${s.alias}."${name.replaceAll('"', '""')}"::VARCHAR`] : []),
    ...(i === 0 && name !== "meta" ? jsonOf("meta", name).slice(0, 1) : [])
  ])
  return parts.length === 1 ? parts[0] : `coalesce(${parts.join(", ")})`
}

/** The error for a column no input has, listing what they have. */
export function noColumnError(where: string, name: string, sources: ReadonlyArray<ColumnSource>): DataError {
  const all = sources.flatMap((s) => s.schema.columns.map((c) => c.name))
  const hint = didYouMean(name, all)
  return new DataError({
    where,
    found: `column ${name} is in none of the inputs`,
    expected:
      sources
        .map((s) => `a column of ${s.name} (${s.schema.columns.map((c) => c.name).join(", ") || "none"})`)
        .join("; ") + (sources.some((s) => hasColumn(s.schema, "meta")) ? "; or meta.<key> of the votes" : ""),
    fix: `${hint ? `${hint} ` : ""}name an existing column, or add it upstream (featurize.language adds language)`
  })
}

/** SQL of each `by` column as text ('(null)' for NULL), named _by0, _by1, …; or the first missing column's error. */
export function sliceColumnsSql(
  by: ReadonlyArray<string>,
  sources: ReadonlyArray<ColumnSource>,
  where: string
): ReadonlyArray<string> | DataError {
  const out: Array<string> = []
  for (const [d, name] of by.entries()) {
    const sql = columnSql(name, sources)
    if (sql === undefined) return noColumnError(where, name, sources)
    out.push(`coalesce((${sql})::VARCHAR, '(null)') AS _by${d}`)
  }
  return out
}

export const METRICS_COLUMNS = {
  slice_by: "utf8",
  slice: "utf8",
  metric: "utf8",
  value: "float64",
  ci_lo: "float64",
  ci_hi: "float64",
  n: "int64"
} as const

export interface MetricRow {
  readonly slice_by: string
  readonly slice: string
  readonly metric: string
  readonly value: number | null
  readonly ci_lo: number | null
  readonly ci_hi: number | null
  readonly n: number
}

const finite = (x: unknown) => (typeof x === "number" && !Number.isFinite(x) ? null : x)

/** Write `rows` (plain objects) as a new table with `columns`, in order; non-finite numbers become NULL. */
export const loadRows = (hint: string, columns: Readonly<Record<string, string>>, rows: ReadonlyArray<object>) =>
  Effect.gen(function* () {
    const sql = yield* Sql
    const table = sql.tempName(hint)
    const specs: Array<ColumnSpec> = Object.entries(columns).map(([name, type]) => ({ name, type }))
    yield* sql.load(
      table,
      specs,
      specs.map((c) => rows.map((r) => finite((r as Readonly<Record<string, unknown>>)[c.name] ?? null)))
    )
    return table
  })
