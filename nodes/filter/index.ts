/**
 * Filter family: keep the rows a SQL condition holds for, and say why every other row went.
 *
 * `filter.sql` — a SQL boolean expression over the `pairs` input's columns (DuckDB syntax; a subquery
 * may read the node's other input, `votes`). Rows where it is true are kept, in input order; rows where
 * it is false or NULL go to `removed`, with the expression as their reason. Connected votes follow
 * their rows, as in dedupe: a vote cast on a removed row is dropped. Rows in = rows out + removed,
 * always. The expression is checked before anything runs (`wb validate`): a misspelt column or an
 * expression that is not a condition fails there, naming the column and listing those that exist.
 *
 * **Input columns**
 * - `pairs` (one or more tables): any columns; pair_id (and source_row) when votes are connected.
 * - `votes` (optional, one or more): pair_id, rater, vote; a `source_row` (column or meta.source_row)
 *   ties a vote to its row where rows share a pair_id.
 *
 * **Output columns**
 * - `pairs` (main): the input's columns, the rows kept, in input order.
 * - `votes`: the input votes of kept rows (and of pair_ids the input does not hold), in input order;
 *   empty when no votes are connected.
 * - `removed`: the input's columns + reason: `where <expression>: false` or `…: null` (NULL removes a
 *   row, as in SQL), or the `reason` param when set.
 *
 * **Params**
 * - `where` (required): the condition, e.g. `length(prompt) < 2000 and label is not null`.
 * - `reason` (optional): the reason written on removed rows instead of the expression.
 *
 * **Stats**: rows_in, rows_out, removed, removed_null (rows where the expression was NULL), votes_in,
 * votes_out, votes_dropped (when votes are connected).
 *
 * **Example**
 * ```ts
 * const labelled = p.node("labelled", filter.sql({ where: "label in ('a', 'b')", reason: "unlabelled or tie" }),
 *   { pairs: clean, votes: clean.votes })
 * ```
 *
 * Gotchas: the expression is evaluated once per row (random() is drawn once); a column the upstream
 * does not list (a loader's pass-through extra) is checked only when the node runs.
 */
import { Effect, Result, Schema } from "effect"
import { input, outputLike, type OutputContract, type TableSchema } from "../../workbench/core/contract.js"
import { DataError } from "../../workbench/core/errors.js"
import { defineNode, type Inferred, type InputTable } from "../../workbench/core/node.js"
import { SchemaProbe, Sql, type SqlShape } from "../../workbench/core/services.js"
import { emptyVotesSelectSql, voteColumns, votesInput } from "../lib/pair-tables.js"
import {
  anyOpen,
  bindRefusal,
  checkSelectTree,
  deferredNote,
  missingColumnOf,
  parseTree,
  refusalError
} from "../lib/select-check.js"
import {
  expressionRefusal,
  hasColumn,
  keptVotesSql,
  markSql,
  notBoolean,
  quoted,
  reasonSql,
  removedSql,
  whereSql
} from "./plan.js"

export const FilterParams = Schema.Struct({
  where: Schema.String.check(Schema.isMinLength(1)).annotate({
    description: "SQL boolean expression over the pairs' columns; rows where it is true are kept (required)"
  }),
  reason: Schema.optionalKey(
    Schema.String.check(Schema.isMinLength(1)).annotate({
      description: "reason written on removed rows (default: the expression and whether it gave false or null)"
    })
  )
})
export type FilterParams = typeof FilterParams.Type

/**
 * Check `where` over the tables on `sql` (the probe's stand-ins, or the run's views): one expression,
 * reading only the inputs, that binds and is a boolean. A note instead when that cannot be told before
 * the run (a column the upstream does not list, on an input that may carry unlisted ones).
 */
export const checkWhere = (sql: SqlShape, where: string, inputs: Readonly<Record<string, TableSchema>>, at: string) =>
  Effect.gen(function* () {
    const tree = yield* parseTree(sql, markSql(where, "pairs"))
    const check = checkSelectTree(tree, Object.keys(inputs), "length(prompt) < 2000", "expression")
    if (check._tag === "Refused") return yield* refusalError(at, check)
    const single = expressionRefusal(tree)
    if (single !== undefined) return yield* refusalError(at, single)
    const describe = (statement: string) => Effect.result(sql.describe(`(\n${statement}\n)`))
    // the select-list form gives the type; the WHERE form makes DuckDB refuse aggregates and window functions
    const typed = yield* describe(markSql(where, "pairs"))
    const filtered = Result.isFailure(typed) ? typed : yield* describe(whereSql(where, "pairs"))
    const failure = Result.isFailure(filtered) ? filtered.failure : undefined
    if (failure !== undefined) {
      if (missingColumnOf(failure.reason) !== undefined && anyOpen(inputs, check.tables)) {
        return { notes: [deferredNote(failure.reason, inputs, check.tables)] } satisfies Inferred
      }
      return yield* refusalError(at, bindRefusal(failure.reason, inputs, "expression"))
    }
    const type = Result.getOrThrow(typed).columns[0]?.type ?? "nothing"
    if (type !== "bool") return yield* refusalError(at, notBoolean(type))
    return {} satisfies Inferred
  })

