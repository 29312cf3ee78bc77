/**
 * Read any supported file into a records table `(record, raw, reason)`: one row per source record,
 * `raw` the record as JSON text, `reason` set when the record could not be read (malformed JSON,
 * invalid UTF-8, not an object). Loaders then work on JSON whatever the file format was.
 *
 * Record numbers (0-based here; `collectRejects` shows them as users count): line for JSON Lines,
 * element index for JSON arrays, data row for CSV and Parquet.
 *
 * Before DuckDB reads a compressed file, zlib decompresses it once end to end (`read-stream.ts`):
 * a truncated or corrupt stream fails the node whatever maxRejectRate says, since DuckDB would read
 * it as fewer (or spliced) records without a word. Paths are literal (`literalPathSql`), and a file
 * DuckDB refuses for its mixed CRLF/LF line endings is read from a copy with LF endings.
 */
import { randomBytes } from "node:crypto"
import { mkdirSync, rmSync } from "node:fs"
import { basename, join } from "node:path"
import { Effect } from "effect"
import { DataError } from "../../workbench/core/errors.js"
import { Progress, Sql, Workspace } from "../../workbench/core/services.js"
import type { LoadContext, SourceFile } from "./files.js"
import { literalPathSql } from "../lib/table-file.js"
import { where } from "./files.js"
import { type CsvDialect, csvQuoting, readCsv } from "./read-csv.js"
import {
  compressionOption,
  jsonTypeWordSql,
  readJsonLines,
  type ReadSource,
  type RecordsTable,
  rowJsonSql
} from "./read-lines.js"
import {
  byteOf,
  canVerify,
  type Compression,
  compressionOf,
  normalizeLineEndings,
  verifyCompressed
} from "./read-stream.js"

/** A JSON array of records (.gz): record = element index. One syntax error anywhere fails the file. */
const readJsonArray = (ctx: LoadContext, file: SourceFile, source: ReadSource) =>
  Effect.gen(function* () {
    const sql = yield* Sql
    const out = sql.tempName("records")
    yield* sql
      .run(`CREATE TEMP TABLE ${out} AS
      SELECT ordinality - 1 AS record, json(json)::VARCHAR AS raw,
             CASE WHEN json_type(json) <> 'OBJECT' THEN 'expected a JSON object, got ' || ${jsonTypeWordSql("json_type(json)")} END AS reason
      FROM read_json_objects(${literalPathSql(source.abs)}, format = 'array', maximum_object_size = 1073741824,
        ${compressionOption(source)}) WITH ORDINALITY`)
      .pipe(
        Effect.catchTag("SqlError", (e) =>
          Effect.fail(
            new DataError({
              where: where(ctx, `file ${file.shown}`),
              found: `not a readable JSON array: ${e.reason.split("\n")[0]!.trim()}`,
              expected: "one JSON array of objects (a syntax error anywhere in an array file fails the whole file)",
              fix: `fix the file; if it holds one JSON object per line, set format: "jsonl" (JSON Lines keeps the good lines and rejects the bad ones)`
            })
          )
        )
      )
    return { table: out, records: yield* sql.count(out), blankLines: 0 } satisfies RecordsTable
  })

/** Parquet: every row is a record, converted to a JSON object (nested columns become nested JSON). */
const readParquet = (abs: string) =>
  Effect.gen(function* () {
    const sql = yield* Sql
    const source = `read_parquet(${literalPathSql(abs)})`
    const schema = yield* sql.describe(source)
    const out = sql.tempName("records")
    yield* sql.run(`CREATE TEMP TABLE ${out} AS
      SELECT ordinality - 1 AS record, ${rowJsonSql(schema.columns.map((c) => c.name))} AS raw, NULL::VARCHAR AS reason
      FROM ${source} WITH ORDINALITY`)
    return { table: out, records: yield* sql.count(out), blankLines: 0 } satisfies RecordsTable
  })

const NAMES: Record<Compression, string> = { gzip: "gzip", zstd: "zstd", none: "" }
const bytes = (n: number) => n.toLocaleString("en-US")

/** Fail unless a compressed file's stream is complete and intact (or it is not compressed). */
const verifyStream = (ctx: LoadContext, file: SourceFile, compression: Compression) =>
  Effect.gen(function* () {
    if (compression === "none") return
    const name = NAMES[compression]
    const node = `node "${ctx.node}" (${ctx.kind})`
    if (!canVerify(compression)) {
      return yield* new DataError({
        where: node,
        found: `${file.shown} is ${name}-compressed, and this Node (${process.version}) has no ${name} decoder to verify it with`,
        expected: "a gzip-compressed or uncompressed file (zstd needs Node 22.15 or later)",
        fix: `decompress it (\`zstd -d ${file.shown}\`) or recompress it with gzip, and point the path param at the result`
      })
    }
    const damage = yield* Effect.tryPromise({
      try: () => verifyCompressed(file.abs, compression),
      catch: (e) =>
        new DataError({
          where: node,
          found: `${file.shown} could not be read: ${e instanceof Error ? e.message : String(e)}`,
          expected: `a readable ${name} file`,
          fix: "check the file's permissions and that it is still there"
        })
    })
    if (damage === undefined) return
    if (damage.problem === "trailing") {
      const [unzip, zip] = compression === "gzip" ? ["zcat", "gzip"] : ["zstd -dc", "zstd"]
      const fixed = file.shown.replace(/((?:\.[^./\\]+)?)\.(gz|gzip|zst|zstd)$/i, ".fixed$1.$2")
      return yield* new DataError({
        where: node,
        found: `${file.shown}: ${name} stream is followed by data that is not ${name}: bytes after the end of the compressed stream (zlib: ${damage.detail})`,
        expected: `a file that is one ${name} stream (or several joined), and nothing else: what the extra bytes are is not known, so nothing is loaded`,
        fix:
          `the file has bytes after its ${name} stream (padding, or a file joined to it?): check what it should hold; ` +
          `\`${unzip} ${file.shown} | ${zip} > ${fixed}\` keeps the ${name} part`
      })
    }
    const why =
      damage.problem === "truncated"
        ? `the file ends before its stream does (${damage.lines} complete line(s) decompressed; zlib: ${damage.detail})`
        : `its data does not decompress to what its checksum says (zlib: ${damage.detail})`
    return yield* new DataError({
      where: node,
      found: `${file.shown}: ${name} stream is ${damage.problem} (after ${bytes(damage.after)} bytes): ${why}`,
      expected: `a complete, intact ${name} stream: no part of a damaged file is loaded, whatever maxRejectRate says`,
      fix: `the file is damaged (a cut-short download or copy?): fetch or copy it again; \`${name} -t ${file.shown}\` checks a file`
    })
  })

