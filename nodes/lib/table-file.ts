/**
 * Reading a table file whole, for nodes outside the load family that take a file param (a judge's
 * recorded verdicts): the file's format, its path as DuckDB must be given it, and its records as JSON.
 *
 * The load family reads files with more care (per-record rejects, gzip stream checks, CRLF fixes,
 * sample runs); this reader is for side files a node joins to its inputs, where a file DuckDB cannot
 * read is an error of the node, not rejected records.
 *
 * Gotchas
 * - DuckDB globs every path it is given: name files through `literalPathSql`, never raw.
 * - A truncated gzip'd JSON Lines file reads as fewer records (DuckDB stops at the break); a
 *   truncated JSON array fails to parse.
 */
import { Effect } from "effect"
import { Sql } from "../../workbench/core/services.js"
import { peekText } from "./file-fingerprint.js"

export type FileFormat = "jsonl" | "json" | "csv" | "parquet"

const sqlString = (s: string): string => `'${s.replaceAll("'", "''")}'`

/**
 * `abs` as a SQL string that DuckDB reads as that one file. DuckDB globs every path it is given
 * (`x[1].jsonl` matches `x1.jsonl`, `star*.jsonl` every star file), so each glob character
 * (`[`, `*`, `?`, `{`) goes inside a one-character class, `[[]`, which matches only itself.
 */
export const literalPathSql = (abs: string): string => sqlString(abs.replace(/[[*?{]/g, "[$&]"))

/** The format a file is in: the `format` param, else its extension (peeking into .json files). */
export function detectFormat(abs: string, override: string): FileFormat | undefined {
  if (override !== "auto") return override as FileFormat
  const name = abs.toLowerCase().replace(/\.(gz|gzip|zst|zstd)$/, "")
  if (/\.(jsonl|ndjson)$/.test(name)) return "jsonl"
  if (/\.(csv|tsv)$/.test(name)) return "csv"
  if (/\.(parquet|pq)$/.test(name)) return "parquet"
  // ".json" is used for both arrays and JSON Lines: the first non-blank character decides
  if (name.endsWith(".json")) return peekText(abs).trimStart().startsWith("[") ? "json" : "jsonl"
  return undefined
}

/**
 * SQL: one row per record of the file, `record` (0-based: element, line or data row) and `raw` (the
 * record as JSON text). CSV values stay text as written (all_varchar), so a verdict "1.0" is not "1".
 */
export function tableFileRecordsSql(abs: string, format: FileFormat): string {
  const path = literalPathSql(abs)
  if (format === "json" || format === "jsonl") {
    const layout = format === "json" ? "array" : "newline_delimited"
    return `SELECT ordinality - 1 AS record, json(json)::VARCHAR AS raw
      FROM read_json_objects(${path}, format = '${layout}', maximum_object_size = 1073741824) WITH ORDINALITY`
  }
  const scan = format === "csv" ? `read_csv(${path}, header = true, all_varchar = true)` : `read_parquet(${path})`
  // the row as one JSON object; the record number rides along as _wb_record (no file column has that name)
  return `SELECT _wb_record AS record, to_json(t)::VARCHAR AS raw
    FROM (SELECT ordinality - 1 AS _wb_record, * EXCLUDE (ordinality) FROM ${scan} WITH ORDINALITY) t`
}

/** Read the file into a new table (record, raw); returns its name and the top-level keys its records have. */
export const readTableFile = (abs: string, format: FileFormat) =>
  Effect.gen(function* () {
    const sql = yield* Sql
    const table = yield* sql.create("table_file", tableFileRecordsSql(abs, format))
    const keys = yield* sql.rows<{ key: string }>(
      `SELECT key FROM (SELECT unnest(json_keys(raw)) AS key FROM ${table} WHERE json_type(raw) = 'OBJECT')
       WHERE key <> '_wb_record' GROUP BY key ORDER BY key`
    )
    return { table, keys: keys.map((k) => k.key) }
  })
