/** Run a dedupe node against a real in-memory DuckDB on tables made by SQL, and read back every output. */
import { Effect, Schema } from "effect"
import type { InputTable, NodeKind, NodeOutput, ParamsSchema } from "../../workbench/core/node.js"
import { Sql, type SqlShape } from "../../workbench/core/services.js"
import { inputTable, runWithSql } from "../support/sql.js"

export type Row = Record<string, unknown>

export interface DedupeResult {
  readonly out: NodeOutput
  readonly stats: Readonly<Record<string, number | string>>
  readonly pairs: ReadonlyArray<Row>
  readonly votes: ReadonlyArray<Row>
  readonly removed: ReadonlyArray<Row>
  readonly conflicts: ReadonlyArray<Row>
  readonly report: ReadonlyArray<Row>
  readonly rowsIn: number
}

/** The node's inputs, as the runner would hand them over. */
const inputTables = (sql: SqlShape, inputs: Readonly<Record<string, string>>) =>
  Effect.gen(function* () {
    const tables: Record<string, InputTable> = {}
    for (const [name, relation] of Object.entries(inputs)) tables[name] = yield* inputTable(sql, relation)
    return tables
  })

/** Run the node once on tables of this connection and read back every output. */
const runOnce = <S extends ParamsSchema>(
  sql: SqlShape,
  kind: NodeKind<S, string>,
  params: S["Encoded"],
  tables: Record<string, InputTable>
) =>
  Effect.gen(function* () {
    const decoded = Schema.decodeUnknownSync(kind.definition.params as never)(params) as S["Type"]
    const out = yield* kind.definition.run({ node: "dd", kind: kind.definition.kind, params: decoded, inputs: tables })
    const read = (t: string) => sql.rows<Row>(`SELECT * FROM ${out.tables[t]}`)
    return {
      out,
      stats: out.stats ?? {},
      pairs: yield* read("pairs"),
      votes: yield* read("votes"),
      removed: yield* read("removed"),
      conflicts: yield* read("conflicts"),
      report: yield* read("report"),
      rowsIn: tables["pairs"]!.rows
    } satisfies DedupeResult
  })

/** `setup` creates the tables; `inputs` names the table (or UNION query) for each input. */
export function runDedupe<S extends ParamsSchema>(
  kind: NodeKind<S, string>,
  params: S["Encoded"],
  setup: string,
  inputs: Readonly<Record<string, string>>
): Promise<DedupeResult> {
  return runDedupeEach(kind, [params], setup, inputs).then((r) => r[0]!)
}

/** `runDedupe` once per params, all on one database (the tables are set up once). */
export function runDedupeEach<S extends ParamsSchema>(
  kind: NodeKind<S, string>,
  paramsList: ReadonlyArray<S["Encoded"]>,
  setup: string,
  inputs: Readonly<Record<string, string>>
): Promise<Array<DedupeResult>> {
  return runWithSql(
    Effect.gen(function* () {
      const sql = yield* Sql
      yield* sql.run(setup)
      const tables = yield* inputTables(sql, inputs)
      const results: Array<DedupeResult> = []
      for (const params of paramsList) results.push(yield* runOnce(sql, kind, params, tables))
      return results
    })
  )
}

/** Run a dedupe node expected to fail; resolve with the failure's tag and message. */
export function runDedupeError<S extends ParamsSchema>(
  kind: NodeKind<S, string>,
  params: S["Encoded"],
  setup: string,
  inputs: Readonly<Record<string, string>>
): Promise<{ readonly tag: string; readonly message: string }> {
  return runWithSql(
    Effect.gen(function* () {
      const sql = yield* Sql
      yield* sql.run(setup)
      const tables = yield* inputTables(sql, inputs)
      const decoded = Schema.decodeUnknownSync(kind.definition.params as never)(params) as S["Type"]
      return yield* kind.definition
        .run({ node: "dd", kind: kind.definition.kind, params: decoded, inputs: tables })
        .pipe(
          Effect.flip,
          Effect.map((e) => ({ tag: e._tag, message: e.message }))
        )
    })
  )
}

const q = (v: unknown) =>
  v === null ? "NULL" : typeof v === "number" ? String(v) : `'${String(v).replaceAll("'", "''")}'`

