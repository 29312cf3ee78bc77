import { Effect } from "effect"
import { DataError } from "../../workbench/core/errors.js"
import { Sql } from "../../workbench/core/services.js"
import { pairIdOfHashesSql, ratersOutput } from "../lib/pair-tables.js"
import { checkRecords } from "./check.js"
import { defineLoader } from "./define.js"
import { recordStructure } from "./extras.js"
import { fileStem } from "./files.js"
import { sidesPairsSql } from "./pairs.js"
import { createEmptyRemovedSql } from "./removed.js"
import { majorityLabelSql, sqlText } from "./sql.js"
import { resolveVoteColumns, str, type VoteMapping, VotesParams, voteChecks, voteValueSql } from "./votes-columns.js"

const swapVote = (v: string) => `CASE ${v} WHEN 'a' THEN 'b' WHEN 'b' THEN 'a' ELSE ${v} END`
const swapOrder = (o: string) => `CASE ${o} WHEN 'ab' THEN 'ba' WHEN 'ba' THEN 'ab' END`

/** The good records with each role's value: _pid (the pair as listed), _vote, _rater, _kind, _p_a, _order, _sample, _rationale, _extra. */
function recordsSql(records: string, m: VoteMapping, p: VotesParams): string {
  const o = m.optional
  const opt = (f: string | undefined, e: (x: string) => string, type: string) =>
    f === undefined ? `NULL::${type}` : e(str(f))
  // the record's unmapped fields stay with its vote (meta): model names, question ids, …
  const mapped = [
    ...m.pair,
    m.vote,
    ...("field" in m.rater ? [m.rater.field] : []),
    ...(m.raterKind.field === undefined ? [] : [m.raterKind.field]),
    ...Object.values(o)
  ]
  const drop = sqlText(JSON.stringify(Object.fromEntries(mapped.map((f) => [f, null]))))
  const texts =
    m.mode === "texts"
      ? `${str(m.pair[0]!)} AS _p, ${str(m.pair[1]!)} AS _a, ${str(m.pair[2]!)} AS _b`
      : `NULL::VARCHAR AS _p, NULL::VARCHAR AS _a, NULL::VARCHAR AS _b, ${str(m.pair[0]!)} AS _given`
  return `SELECT record, ${texts}, ${voteValueSql(str(m.vote), p.votes)} AS _vote,
      ${"field" in m.rater ? str(m.rater.field) : sqlText(m.rater.name)} AS _rater,
      ${m.raterKind.field === undefined ? sqlText(m.raterKind.name) : `coalesce(nullif(trim(${str(m.raterKind.field)}), ''), ${sqlText(m.raterKind.name)})`} AS _kind,
      ${opt(o.p_a, (x) => `TRY_CAST(${x} AS DOUBLE)`, "DOUBLE")} AS _p_a,
      ${opt(o.order, (x) => `CASE lower(trim(${x})) WHEN 'ab' THEN 'ab' WHEN 'ba' THEN 'ba' END`, "VARCHAR")} AS _order,
      ${opt(o.sample, (x) => `TRY_CAST(${x} AS BIGINT)`, "BIGINT")} AS _sample,
      ${opt(o.rationale, (x) => x, "VARCHAR")} AS _rationale,
      json_merge_patch(raw, ${drop}) AS _extra
    FROM ${records} WHERE reason IS NULL`
}

/**
 * Each record with the pair its vote goes to: `_cid`/`_cfirst` (that pair's id and first record) and
 * `_flip` (the record lists the pair's responses the other way round). Texts: the first record of a
 * pair (or of its mirror, when folded and first) is the pair; pair_id: the id as given.
 */
