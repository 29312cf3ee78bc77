/**
 * Apply a dedupe plan to the tables in SQL: kept pairs (labels re-voted where votes were merged),
 * re-pointed votes, removed rows with their reason and kept twin, label conflicts, and the report.
 * Every output keeps the input's order. `pairs` and `removed` are views over the input rows (the
 * numbered input itself, or the copy) and the plan, so the text is written once: `pairs` a plain
 * filter (a filter keeps order; joins do not), `removed` a join sorted by position.
 */
import { Effect } from "effect"
import type { InputTable, NodeOutput } from "../../workbench/core/node.js"
import type { SqlShape } from "../../workbench/core/services.js"
import type { DedupePlan } from "./plan.js"
import { cols, DROP, hasColumn, invariantBroken } from "./sql.js"
import { applyVotes } from "./votes.js"

/** Where the rows to dedupe are, and how the plan's row i is found among them. */
export interface DedupeSource {
  /** The input rows (the numbered input, or a copy of the input). */
  readonly relation: string
  /** Column of `relation`: the row's position 0..n-1, the plan's row index. */
  readonly row: string
  /** Column of `relation` the outputs leave out (`_wb_row`, or the copy's drop flag). */
  readonly hidden: string
  /**
   * A copy (a table with the drop flag): the outputs flag and relabel it in place. Otherwise the
   * numbered input, which the outputs filter by position (`positionsSql`); it is never relabelled.
   */
  readonly copied: boolean
}

export interface PlanTables {
  readonly node: string
  readonly source: DedupeSource
  /** The key table: r, pair_id and _srow (source_row) of every row. */
  readonly keys: string
  readonly n: number
  readonly pairs: InputTable
  /** The copy of the input votes, if any, and the input it came from (for its columns). */
  readonly votes?: string | undefined
  readonly votesInput?: InputTable | undefined
  /** The votes cast on one input row (vid, r; see dedupe-votes.ts), if the votes name their rows. */
  readonly voteRows?: string | undefined
}

/** The rows of `source` passing `where`: every column of `SELECT *`, plus the position as column `row`. */
const rowsWhere = (source: DedupeSource, where: string): string =>
  `(SELECT *${source.copied ? `, ${source.row}` : ""} FROM ${source.relation} WHERE ${where})`

/**
 * SQL: true for the rows whose position `row` is in `rows` (sorted or not, within 0..n-1). A bitmap
 * constant (`get_bit` of a BIT made from base64), so the test is a plain filter whatever the count:
 * no join, and the scan keeps its order.
 */
export function positionsSql(row: string, n: number, rows: ReadonlyArray<number>): string {
  if (rows.length === 0) return "false"
  const bytes = new Uint8Array(Math.ceil(n / 8))
  for (const i of rows) bytes[i >> 3]! |= 0x80 >> (i & 7)
  return `(get_bit(from_base64('${Buffer.from(bytes).toString("base64")}')::BIT, ${row}::INTEGER) = 1)`
}

/** The kept twins of `rows` (positions; -1 for none is left out). */
const twinsOf = (plan: DedupePlan, rows: ReadonlyArray<number>): Array<number> => {
  const out: Array<number> = []
  for (const i of rows) if (plan.twin[i]! >= 0) out.push(plan.twin[i]!)
  return out
}