/** SQL creating `table` from inline rows (column names from `columns`); pair_id computed like a loader's. */
export function pairsTable(
  table: string,
  rows: ReadonlyArray<ReadonlyArray<unknown>>,
  columns = ["prompt", "response_a", "response_b", "label", "label_source", "source", "source_row"]
): string {
  const values = rows.map((r) => `(${r.map(q).join(", ")})`).join(",\n")
  return `CREATE TABLE ${table} AS SELECT substr(md5(prompt || chr(31) || response_a || chr(31) || response_b), 1, 16) AS pair_id, *
    REPLACE (source_row::BIGINT AS source_row) FROM (VALUES ${values}) t(${columns.join(", ")});`
}

/** SQL creating a votes table `v` from inline rows (pair found by its prompt and responses in `pairs`). */
export function votesTable(
  table: string,
  pairs: string,
  rows: ReadonlyArray<readonly [string, string, string, string, string, string, number | null]>
): string {
  const values = rows.map((r, k) => `(${k}, ${r.map(q).join(", ")})`).join(",\n")
  return `CREATE TABLE ${table} AS SELECT p.pair_id, t.rater, t.rater_kind, t.vote, t.p_a::DOUBLE AS p_a, NULL::JSON AS meta
    FROM (VALUES ${values}) t(k, prompt, response_a, response_b, rater, rater_kind, vote, p_a)
    JOIN (SELECT DISTINCT pair_id, prompt, response_a, response_b FROM ${pairs}) p USING (prompt, response_a, response_b)
    ORDER BY t.k;`
}

/** The PandaLM test set as the loader makes it (993 pairs: the 6 boolean rows skipped) plus 3 human votes each. */
export const PANDALM_SQL = `
  CREATE TABLE raw AS SELECT * FROM read_json('data/pandalm-testset/testset-v1.json', columns = {
    idx: 'INTEGER', instruction: 'VARCHAR', input: 'VARCHAR', response1: 'VARCHAR', response2: 'VARCHAR',
    annotator1: 'INTEGER', annotator2: 'INTEGER', annotator3: 'INTEGER'});
  CREATE TABLE p AS SELECT substr(md5(prompt || chr(31) || response_a || chr(31) || response_b), 1, 16) AS pair_id, * FROM (
    SELECT instruction || CASE WHEN input <> '' THEN chr(10) || chr(10) || input ELSE '' END AS prompt,
      response1 AS response_a, response2 AS response_b,
      CASE WHEN (annotator1 = 1)::INT + (annotator2 = 1)::INT + (annotator3 = 1)::INT >= 2 THEN 'a'
           WHEN (annotator1 = 2)::INT + (annotator2 = 2)::INT + (annotator3 = 2)::INT >= 2 THEN 'b' ELSE 'tie' END AS label,
      'human' AS label_source, 'pandalm' AS source, idx::BIGINT AS source_row, idx
    FROM raw WHERE idx NOT IN (157, 158, 159, 161, 162, 164));
  CREATE TABLE v AS SELECT p.pair_id, 'annotator' || k AS rater, 'human' AS rater_kind,
      CASE a WHEN 1 THEN 'a' WHEN 2 THEN 'b' ELSE 'tie' END AS vote, NULL::DOUBLE AS p_a, NULL::JSON AS meta
    FROM p JOIN (SELECT idx, unnest([1, 2, 3]) AS k, unnest([annotator1, annotator2, annotator3]) AS a FROM raw) r USING (idx)
    ORDER BY p.source_row, k;`

/** HH-RLHF harmless-base test: prompt = text before the last Assistant turn of `chosen`; a = chosen reply, b = rejected reply. */
export const HH_SQL = `
  CREATE TABLE raw AS SELECT row_number() OVER () - 1 AS source_row, chosen, rejected
    FROM read_json('data/hh-rlhf-harmless-base/test.jsonl.gz', format = 'newline_delimited', columns = {chosen: 'VARCHAR', rejected: 'VARCHAR'});
  CREATE TABLE p AS SELECT substr(md5(prompt || chr(31) || response_a || chr(31) || response_b), 1, 16) AS pair_id, * FROM (
    SELECT regexp_extract(chosen, '(?s)^(.*)\\n\\nAssistant:', 1) AS prompt,
      regexp_extract(chosen, '(?s)^.*\\n\\nAssistant:(.*)$', 1) AS response_a,
      regexp_extract(rejected, '(?s)^.*\\n\\nAssistant:(.*)$', 1) AS response_b,
      'a' AS label, 'human' AS label_source, 'hh-rlhf' AS source, source_row::BIGINT AS source_row
    FROM raw);`
