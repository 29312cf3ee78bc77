import { Effect, Schema } from "effect"
import type { Table } from "apache-arrow"
import { DataError } from "../../workbench/core/errors.js"
import { defineNode } from "../../workbench/core/node.js"
import { param } from "../../workbench/core/params.js"
import { Progress, Sql, Workspace } from "../../workbench/core/services.js"
import { pairColumns, pairsOutput, rejectsOutput, votesOutput } from "../lib/pair-tables.js"
import {
  type ArrowColumn,
  arrowColumns,
  columnValues,
  isArrowTable,
  type TableDigest,
  tableDigest
} from "./arrow-columns.js"
import { collectRejects } from "./check.js"
import { columnNamesOf } from "./extras.js"
import { type LoadContext, where } from "./files.js"
import { finishLoad } from "./finish.js"
import { messageListProblemSql } from "./messages.js"
import { chosenRejectedPairsSql, sidesPairsSql } from "./pairs.js"
import { loaderViews } from "./define.js"
import { removedOutput } from "./removed.js"
import { renderMessagesSql, sqlText } from "./sql.js"
import { resolveColumns, TableParams } from "./table.js"

const ArrowTableParam = Schema.declare(isArrowTable, {
  expected: "an apache-arrow Table (load.arrow is for TypeScript programs; YAML cannot hold one: use load.table)",
  description: "the in-memory apache-arrow Table to load (any apache-arrow copy); cached by a hash of its content"
})

export const ArrowParams = Schema.Struct({
  table: ArrowTableParam,
  columns: TableParams.fields.columns,
  labels: TableParams.fields.labels,
  source: param(Schema.String, "arrow", "dataset name for the source column"),
  seed: TableParams.fields.seed,
  labelSource: TableParams.fields.labelSource,
  maxRejectRate: TableParams.fields.maxRejectRate
})
export type ArrowParams = typeof ArrowParams.Type

const KIND = "load.arrow"

/**
 * The table's digest, once per decoded params object: the runner asks for it for the cache key and
 * again for the manifest. A new graph build decodes new params, so a table changed between two runs
 * is hashed again.
 */
const digests = new WeakMap<object, TableDigest>()
const digestOf = (params: ArrowParams) => {
  let digest = digests.get(params)
  if (digest === undefined) digests.set(params, (digest = tableDigest(params.table)))
  return digest
}

/**
 * The table's columns; a column of a type the engine cannot hold fails the node, naming it. So does a
 * table without columns, and a name used by two columns (Arrow allows it): columns are found by name,
 * so one of the two would be loaded in the other's place without a word.
 */
const loadableColumns = (ctx: LoadContext, table: Table) => {
  const columns = arrowColumns(table)
  if (columns.length === 0) {
    return Effect.fail(
      new DataError({
        where: where(ctx, "param table"),
        found: "the table has no columns",
        expected: "columns prompt, chosen, rejected, or prompt, response_a, response_b (and optionally label)",
        fix: "pass the table that holds the pairs (tableFromArrays({ prompt, chosen, rejected }) builds one)"
      })
    )
  }
  const names = columns.map((c) => c.name)
  const repeated = names.find((n, i) => names.indexOf(n) !== i)
  if (repeated !== undefined) {
    const at = names.flatMap((n, i) => (n === repeated ? [i] : []))
    return Effect.fail(
      new DataError({
        where: where(ctx, "param table"),
        found: `column "${repeated}" appears ${at.length} times (columns ${at.join(", ")}); its columns: ${names.join(", ")}`,
        expected: "each column name once",
        fix: `rename or drop the repeated "${repeated}" columns before loading (e.g. with table.selectAt([...]))`
      })
    )
  }
  const bad = columns.find((c) => c.type === undefined)
  if (bad === undefined) return Effect.succeed(columns)
  return Effect.fail(
    new DataError({
      where: where(ctx, `param table, column "${bad.name}"`),
      found: `Arrow type ${bad.arrowType}`,
      expected:
        "Utf8 (or a dictionary of it), Int8-64, Uint8-32, Float16-64, Bool, Date, Timestamp, or List/Struct/Map (kept as JSON)",
      fix: `convert column "${bad.name}" before loading (e.g. decimals to Float64, binary to base64 Utf8), or leave it out with table.select([...])`
    })
  )
}

