/**
 * Parquet artifact -> apache-arrow RecordBatches, through DuckDB (no Arrow extension: DuckDB has no
 * Arrow writer here, see ../shared/guides/browser-workbench.md §2). DuckDB streams the file a chunk
 * (2,048 rows) at a time; the values go into one apache-arrow builder per column, flushed every
 * `batchRows` rows as a RecordBatch, so memory holds about one batch.
 */
import { DuckDBInstance, JSDuckDBValueConverter } from "./duckdb-api.js"
import {
  Binary,
  Bool,
  type Builder,
  type DataType,
  DateDay,
  Field,
  Float32,
  Float64,
  Int16,
  Int32,
  Int64,
  Int8,
  List,
  makeBuilder,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  Table,
  TimestampMillisecond,
  Uint16,
  Uint32,
  Uint64,
  Uint8,
  Utf8
} from "apache-arrow"
import { DataError } from "../core/errors.js"
import { sqlString } from "./sql-text.js"

export const DEFAULT_BATCH_ROWS = 65_536

/** The Arrow field for a DuckDB column, and the SQL that reads it in a form the builder takes. */
interface ColumnPlan {
  readonly field: Field
  readonly select: string
}

const field = (name: string, type: DataType, metadata?: Map<string, string>) => new Field(name, type, true, metadata)

/** How a column of DuckDB type `duckType` is read, or undefined when it has no Arrow form here. */
function planColumn(name: string, duckType: string): ColumnPlan | undefined {
  // always quoted: a plain name can still be a keyword (`at`, `order`)
  const col = `"${name.replaceAll('"', '""')}"`
  const t = duckType.toUpperCase()
  const plain = (type: DataType, select = col) => ({ field: field(name, type), select })
  switch (t) {
    case "VARCHAR":
      return plain(new Utf8())
    // JSON text, marked with the canonical extension name so readers (and load.arrow) know it is JSON
    case "JSON":
      return {
        field: field(name, new Utf8(), new Map([["ARROW:extension:name", "arrow.json"]])),
        select: `${col}::VARCHAR`
      }
    case "BIGINT":
      return plain(new Int64())
    case "INTEGER":
      return plain(new Int32())
    case "SMALLINT":
      return plain(new Int16())
    case "TINYINT":
      return plain(new Int8())
    case "UBIGINT":
      return plain(new Uint64())
    case "UINTEGER":
      return plain(new Uint32())
    case "USMALLINT":
      return plain(new Uint16())
    case "UTINYINT":
      return plain(new Uint8())
    case "DOUBLE":
      return plain(new Float64())
    case "FLOAT":
      return plain(new Float32())
    case "BOOLEAN":
      return plain(new Bool())
    // dates and times as epoch milliseconds, the unit apache-arrow's builders take
    case "DATE":
      return plain(new DateDay(), `epoch_ms(${col})::DOUBLE`)
    case "TIMESTAMP":
    case "TIMESTAMP_S":
    case "TIMESTAMP_MS":
    case "TIMESTAMP_NS":
      return plain(new TimestampMillisecond(), `epoch_ms(${col})`)
    case "TIMESTAMP WITH TIME ZONE":
      return plain(new TimestampMillisecond("UTC"), `epoch_ms(${col})`)
    case "VARCHAR[]":
      return plain(new List(new Field("item", new Utf8(), true)))
    case "INTEGER[]":
      return plain(new List(new Field("item", new Int32(), true)))
    case "FLOAT[]":
      return plain(new List(new Field("item", new Float32(), true)))
    case "BLOB":
      return plain(new Binary())
  }
  // the engine reads decimals as float64 (duckdb.ts columnTypeOf): so does Arrow
  if (t.startsWith("DECIMAL")) return plain(new Float64(), `${col}::DOUBLE`)
  return undefined
}

const failure = (name: string, file: string) => (e: unknown) =>
  new DataError({
    where: `table ${name} (${file})`,
    found: `it could not be read: ${e instanceof Error ? e.message : String(e)}`,
    expected: "the Parquet artifact the run wrote",
    fix: "run the pipeline again (artifacts are rewritten when missing), then read the result"
  })