const votesRefusal = (at: string) =>
  new DataError({
    where: at,
    found: "votes are connected, but the pairs have no pair_id column to match them with",
    expected: "a pair_id column on the pairs (the votes follow their pairs)",
    fix: "connect pairs that carry pair_id, or leave votes unconnected"
  })

const votesOutput: OutputContract = {
  role: "aux",
  doc: "the input votes of kept rows",
  schema: (ins) =>
    ins["votes"] ?? { columns: Object.entries(voteColumns).map(([name, type]) => ({ name, type })), open: false }
}

const emptyVotesSql = emptyVotesSelectSql()

export const sql = defineNode({
  kind: "filter.sql",
  version: 2,
  summary: "Keep rows where a SQL condition is true; the others go to removed with the condition as reason",
  params: FilterParams,
  inputs: {
    pairs: input(
      {},
      { optional: { pair_id: "utf8", source_row: "int64" }, many: true, doc: "the rows to filter (any columns)" }
    ),
    votes: votesInput("votes on the pairs; those of removed rows are dropped")
  },
  outputs: {
    pairs: outputLike("main", "pairs", { doc: "kept rows, in input order" }),
    votes: votesOutput,
    removed: outputLike("removed", "pairs", { add: { reason: "utf8" }, doc: "removed rows with the reason" })
  },
  inferOutputs: ({ params, inputs }) =>
    Effect.gen(function* () {
      const pairs = inputs["pairs"]!
      if (inputs["votes"] !== undefined && !pairs.open && !hasColumn(pairs, "pair_id"))
        return yield* votesRefusal("input votes")
      const probe = yield* SchemaProbe
      return yield* probe.withTables(inputs, (s) => checkWhere(s, params.where, inputs, "param where"))
    }),
  run: (ctx) =>
    Effect.gen(function* () {
      const db = yield* Sql
      const pairs: InputTable = ctx.inputs.pairs
      const votes: InputTable | undefined = ctx.inputs.votes
      const at = `node "${ctx.node}" (${ctx.kind}) param where`
      if (votes !== undefined && !hasColumn(pairs.schema, "pair_id"))
        return yield* votesRefusal(`node "${ctx.node}" (${ctx.kind}) input votes`)
      // the inputs under their names, for the expression (and its subqueries); `_wb_row` keeps input order
      yield* db.run(`CREATE OR REPLACE TEMP VIEW ${quoted("pairs")} AS SELECT * FROM ${pairs.numbered}`)
      if (votes !== undefined)
        yield* db.run(`CREATE OR REPLACE TEMP VIEW ${quoted("votes")} AS SELECT * FROM ${votes.relation}`)
      const schemas = { pairs: pairs.schema, ...(votes === undefined ? {} : { votes: votes.schema }) }
      yield* checkWhere(db, ctx.params.where, schemas, at)
      const marked = yield* db
        .create("filter_marked", markSql(ctx.params.where, "pairs", true))
        .pipe(
          Effect.catchTag("SqlError", (e) =>
            Effect.fail(refusalError(at, bindRefusal(e.reason, schemas, "expression")))
          )
        )
      const kept = yield* db.create(
        "filter_pairs",
        `SELECT * EXCLUDE (_wb_row, _wb_keep) FROM ${marked} WHERE _wb_keep IS TRUE ORDER BY _wb_row`
      )
      const removed = yield* db.create(
        "filter_removed",
        removedSql(marked, pairs.schema, reasonSql(ctx.params.where, ctx.params.reason))
      )
      const [c] = yield* db.rows<{ rows_in: number; rows_out: number; removed: number; removed_null: number }>(
        `SELECT count(*) AS rows_in, count_if(_wb_keep IS TRUE) AS rows_out, count_if(_wb_keep IS NOT TRUE) AS removed,
           count_if(_wb_keep IS NULL) AS removed_null FROM ${marked}`
      )
      const stats: Record<string, number> = { ...c! }
      let votesOut: string
      if (votes === undefined) votesOut = yield* db.create("filter_votes", emptyVotesSql)
      else {
        votesOut = yield* db.create("filter_votes", keptVotesSql(marked, pairs.schema, votes))
        const out = yield* db.count(votesOut)
        Object.assign(stats, { votes_in: votes.rows, votes_out: out, votes_dropped: votes.rows - out })
      }
      if (c!.rows_in !== pairs.rows || c!.rows_out + c!.removed !== c!.rows_in) {
        return yield* Effect.die(
          new Error(`filter.sql lost rows: ${pairs.rows} in, ${c!.rows_out} kept + ${c!.removed} removed`)
        )
      }
      return { tables: { pairs: kept, votes: votesOut, removed }, stats }
    })
})

export const filter = { sql }