const readAs = (
  ctx: LoadContext,
  file: SourceFile,
  source: ReadSource,
  options: { readonly checkJson?: boolean; readonly csv?: CsvDialect | null }
) =>
  file.format === "jsonl"
    ? readJsonLines(source, options.checkJson ?? true)
    : file.format === "csv"
      ? readCsv(source, options.csv ?? {})
      : file.format === "json"
        ? readJsonArray(ctx, file, source)
        : readParquet(source.abs)

/** DuckDB's CSV scanner on a file whose lines mix CRLF and LF (or hold a stray CR). */
const MIXED_ENDINGS = "state machine reached an invalid state"

/**
 * Read `file` again from a copy with CRLF endings rewritten to LF (CRs inside quoted CSV fields
 * kept), in the workspace's scratch folder; the copy is removed afterwards. Line numbers are the
 * file's own. A CR that ends no line cannot be read either way: that fails, naming its line.
 */
const readNormalized = (
  ctx: LoadContext,
  file: SourceFile,
  compression: Compression,
  options: { readonly checkJson?: boolean; readonly csv?: CsvDialect | null }
) =>
  Effect.gen(function* () {
    const dir = join((yield* Workspace).dir, "tmp")
    // the copy keeps the file's name (without .gz), so a .tsv copy still reads tab-delimited
    const copy = join(
      dir,
      `lf-${process.pid}-${randomBytes(4).toString("hex")}-${basename(file.abs).replace(/\.(gz|gzip|zst|zstd)$/i, "")}`
    )
    const quoting = file.format === "csv" ? csvQuoting(options.csv ?? {}) : undefined
    return yield* Effect.acquireUseRelease(
      Effect.promise(() => {
        mkdirSync(dir, { recursive: true })
        const quote = byteOf(quoting?.quote)
        return normalizeLineEndings(
          file.abs,
          compression,
          copy,
          quote,
          quote === undefined ? undefined : byteOf(quoting?.escape)
        )
      }),
      ({ loneCr }) =>
        loneCr === undefined
          ? readAs(ctx, file, { abs: copy, compression: "none" }, options)
          : Effect.fail(
              new DataError({
                where: where(ctx, `file ${file.shown}`),
                found: `line ${loneCr} holds a carriage return (CR) that ends no line, in a file whose lines end in LF or CRLF`,
                expected:
                  "lines ending in LF or CRLF (mixing the two is fine); a lone CR only inside a quoted CSV field",
                fix: `remove the stray CR on line ${loneCr} (or every CR: \`tr -d '\\r'\`), or end each line with LF or CRLF`
              })
            ),
      () => Effect.sync(() => rmSync(copy, { force: true }))
    )
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
  Effect.gen(function* () {
    const progress = yield* Progress
    yield* progress.note(`reading ${file.shown} (${file.format})`)
    const compression = compressionOf(file.abs)
    yield* verifyStream(ctx, file, compression)
    const records = yield* readAs(ctx, file, { abs: file.abs, compression }, options).pipe(
      Effect.catchTag("SqlError", (e) =>
        (file.format === "jsonl" || file.format === "csv") && e.reason.includes(MIXED_ENDINGS)
          ? readNormalized(ctx, file, compression, options)
          : Effect.fail(e)
      ),
      Effect.catchTag("SqlError", (e) =>
        Effect.fail(
          new DataError({
            where: where(ctx, `file ${file.shown}`),
            found: `could not be read as ${file.format}: ${e.reason.split("\n")[0]!.trim()}`,
            expected: `a ${file.format === "jsonl" ? "JSON Lines" : file.format.toUpperCase()} file`,
            fix: "check the file, or set the format param if its extension misleads"
          })
        )
      )
    )
    const kept = ctx.sample === undefined ? records : yield* firstRecords(records, ctx.sample)
    yield* progress.rows(kept.records, kept.records, "records")
    return kept
  })

/**
 * A sample run's first `n` records of the file (in file order, rejects included: a sample shows what
 * the full run will reject). The whole file is still read and checked first, so a damaged file fails
 * a sample run as it fails a full one.
 */
const firstRecords = (records: RecordsTable, n: number) =>
  Effect.gen(function* () {
    if (records.records <= n) return records
    const sql = yield* Sql
    // record numbers have gaps (blank lines): cut at the n-th record's number, not at n
    yield* sql.run(
      `DELETE FROM ${records.table} WHERE record > (SELECT record FROM ${records.table} ORDER BY record LIMIT 1 OFFSET ${n - 1})`
    )
    return { ...records, records: yield* sql.count(records.table) } satisfies RecordsTable
  })