export const applyPlan = (sql: SqlShape, t: PlanTables, plan: DedupePlan) =>
  Effect.gen(function* () {
    const { source, pairs } = t
    const planTable = sql.tempName("dedupe_plan")
    const rows: Array<number> = [],
      gone: Array<number> = []
    for (let i = 0; i < t.n; i++) {
      if (plan.reason[i] !== null || plan.merged[i]) rows.push(i)
      if (plan.reason[i] !== null) gone.push(i)
    }
    const orNull = (v: number) => (v < 0 ? null : v)
    if (t.votes === undefined) {
      // no votes to move: the removed rows and their twins are all the plan the outputs need
      yield* sql.load(planTable, cols({ r: "int32", reason: "utf8", twin: "int32" }), [
        gone,
        gone.map((i) => plan.reason[i]),
        gone.map((i) => orNull(plan.twin[i]!))
      ])
    } else {
      yield* sql.load(
        planTable,
        cols({ r: "int32", reason: "utf8", twin: "int32", votes_to: "int32", votes_flip: "bool", merged: "bool" }),
        [
          rows,
          rows.map((i) => plan.reason[i]),
          rows.map((i) => orNull(plan.twin[i]!)),
          rows.map((i) => orNull(plan.votesTo[i]!)),
          rows.map((i) => plan.votesFlip[i] === 1),
          rows.map((i) => plan.merged[i] === 1)
        ]
      )
    }
    const votes = yield* applyVotes(sql, t, planTable)
    const stats: Record<string, number | string> = { ...plan.stats, ...votes.stats }

    // the rows the removed and conflicts tables show, read once: few, and a scan of the input reads all
    // its text whatever the filter (a copy is in memory already)
    const shown = [...new Set([...gone, ...plan.conflicts.map((c) => c.row)])]
    let touched = source
    if (!source.copied) {
      touched = { ...source, relation: sql.tempName("dedupe_touched") }
      yield* sql.run(
        `CREATE TABLE ${touched.relation} AS SELECT * FROM ${source.relation} WHERE ${positionsSql(source.row, t.n, shown)}`
      )
    }
    const conflicts = yield* conflictsTable(sql, t, touched, plan)

    // pairs: kept rows, label re-voted; label_source 'mixed' when the merged votes mix rater kinds.
    // A plain filter of the rows keeps their order without a sort, and the runner's COPY to Parquet
    // reads the text once (a view). A copy is flagged (and relabelled) in place first.
    const pairsOut = sql.tempName("dedupe_out")
    if (source.copied) {
      const base = source.relation
      yield* sql.run(
        `UPDATE ${base} SET ${DROP} = true WHERE rowid IN (SELECT r FROM ${planTable} WHERE reason IS NOT NULL)`
      )
      if (votes.relabel !== undefined) {
        const mixed = hasColumn(pairs, "label_source")
          ? `, label_source = CASE WHEN l.kinds > 1 THEN 'mixed' ELSE ${base}.label_source END`
          : ""
        yield* sql.run(
          `UPDATE ${base} SET label = l.label${mixed} FROM ${votes.relabel} l WHERE ${base}.rowid = l.r AND l.label IS NOT NULL`
        )
      }
      yield* sql.run(`CREATE VIEW ${pairsOut} AS SELECT * EXCLUDE (${DROP}) FROM ${base} WHERE NOT ${DROP}`)
    } else {
      if (votes.relabel !== undefined)
        return yield* Effect.die(new Error("dedupe: labels to re-vote on an input that was not copied"))
      yield* sql.run(`CREATE VIEW ${pairsOut} AS SELECT * EXCLUDE (${source.hidden}) FROM ${source.relation}
      WHERE NOT ${positionsSql(source.row, t.n, gone)}`)
    }

    const exclude = [
      ...new Set([source.hidden, source.row]),
      ...["reason", "kept_pair_id", "kept_source_row"].filter((c) => hasColumn(pairs, c))
    ]
    const keptRow = hasColumn(pairs, "source_row") ? "k._srow::BIGINT" : "NULL::BIGINT"
    const removed = sql.tempName("dedupe_removed")
    // the removed rows are few: filter them out of the scan first, then join the plan and the twins' keys
    yield* sql.run(`CREATE VIEW ${removed} AS
    SELECT b.* EXCLUDE (${exclude.join(", ")}), p.reason, k.pair_id AS kept_pair_id, ${keptRow} AS kept_source_row
    FROM ${planTable} p JOIN ${rowsWhere(touched, positionsSql(source.row, t.n, gone))} b ON b.${source.row} = p.r
    LEFT JOIN (SELECT r, pair_id, _srow FROM ${t.keys} WHERE ${positionsSql("r", t.n, twinsOf(plan, gone))}) k ON k.r = p.twin
    WHERE p.reason IS NOT NULL ORDER BY b.${source.row}`)

    const report = sql.tempName("dedupe_report")
    yield* sql.load(
      report,
      cols({ check: "utf8", groups: "int64", rows_found_in_input: "int64", rows_removed: "int64" }),
      [
        plan.report.map((r) => r.check),
        plan.report.map((r) => r.groups),
        plan.report.map((r) => r.rows_found_in_input),
        plan.report.map((r) => r.rows_removed)
      ]
    )

    const kept = yield* sql.count(pairsOut)
    const goneCount = yield* sql.count(removed)
    if (kept + goneCount !== t.n || kept !== plan.stats["rows_out"]) {
      return yield* Effect.fail(
        invariantBroken(
          t.node,
          `${t.n} rows in, ${kept} out and ${goneCount} removed (plan: ${plan.stats["rows_out"]} out)`
        )
      )
    }
    // rows in = pairs only, so that the run summary's in = out + removed holds with votes connected too
    return {
      tables: { pairs: pairsOut, votes: votes.table, removed, conflicts, report },
      stats,
      rowsIn: t.n
    } satisfies NodeOutput
  })

/** One row per member of a duplicate group whose labels disagree. */
const conflictsTable = (sql: SqlShape, t: PlanTables, rows: DedupeSource, plan: DedupePlan) =>
  Effect.gen(function* () {
    const raw = sql.tempName("dedupe_conflict_rows")
    const c = plan.conflicts
    yield* sql.load(raw, cols({ k: "int32", check: "utf8", grp: "int32", r: "int32", flipped: "bool", kept: "bool" }), [
      c.map((_, k) => k),
      c.map((x) => x.check),
      c.map((x) => x.group),
      c.map((x) => x.row),
      c.map((x) => x.flipped),
      c.map((x) => x.kept)
    ])
    const col = (name: string, type: string) => (hasColumn(t.pairs, name) ? `b.${name}::${type}` : `NULL::${type}`)
    const row = rows.row
    const out = sql.tempName("dedupe_conflicts")
    // only the conflicting rows are read from the input (none: not even a scan)
    yield* sql.run(`CREATE TABLE ${out} AS
    SELECT c."check", g.pair_id AS group_pair_id, b.pair_id, ${col("source", "VARCHAR")} AS source,
      ${col("source_row", "BIGINT")} AS source_row, ${col("label", "VARCHAR")} AS label, c.flipped,
      CASE WHEN c.kept THEN 'kept' ELSE 'removed' END AS outcome, b.prompt, b.response_a, b.response_b
    FROM ${raw} c JOIN ${rowsWhere(
      rows,
      positionsSql(
        row,
        t.n,
        c.map((x) => x.row)
      )
    )} b ON b.${row} = c.r
    JOIN (SELECT r, pair_id FROM ${t.keys} WHERE ${positionsSql(
      "r",
      t.n,
      c.map((x) => x.group)
    )}) g ON g.r = c.grp
    ORDER BY c.k`)
    return out
  })