function placedSql(good: string, m: VoteMapping, fold: boolean): string {
  if (m.mode === "pair_id") {
    return `SELECT *, _given AS _pid, _given AS _cid, NULL::BIGINT AS _cfirst, false AS _flip, false AS _kept FROM ${good}`
  }
  // each text hashed once for the id and its mirror's (md5 keeps a NULL text's id NULL, as pairIdSql)
  const hashed = `(SELECT *, md5(_p) AS _hp, md5(_a) AS _ha, md5(_b) AS _hb FROM ${good})`
  const ids = `(SELECT * EXCLUDE (_hp, _ha, _hb), ${pairIdOfHashesSql("_hp", "_ha", "_hb")} AS _pid,
      ${pairIdOfHashesSql("_hp", "_hb", "_ha")} AS _mid FROM ${hashed})`
  const firsts = `(SELECT _pid AS id, min(record) AS first FROM ${ids} GROUP BY _pid)`
  const mirrorFirst = fold ? "m.first" : "NULL::BIGINT"
  return `SELECT *, CASE WHEN _flip THEN _mid ELSE _pid END AS _cid, CASE WHEN _flip THEN _mfirst ELSE _first END AS _cfirst,
      (NOT _flip AND record = _first) AS _kept
    FROM (SELECT g.*, f.first AS _first, ${mirrorFirst} AS _mfirst, coalesce(${mirrorFirst} < f.first, false) AS _flip
          FROM ${ids} g JOIN ${firsts} f ON f.id = g._pid ${fold ? `LEFT JOIN ${firsts} m ON m.id = g._mid` : ""})`
}

const votesSql = (placed: string) => `
  SELECT _cid AS pair_id, _rater AS rater, _kind AS rater_kind,
    CASE WHEN _flip THEN ${swapVote("_vote")} ELSE _vote END AS vote,
    CASE WHEN _flip THEN 1 - _p_a ELSE _p_a END AS p_a,
    CASE WHEN _flip THEN ${swapOrder("_order")} ELSE _order END AS "order", _sample AS sample,
    json_merge_patch(_extra, json_object('source_row', _cfirst, 'record', record, 'rationale', _rationale,
      'mirrored', _flip))::JSON AS meta
  FROM ${placed} ORDER BY record`

/** label_source of a pair's votes: one kind -> that kind ('ai' for any machine rater), human and others -> 'mixed'. */
const labelSourceSql = `CASE WHEN count(DISTINCT rater_kind) FILTER (WHERE rater_kind = 'human') = 0 THEN 'ai'
  WHEN count(DISTINCT rater_kind) = 1 THEN 'human' ELSE 'mixed' END`

/**
 * Load recorded judgments from any table: one vote per record, on a pair named by its texts (prompt,
 * response_a, response_b: the pair is loaded too) or by its pair_id (a pair another loader loads).
 *
 * Verdicts map to 'a' | 'b' | 'tie' by the `votes` param; an unknown verdict, a p_a outside [0, 1],
 * an order other than ab/ba or a non-integer sample rejects the record (never a NULL vote). With
 * texts, the first record of each pair is the pair and later ones are `removed` as merged-into it
 * (their vote goes there); with `mirrored: fold`, a record listing an earlier pair's responses the
 * other way round votes on that pair with its vote, p_a and order flipped (meta.mirrored), which is
 * how both-order verdicts published as two rows come together. A pair's label is the majority of its
 * votes. With pair_id only, no pair is loaded: every record is removed as 'vote-only' (its vote is in
 * votes), so rows in = out + rejected + removed still holds.
 *
 * **Input columns**: none (reads `path`).
 *
 * **Output columns**
 * - `pairs`: pair_id, prompt, response_a, response_b, label (majority of the pair's votes),
 *   label_source ('human', 'ai', or 'mixed' when human and other raters voted), source, source_row.
 * - `votes`: pair_id, rater, rater_kind, vote, p_a, order, sample, meta (the record's unmapped fields,
 *   then source_row: the pair's record, record, rationale, mirrored).
 * - `raters`: each rater and kind, attributes {}. `rejects`: file, line | index | row, reason, raw.
 * - `removed`: records that are votes on an earlier pair ('merged-into', kept_pair_id, kept_source_row)
 *   or name a pair by pair_id only ('vote-only').
 *
 * **Params**: path, glob (false), format (auto), columns ({}: fields named prompt, response_a,
 * response_b or pair_id, rater, vote, …), votes (a/b/tie, 1/2/0, model_a/model_b), rater (null),
 * raterKind ("ai"), mirrored ("fold"), source (null: the file name), maxRejectRate (0).
 *
 * **Stats**: records, pairs, votes, rejected, removed, raters, mirrored_votes, mode, label_*.
 *
 * **Example**
 * ```ts
 * const mt = p.node("mt", load.votes({ path: "data/judgments.jsonl", columns: { prompt: "question", response_a: "answer_1", response_b: "answer_2", rater: "judge", vote: "winner" } }))
 * ```
 */