/** A mapped column of the wrong type fails the whole load: every row would be rejected for it. */
const checkRole = (
  ctx: LoadContext,
  role: string,
  column: ArrowColumn,
  accepted: ReadonlyArray<string>,
  listOk = false
) =>
  accepted.includes(column.type!) || (listOk && column.isList)
    ? Effect.void
    : Effect.fail(
        new DataError({
          where: where(ctx, `param columns.${role}`),
          found: `column "${column.name}" is ${column.arrowType}`,
          expected: `a column of ${accepted.join(" or ")}${listOk ? ", or a list of {role, content} messages" : ""}`,
          fix: `map columns.${role} to another column, or convert "${column.name}" to Utf8 before loading`
        })
      )

/** Label value -> 'a' | 'b' | 'tie', NULL when absent or unknown (the same rule as load.table). */
const labelSql = (v: string, labels: Readonly<Record<string, string>>) =>
  `CASE lower(trim(${v})) ${Object.entries(labels)
    .map(([k, l]) => `WHEN ${sqlText(k.trim().toLowerCase())} THEN ${sqlText(l)}`)
    .join(" ")} END`

/**
 * Load an in-memory Arrow table of preference pairs, for TypeScript programs that hold their data
 * already (no file). The same column mapping as `load.table`: chosen/rejected (sides drawn by a
 * seeded hash) or response_a/response_b with an optional label column; every other column passes
 * through with its type. The cache key holds a sha256 of the table's schema and values (not the
 * object): the same rows, however batched, are cached; one changed cell re-runs the node.
 *
 * **Input columns**: none (reads `table`). Arrow types load as: Utf8 / LargeUtf8 / dictionaries of
 * them -> utf8; Int8-32, Uint8-16 -> int32; Int64, Uint32 -> int64; Float16-64 -> float64 (NaN ->
 * NULL, with a note); Bool -> bool; Date -> date; Timestamp -> timestamp (UTC, to the millisecond);
 * List, Struct, Map and Utf8 marked `arrow.json` -> json. Others (Decimal, Binary, Uint64, …) fail
 * the node naming the column.
 *
 * **Output columns**
 * - `pairs`: pair_id, prompt, response_a, response_b, label, label_source, source, source_row (row
 *   number in the table, 0-based), messages (when the prompt column holds message lists), then the
 *   unmapped columns (renamed as load.table does: `src_` prefix on a clash with a pairs column).
 * - `votes`: empty. `rejects`: file ("(arrow table)"), index (the row, 0-based), reason, raw (the
 *   row as JSON): NULL prompt or response, invalid message lists, unknown labels. `removed`: empty
 *   (repeated rows are kept: removing them is dedupe's job).
 *
 * **Params**: table, columns (null), labels, source ("arrow"), seed (0), labelSource (null), maxRejectRate (0).
 *
 * **Stats**: records, pairs, rejected, label_a, label_b, label_tie, label_none, empty_responses, mode.
 * rowsIn = records = pairs + rejected.
 *
 * **Example**
 * ```ts
 * import { tableFromArrays } from "apache-arrow"
 * const table = tableFromArrays({ prompt: ["2+2?"], chosen: ["4"], rejected: ["5"] })
 * const pairs = p.node("pairs", load.arrow({ table }))
 * ```
 */
