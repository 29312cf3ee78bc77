/**
 * Read any supported file into a records table `(record, raw, reason)`: one row per source record,
 * `raw` the record as JSON text, `reason` set when the record could not be read (malformed JSON,
 * invalid UTF-8, not an object). Loaders then work on JSON whatever the file format was.
 *
 * Record numbers: 0-based line for JSON Lines, element index for JSON arrays, data row for CSV and
 * Parquet.
 */
import { Effect } from "effect"
import { DataError } from "../../workbench/core/errors.js"
import { Progress, Sql } from "../../workbench/core/services.js"
import type { LoadContext, SourceFile } from "./files.js"
import { where } from "./files.js"
import { type CsvDialect, readCsv } from "./read-csv.js"
import { readJsonLines, type RecordsTable, rowJsonSql } from "./read-lines.js"
import { sqlText } from "./sql.js"

/** A JSON array of records (.gz): record = element index. One syntax error anywhere fails the file. */
const readJsonArray = (ctx: LoadContext, file: SourceFile) =>
  Effect.gen(function*() {
    const sql = yield* Sql
    const out = sql.tempName("records")
    yield* sql.run(`CREATE TEMP TABLE ${out} AS
      SELECT ordinality - 1 AS record, json(json)::VARCHAR AS raw,
             CASE WHEN json_type(json) <> 'OBJECT' THEN 'expected a JSON object, got ' || json_type(json) END AS reason
      FROM read_json_objects(${sqlText(file.abs)}, format = 'array', maximum_object_size = 1073741824) WITH ORDINALITY`
    ).pipe(Effect.catchTag("SqlError", (e) =>
      Effect.fail(new DataError({
        where: where(ctx, `file ${file.shown}`),
        found: `not a readable JSON array: ${e.reason.split("\n")[0]!.trim()}`,
        expected: "one JSON array of objects (a syntax error anywhere in an array file fails the whole file)",
        fix: `fix the file; if it holds one JSON object per line, set format: "jsonl" (JSON Lines keeps the good lines and rejects the bad ones)`
      }))))
    return { table: out, records: yield* sql.count(out), blankLines: 0 } satisfies RecordsTable
  })

/** Parquet: every row is a record, converted to a JSON object (nested columns become nested JSON). */
const readParquet = (abs: string) =>
  Effect.gen(function*() {
    const sql = yield* Sql
    const source = `read_parquet(${sqlText(abs)})`
    const schema = yield* sql.describe(source)
    const out = sql.tempName("records")
    yield* sql.run(`CREATE TEMP TABLE ${out} AS
      SELECT ordinality - 1 AS record, ${rowJsonSql(schema.columns.map((c) => c.name))} AS raw, NULL::VARCHAR AS reason
      FROM ${source} WITH ORDINALITY`)
    return { table: out, records: yield* sql.count(out), blankLines: 0 } satisfies RecordsTable
  })

/**
 * Read `file` into a records table, turning engine failures into DataErrors that name the file.
 * `checkJson: false`: JSON Lines records may be left unchecked (reason NULL, raw not JSON or not an
 * object); the caller must then check each with `jsonProblemSql`, which saves a parse of every line.
 * `csv`: the CSV dialect, where it is not RFC 4180 with a guessed delimiter.
 */
export const readRecords = (
  ctx: LoadContext,
  file: SourceFile,
  options: { readonly checkJson?: boolean; readonly csv?: CsvDialect | null } = {}
) =>
  Effect.gen(function*() {
    const progress = yield* Progress
    yield* progress.note(`reading ${file.shown} (${file.format})`)
    const read = file.format === "jsonl" ? readJsonLines(file.abs, options.checkJson ?? true)
      : file.format === "csv" ? readCsv(file.abs, options.csv ?? {})
      : file.format === "json" ? readJsonArray(ctx, file)
      : readParquet(file.abs)
    const records = yield* read.pipe(Effect.catchTag("SqlError", (e) =>
      Effect.fail(new DataError({
        where: where(ctx, `file ${file.shown}`),
        found: `could not be read as ${file.format}: ${e.reason.split("\n")[0]!.trim()}`,
        expected: `a ${file.format === "jsonl" ? "JSON Lines" : file.format.toUpperCase()} file`,
        fix: "check the file, or set the format param if its extension misleads"
      }))))
    yield* progress.rows(records.records, records.records, "records")
    return records
  })
