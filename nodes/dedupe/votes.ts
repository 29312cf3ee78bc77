/**
 * Votes in the dedupe family: which row each vote was cast on, and where it goes after the plan.
 *
 * A vote belongs to a row, not only to a pair_id: rows with identical texts share a pair_id (PandaLM
 * has 70 such groups) but each carries its own raters' votes. A vote names its row by `source_row`
 * (a column of the votes table, or `meta.source_row`, as load.pandalm writes it); it is attributed
 * to the one input row with its pair_id and that source_row. A vote that names no row, or a row that
 * is not there (or not only once), goes by pair_id as before.
 *
 * Gotchas:
 * - After a merge a kept pair may hold several votes of one rater, one per merged row (the data
 *   model's "one row per pair x rater" holds per source row): they are kept, not aggregated, so the
 *   re-voted label counts each, and meta.source_row (when the loader writes it) tells them apart.
 */
import { Effect } from "effect"
import type { InputTable } from "../../workbench/core/node.js"
import type { SqlShape } from "../../workbench/core/services.js"
import type { DedupeSource, PlanTables } from "./apply.js"
import { createEmptyVotesSql } from "../lib/pair-tables.js"
import { hasColumn } from "./sql.js"

/** SQL for the row a vote `v` names (its source_row), or undefined when the votes cannot name one. */
function voteRowSql(votes: InputTable): string | undefined {
  const type = (name: string) => votes.schema.columns.find((c) => c.name === name)?.type
  if (type("source_row") !== undefined) return "TRY_CAST(v.source_row AS BIGINT)"
  const fromMeta = "TRY_CAST(json_extract_string(v.meta, '$.source_row') AS BIGINT)"
  if (type("meta") === "json") return fromMeta
  if (type("meta") === "utf8") return `CASE WHEN json_valid(v.meta) THEN ${fromMeta} END`
  return undefined
}

/**
 * A table (vid, r): the votes (rowid of the votes copy) cast on exactly one input row (its position
 * r). Undefined when the pairs have no source_row or the votes name no row.
 */
export const attributeVotes = (
  sql: SqlShape,
  source: DedupeSource,
  pairs: InputTable,
  votes: string,
  votesInput: InputTable
) =>
  Effect.gen(function* () {
    const voteRow = voteRowSql(votesInput)
    if (voteRow === undefined || !hasColumn(pairs, "source_row")) return undefined
    const table = sql.tempName("dedupe_vote_rows")
    yield* sql.run(`CREATE TABLE ${table} AS
      SELECT v.rowid AS vid, min(s.${source.row})::INTEGER AS r
      FROM ${votes} v JOIN ${source.relation} s ON s.pair_id = v.pair_id AND s.source_row = ${voteRow}
      GROUP BY v.rowid HAVING count(*) = 1`)
    return table
  })

/** SQL: votes per input row (r, n), its own and those on its pair_id that name no row (keep "most-votes"). */
export const votesPerRowSql = (source: DedupeSource, votes: string, voteRows: string | undefined): string =>
  voteRows === undefined
    ? `(SELECT s.${source.row}::INTEGER AS r, count(*)::INTEGER AS n FROM ${source.relation} s JOIN ${votes} v USING (pair_id) GROUP BY 1)`
    : `(SELECT r, sum(n)::INTEGER AS n FROM (
        SELECT r, count(*) AS n FROM ${voteRows} GROUP BY r
        UNION ALL SELECT s.${source.row}::INTEGER, count(*) FROM ${source.relation} s
          JOIN (SELECT pair_id FROM ${votes} WHERE rowid NOT IN (SELECT vid FROM ${voteRows})) v USING (pair_id) GROUP BY 1
      ) GROUP BY r)`

const voteSwap = (v: string) => `CASE ${v} WHEN 'a' THEN 'b' WHEN 'b' THEN 'a' ELSE ${v} END`

/**
 * Re-point votes. A vote cast on a row follows that row: it stays if the row stays, moves to the
 * plan's votes_to row (flipped for mirrored twins), or is dropped. A vote that names no row goes by
 * pair_id: it stays if any row with its pair_id stays, otherwise it follows their votes_to row, or
 * is dropped. Then re-vote the label of kept rows that received votes: the majority of a / b / tie,
 * a tie when no side has most.
 */