export const arrow = defineNode({
  kind: KIND,
  version: 3,
  summary: "An in-memory apache-arrow Table of pairs (TypeScript only), cached by a hash of its content",
  params: ArrowParams,
  inputs: {},
  outputs: { pairs: pairsOutput(), votes: votesOutput(), rejects: rejectsOutput(), removed: removedOutput() },
  views: loaderViews,
  // the Table itself never enters the key or the manifest: its digest stands for it
  keyParams: (params) => ({ ...params, table: digestOf(params) }),
  run: ({ node, params, sample }) =>
    Effect.gen(function* () {
      const sql = yield* Sql
      // a sample run (wb run --sample N) loads the table's first N rows
      const table = sample === undefined ? params.table : params.table.slice(0, sample)
      const ctx: LoadContext = { node, kind: KIND, root: (yield* Workspace).root }
      const columns = yield* loadableColumns(ctx, table)
      const names = columns.map((c) => c.name)
      const mapping = resolveColumns(ctx, params.columns, names)
      // resolveColumns speaks of a file's fields; here they are a table's columns
      if (mapping instanceof DataError) {
        const { where: at, found, expected, fix } = mapping
        return yield* new DataError({
          where: at,
          found: found.replaceAll("the file has", "the table has"),
          expected,
          fix
        })
      }
      const col = (name: string) => columns[names.indexOf(name)]!
      const ref = (name: string) => `_c${names.indexOf(name)}`
      const responses = mapping.mode === "chosen" ? [mapping.chosen, mapping.rejected] : [mapping.a, mapping.b]
      const label = mapping.mode === "sides" ? mapping.label : undefined
      const roles = mapping.mode === "chosen" ? ["chosen", "rejected"] : ["response_a", "response_b"]
      yield* checkRole(ctx, "prompt", col(mapping.prompt), ["utf8"], true)
      for (const [i, r] of responses.entries()) yield* checkRole(ctx, roles[i]!, col(r), ["utf8"])
      if (label !== undefined) yield* checkRole(ctx, "label", col(label), ["utf8", "int32", "int64", "bool"])

      const rows = table.numRows
      const loaded = sql.tempName("arrow")
      const values = columns.map((c, i) => columnValues(table, i, c.type!))
      for (const [i, v] of values.entries()) {
        if (v.nans > 0)
          yield* (yield* Progress).note(`column ${columns[i]!.name}: ${v.nans} NaN value(s) loaded as NULL`)
      }
      yield* sql.load(
        loaded,
        [{ name: "record", type: "int64" }, ...columns.map((c, i) => ({ name: `_c${i}`, type: c.type! }))],
        [Array.from({ length: rows }, (_, i) => i), ...values.map((v) => v.values)]
      )
      values.length = 0 // the JS copies are not needed once DuckDB holds the rows

      // the first problem of each row, in the order load.table checks: prompt, responses, label
      const promptIsList = col(mapping.prompt).isList
      const isNull = (name: string, what: string) =>
        `WHEN ${ref(name)} IS NULL THEN ${sqlText(`${name}: expected ${what}, got null`)}`
      const known = Object.keys(params.labels).join(", ")
      const reason = `coalesce(CASE ${isNull(mapping.prompt, promptIsList ? "a list of messages" : "a string")}
          ${responses.map((r) => isNull(r, "a string")).join(" ")} END,
        ${promptIsList ? messageListProblemSql(ref(mapping.prompt), mapping.prompt) : "NULL"},
        ${
          label === undefined
            ? "NULL"
            : `CASE WHEN trim(${ref(label)}::VARCHAR) <> '' AND ${labelSql(`${ref(label)}::VARCHAR`, params.labels)} IS NULL
          THEN ${sqlText(`${label}: unknown value "`)} || ${ref(label)}::VARCHAR || ${sqlText(`" (known: ${known}; see the labels param)`)} END`
        })`
      const raw = `json_object(${names.map((n, i) => `${sqlText(n)}, _c${i}`).join(", ")})::VARCHAR`
      const records = sql.tempName("records")
      // a plain projection of one table keeps the rows in table order
      yield* sql.run(`CREATE TABLE ${records} AS SELECT *, CASE WHEN reason IS NOT NULL THEN ${raw} END AS raw
        FROM (SELECT *, ${reason} AS reason FROM ${loaded})`)
      yield* sql.run(`DROP TABLE ${loaded}`)
      // numbered as a JSON array's elements are (`index`, 0-based): the row's position in the Arrow table
      const file = {
        file: { abs: "", shown: "(arrow table)", format: "json" as const },
        records: { table: records, records: rows, blankLines: 0 }
      }
      const rejects = yield* collectRejects(ctx, [file], params.maxRejectRate)

      const mapped = [mapping.prompt, ...responses, ...(label === undefined ? [] : [label])]
      const extras = names.filter((n) => !mapped.includes(n))
      const reserved = new Set([...Object.keys(pairColumns), "messages"].map((n) => n.toLowerCase()))
      const common = {
        from: `(SELECT * FROM ${records} WHERE reason IS NULL)`,
        inOrder: true,
        prompt: promptIsList ? renderMessagesSql(ref(mapping.prompt)) : ref(mapping.prompt),
        ...(promptIsList ? { messages: ref(mapping.prompt) } : {}),
        record: "record",
        source: params.source,
        labelSource: params.labelSource,
        extras: columnNamesOf(extras, reserved).map((name, i) => [ref(extras[i]!), name] as const)
      }
      const pairs = sql.tempName("pairs")
      yield* sql.run(
        `CREATE TABLE ${pairs} AS ${
          mapping.mode === "chosen"
            ? chosenRejectedPairsSql({
                ...common,
                chosen: ref(mapping.chosen),
                rejected: ref(mapping.rejected),
                seed: params.seed
              })
            : sidesPairsSql({
                ...common,
                a: ref(mapping.a),
                b: ref(mapping.b),
                label: label === undefined ? "NULL::VARCHAR" : labelSql(`${ref(label)}::VARCHAR`, params.labels)
              })
        }`
      )
      return yield* finishLoad({ ctx, pairs, rejects, files: [file], stats: { mode: mapping.mode } })
    })
})