/** Open a private in-memory DuckDB for one read: the run's own engine is closed by now. */
async function openReader() {
  const instance = await DuckDBInstance.create(":memory:", { threads: "2", autoinstall_known_extensions: "false" })
  return { instance, con: await instance.connect() }
}

/** The Arrow schema of a Parquet file and the SELECT that reads it; a column with no Arrow form fails, named. */
async function planFile(con: Awaited<ReturnType<typeof openReader>>["con"], file: string, name: string) {
  const described = await con.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${sqlString(file)})`)
  const plans: Array<ColumnPlan> = []
  for (const row of described.getRowObjectsJS()) {
    const column = String(row["column_name"]),
      type = String(row["column_type"])
    const plan = planColumn(column, type)
    if (plan === undefined) {
      throw new DataError({
        where: `table ${name}, column "${column}"`,
        found: `DuckDB type ${type}, which toArrow() has no Arrow form for`,
        expected:
          "text, JSON, integers, floats, decimals, booleans, dates, timestamps, bytes, or lists of text, integers or floats",
        fix: `read it with \`wb sql\` or DuckDB (file ${file}), or cast the column in the node that writes it`
      })
    }
    plans.push(plan)
  }
  return {
    schema: new Schema(plans.map((p) => p.field)),
    sql: `SELECT ${plans.map((p) => p.select).join(", ")} FROM read_parquet(${sqlString(file)})`
  }
}

/** One RecordBatch from what the builders hold, leaving them empty for the next. */
function flushBatch(schema: Schema, builders: ReadonlyArray<Builder>, rows: number): RecordBatch {
  const children = builders.map((b) => b.flush())
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: rows, nullCount: 0, children }))
}

/** The Parquet file's rows as RecordBatches of at most `batchRows` rows. `name` ("node.table") is for messages. */
export async function* readArrowBatches(
  file: string,
  name: string,
  batchRows = DEFAULT_BATCH_ROWS
): AsyncGenerator<RecordBatch> {
  if (!Number.isInteger(batchRows) || batchRows < 1) {
    throw new DataError({
      where: `table ${name}: toArrowBatches({ batchRows })`,
      found: `batchRows ${batchRows}`,
      expected: "a whole number of rows, at least 1",
      fix: `leave it out for ${DEFAULT_BATCH_ROWS.toLocaleString("en")} rows a batch`
    })
  }
  const { instance, con } = await openReader().catch((e: unknown) => Promise.reject(failure(name, file)(e)))
  try {
    const { schema, sql } = await planFile(con, file, name).catch((e: unknown) =>
      Promise.reject(e instanceof DataError ? e : failure(name, file)(e))
    )
    const builders = schema.fields.map((f) => makeBuilder({ type: f.type, nullValues: [null, undefined] }))
    const result = await con.stream(sql).catch((e: unknown) => Promise.reject(failure(name, file)(e)))
    let rows = 0
    for (;;) {
      const chunk = await result.fetchChunk()
      if (chunk === null || chunk.rowCount === 0) break
      const columns = chunk.convertColumns(JSDuckDBValueConverter)
      // free the chunk's native memory now: V8 does not see it and would collect the wrapper late
      chunk.reset?.()
      let start = 0
      while (start < columns[0]!.length) {
        const take = Math.min(columns[0]!.length - start, batchRows - rows)
        for (let c = 0; c < builders.length; c++) {
          const values = columns[c]!,
            builder = builders[c]!
          for (let i = start; i < start + take; i++) builder.append(values[i])
        }
        rows += take
        start += take
        if (rows === batchRows) {
          yield flushBatch(schema, builders, rows)
          rows = 0
        }
      }
    }
    if (rows > 0) yield flushBatch(schema, builders, rows)
  } finally {
    con.closeSync()
    instance.closeSync()
  }
}

/** The whole Parquet file as one Table (its batches as read); an empty file gives an empty Table with the schema. */
export async function readArrowTable(file: string, name: string): Promise<Table> {
  const batches: Array<RecordBatch> = []
  for await (const batch of readArrowBatches(file, name)) batches.push(batch)
  if (batches.length > 0) return new Table(batches)
  // no rows: the schema still comes from the file
  const { instance, con } = await openReader()
  try {
    return new Table((await planFile(con, file, name)).schema)
  } finally {
    con.closeSync()
    instance.closeSync()
  }
}