export const applyVotes = (sql: SqlShape, t: PlanTables, planTable: string) =>
  Effect.gen(function* () {
    const { pairs } = t
    const base = t.source.relation,
      row = t.source.row
    const table = sql.tempName("dedupe_votes")
    if (t.votes === undefined) {
      yield* sql.run(createEmptyVotesSql(table))
      return { table, relabel: undefined, stats: {} }
    }
    const pmap = sql.tempName("dedupe_vote_map")
    yield* sql.run(`CREATE TABLE ${pmap} AS
    SELECT b.pair_id AS from_id, bool_or(p.reason IS NULL) AS any_kept, min(d.pair_id) AS to_id, bool_or(p.votes_flip) AS flip
    FROM ${base} b LEFT JOIN ${planTable} p ON p.r = b.${row} LEFT JOIN ${base} d ON d.${row} = p.votes_to
    WHERE b.pair_id IN (SELECT x.pair_id FROM ${planTable} q JOIN ${base} x ON x.${row} = q.r WHERE q.reason IS NOT NULL)
    GROUP BY b.pair_id`)
    const byPair = { moved: "(m.from_id IS NOT NULL AND NOT m.any_kept)", to: "m.to_id", flip: "m.flip" }
    const own =
      t.voteRows === undefined
        ? undefined
        : {
            join: `LEFT JOIN ${t.voteRows} a ON a.vid = v.rowid LEFT JOIN ${planTable} pr ON pr.r = a.r LEFT JOIN ${t.keys} d ON d.r = pr.votes_to`,
            moved: "(pr.reason IS NOT NULL)",
            to: "d.pair_id",
            flip: "pr.votes_flip"
          }
    const pick = (k: "moved" | "to" | "flip") =>
      own === undefined ? byPair[k] : `(CASE WHEN a.vid IS NOT NULL THEN ${own[k]} ELSE ${byPair[k]} END)`
    const moved = pick("moved"),
      to = pick("to")
    const flip = `(${moved} AND ${pick("flip")})`
    const from = `${t.votes} v LEFT JOIN ${pmap} m ON m.from_id = v.pair_id ${own?.join ?? ""}`
    // a mirrored twin's sides are swapped: its a is the kept pair's b, so 'ab' (its a shown first) becomes 'ba'
    const pA =
      (hasColumn(t.votesInput, "p_a") ? `, CASE WHEN ${flip} THEN 1 - v.p_a ELSE v.p_a END AS p_a` : "") +
      (hasColumn(t.votesInput, "order")
        ? `, CASE WHEN ${flip} THEN CASE v."order" WHEN 'ab' THEN 'ba' WHEN 'ba' THEN 'ab' ELSE v."order" END ELSE v."order" END AS "order"`
        : "")
    yield* sql.run(`CREATE TABLE ${table} AS
    SELECT v.* REPLACE (CASE WHEN ${moved} THEN ${to} ELSE v.pair_id END AS pair_id,
      CASE WHEN ${flip} THEN ${voteSwap("v.vote")} ELSE v.vote END AS vote${pA})
    FROM ${from}
    WHERE NOT ${moved} OR ${to} IS NOT NULL
    ORDER BY v.rowid`)
    // (count_if over no rows is NULL, hence the coalesce: a stat is always a number)
    // moved: re-pointed to another pair (a row merged into a twin with the same texts keeps its pair_id)
    const [c] = yield* sql.rows<{ votes_in: number; moved: number; flipped: number }>(`
    SELECT count(*) AS votes_in, coalesce(count_if(${moved} AND ${to} IS NOT NULL AND ${to} <> v.pair_id), 0) AS moved,
      coalesce(count_if(${flip} AND ${to} IS NOT NULL), 0) AS flipped
    FROM ${from}`)
    const votesOut = yield* sql.count(table)
    const stats: Record<string, number> = {
      votes_in: c!.votes_in,
      votes_out: votesOut,
      votes_moved: c!.moved,
      votes_flipped: c!.flipped,
      votes_dropped: c!.votes_in - votesOut
    }
    if (!hasColumn(pairs, "label")) return { table, relabel: undefined, stats }
    const relabel = sql.tempName("dedupe_relabel")
    const kinds = hasColumn(t.votesInput, "rater_kind") ? "count(DISTINCT v.rater_kind)" : "1"
    // a human label is re-voted by human votes only (and an AI label by AI votes): merging a twin must not
    // let judge verdicts overrule annotators; only a pair without a label source pools every vote
    const sameKind =
      hasColumn(t.votesInput, "rater_kind") && hasColumn(pairs, "label_source")
        ? ` AND (b.label_source IS NULL OR b.label_source NOT IN ('human', 'ai') OR v.rater_kind = b.label_source)`
        : ""
    yield* sql.run(`CREATE TABLE ${relabel} AS
    SELECT r, CASE WHEN na > nb AND na > nt THEN 'a' WHEN nb > na AND nb > nt THEN 'b' WHEN na + nb + nt > 0 THEN 'tie' END AS label, kinds
    FROM (SELECT p.r, count_if(v.vote = 'a') AS na, count_if(v.vote = 'b') AS nb, count_if(v.vote = 'tie') AS nt, ${kinds} AS kinds
      FROM ${planTable} p JOIN ${base} b ON b.${row} = p.r JOIN ${table} v ON v.pair_id = b.pair_id
      WHERE p.merged AND p.reason IS NULL${sameKind} GROUP BY p.r)`)
    const [r] = yield* sql.rows<{ n: number }>(`SELECT count(*) AS n FROM ${relabel} l JOIN ${base} b ON b.${row} = l.r
    WHERE l.label IS NOT NULL AND l.label IS DISTINCT FROM b.label`)
    stats["relabelled"] = r!.n
    return { table, relabel, stats }
  })