export const votes = defineLoader({
  kind: "load.votes",
  version: 2,
  summary: "Recorded judgments in any table -> votes (and the pairs they name by text, or by pair_id)",
  params: VotesParams,
  passThrough: false,
  outputs: { raters: ratersOutput() },
  load: ({ ctx, params, read, rejectsOf }) =>
    Effect.gen(function* () {
      const sql = yield* Sql
      const { file, records } = yield* read()
      const mapping = resolveVoteColumns(ctx, params, Object.keys(yield* recordStructure(records)))
      if (mapping instanceof DataError) return yield* mapping
      const checks = voteChecks(mapping, params.votes)
      yield* checkRecords(records, checks.fields, checks.extra)
      const rejects = yield* rejectsOf([{ file, records }])
      const source = params.source ?? fileStem(file.abs)
      const good = yield* sql.create("votes_good", recordsSql(records.table, mapping, params))
      const placed = yield* sql.create("votes_placed", placedSql(good, mapping, params.mirrored === "fold"))
      const votes = yield* sql.create("votes", votesSql(placed))
      const labels = `(SELECT pair_id AS _cid, ${majorityLabelSql("count_if(vote = 'a')", "count_if(vote = 'b')", "count_if(vote = 'tie')")} AS _label,
          ${labelSourceSql} AS _lsrc FROM ${votes} GROUP BY pair_id)`
      const pairs = yield* sql.create(
        "pairs",
        `SELECT * EXCLUDE (_lsrc) REPLACE (CASE WHEN label IS NOT NULL THEN _lsrc END AS label_source) FROM (${sidesPairsSql(
          {
            from: `(SELECT * FROM ${placed} WHERE _kept) k LEFT JOIN ${labels} USING (_cid)`,
            prompt: "_p",
            a: "_a",
            b: "_b",
            label: "_label",
            record: "record",
            source,
            labelSource: null,
            extras: [["_lsrc", "_lsrc"]]
          }
        )}) ORDER BY source_row`
      )
      const removed = sql.tempName("removed")
      yield* sql.run(createEmptyRemovedSql(removed))
      yield* sql.run(`INSERT INTO ${removed} SELECT _pid, _p, _a, _b, _vote, NULL, ${sqlText(source)}, record,
          CASE WHEN ${mapping.mode === "pair_id"} THEN 'vote-only' ELSE 'merged-into' END, _cid, _cfirst
        FROM ${placed} WHERE NOT _kept ORDER BY record`)
      const raters = yield* sql.create(
        "raters",
        `SELECT rater, rater_kind, '{}'::JSON AS attributes FROM ${votes} GROUP BY ALL ORDER BY min(rowid)`
      )
      const [s] = yield* sql.rows<{ raters: number; mirrored_votes: number }>(
        `SELECT (SELECT count(*) FROM ${raters}) AS raters, (SELECT count_if(_flip) FROM ${placed}) AS mirrored_votes`
      )
      yield* sql.run(`DROP TABLE ${good}; DROP TABLE ${placed}`)
      return {
        pairs,
        votes,
        rejects,
        removed,
        files: [{ file, records }],
        extra: { raters },
        stats: { ...s!, mode: mapping.mode }
      }
    })
})
