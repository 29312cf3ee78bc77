import { Effect, Schema } from "effect"
import type { TableSchema } from "../../workbench/core/contract.js"
import { DataError } from "../../workbench/core/errors.js"
import { defineNode } from "../../workbench/core/node.js"
import { param } from "../../workbench/core/params.js"
import { Sql } from "../../workbench/core/services.js"
import { pairsInput } from "../lib/pair-tables.js"
import { hasColumn, ratersSql, ruleOutputs, sourceRowSql, sqlText } from "./rule-votes.js"

export const HeuristicParams = Schema.Struct({
  rule: param(
    Schema.Literals(["prefer-longer", "prefer-shorter", "match"]),
    "prefer-longer",
    "prefer-longer / prefer-shorter: the longer (shorter) response wins; match: the response the pattern matches " +
      "wins (or the one it does not match, with prefer: no-match)"
  ),
  measure: param(
    Schema.Literals(["chars", "words"]),
    "chars",
    "length in characters, or in words (runs of non-space characters)"
  ),
  tieWithin: param(
    Schema.Number.check(Schema.isGreaterThanOrEqualTo(0)),
    0,
    "lengths differing by at most this much are a tie (0: only equal lengths)"
  ),
  pattern: param(
    Schema.NullOr(Schema.String.check(Schema.isMinLength(1))),
    null,
    "match: a regular expression (RE2 syntax, as DuckDB's regexp_matches), searched anywhere in each response"
  ),
  prefer: param(
    Schema.Literals(["match", "no-match"]),
    "match",
    "match: the response the pattern matches wins; no-match: the one it does not match (e.g. a refusal pattern)"
  ),
  caseSensitive: param(Schema.Boolean, false, "match: whether the pattern tells upper from lower case"),
  rater: param(
    Schema.NullOr(Schema.String),
    null,
    "the votes' rater name; null: heuristic:<rule> (heuristic:prefer-longer), or heuristic:match:<pattern> / heuristic:no-match:<pattern>"
  )
})
export type HeuristicParams = typeof HeuristicParams.Type

/** The rater name a rule's votes carry. */
export const heuristicRater = (p: HeuristicParams): string =>
  p.rater ?? (p.rule === "match" ? `heuristic:${p.prefer}:${p.pattern}` : `heuristic:${p.rule}`)

/** SQL: the measure of one response (NULL text measures as empty). */
const measureSql = (p: HeuristicParams, text: string): string =>
  p.rule === "match"
    ? `regexp_matches(coalesce(${text}, ''), ${sqlText(p.pattern ?? "")}, ${sqlText(p.caseSensitive ? "c" : "i")})`
    : p.measure === "chars"
      ? `length(coalesce(${text}, ''))`
      : `coalesce(len(regexp_extract_all(${text}, '\\S+')), 0)`

/** SQL: the vote from the two measures `ma`, `mb`. */
const voteSql = (p: HeuristicParams): string => {
  if (p.rule === "match") {
    const [win, lose] = p.prefer === "match" ? ["a", "b"] : ["b", "a"]
    return `CASE WHEN ma = mb THEN 'tie' WHEN ma THEN '${win}' ELSE '${lose}' END`
  }
  const [longer, shorter] = p.rule === "prefer-longer" ? ["a", "b"] : ["b", "a"]
  return `CASE WHEN abs(ma - mb) <= ${p.tieWithin} THEN 'tie' WHEN ma > mb THEN '${longer}' ELSE '${shorter}' END`
}

/**
 * Each pair row with its two measures and the rule's vote (`_wb_row`: its input position; `label`
 * when the pairs have one, for the agreement stats).
 */
export const heuristicScoresSql = (p: HeuristicParams, pairs: { numbered: string; schema: TableSchema }) => `
  SELECT *, ${voteSql(p)} AS vote
  FROM (SELECT pair_id, _wb_row, ${sourceRowSql(pairs.schema, "p")} AS _row,
          ${hasColumn(pairs.schema, "label") ? "p.label" : "NULL::VARCHAR"} AS label,
          ${measureSql(p, "p.response_a")} AS ma, ${measureSql(p, "p.response_b")} AS mb FROM ${pairs.numbered} p)`

/**
 * The votes, one per pair row in input order: pair_id, rater, rater_kind 'heuristic', vote, p_a /
 * order / sample NULL (a rule sees no order and gives no probability), meta {source_row, a, b} (the
 * two measures: lengths, or whether the pattern matched).
 */
export const heuristicVotesSql = (p: HeuristicParams, scores: string) => `
  SELECT pair_id, ${sqlText(heuristicRater(p))} AS rater, 'heuristic' AS rater_kind, vote,
    NULL::DOUBLE AS p_a, NULL::VARCHAR AS "order", NULL::BIGINT AS sample,
    json_object('source_row', _row, 'a', ma, 'b', mb) AS meta
  FROM ${scores} ORDER BY _wb_row`

/**
 * A named rule as a baseline rater: its votes can be aggregated, compared with human labels and
 * mixed like any judge's. Length is the classic one: AlpacaEval measured that always preferring the
 * longer output agrees with human annotators 62.2% of the time, so an LLM judge should beat it, and a
 * judge that agrees with it far more than with humans has a length bias.
 *
 * Rules: `prefer-longer` / `prefer-shorter` (characters or words; a tie when the lengths differ by at
 * most `tieWithin`), `match` (a regular expression: the response it matches wins, or, with `prefer:
 * no-match`, the one it does not match — a refusal pattern, a forbidden word; a tie when it matches
 * both or neither).
 *
 * **Input columns**: `pairs`: pair_id, prompt, response_a, response_b; optional label (for the
 * agreement stats), source_row (kept in meta).
 *
 * **Output columns**
 * - `pairs` (main): the input, unchanged.
 * - `votes`: one per pair row: pair_id, rater (heuristic:prefer-longer, …), rater_kind 'heuristic',
 *   vote ('a' | 'b' | 'tie'), p_a, order, sample (NULL), meta {source_row, a, b: the two measures}.
 * - `raters`: the rule, attributes {rule, measure, tieWithin} or {rule, pattern, prefer, caseSensitive}.
 *
 * **Params**: rule ("prefer-longer"), measure ("chars"), tieWithin (0), pattern (null), prefer
 * ("match"), caseSensitive (false), rater (null: from the rule).
 *
 * **Stats**: votes, vote_a, vote_b, vote_tie; with labels: labelled (pairs labelled a or b), agree
 * (of those, voted the label), agreement (agree / labelled; a tie vote counts as a miss).
 *
 * **Example**
 * ```ts
 * const longer = p.node("longer", judge.heuristic({ rule: "prefer-longer" }), { pairs: panda })
 * const refusals = p.node("refusals", judge.heuristic({ rule: "match", pattern: "\\b(I can't|I cannot|as an AI)\\b", prefer: "no-match" }), { pairs })
 * ```
 */
export const heuristic = defineNode({
  kind: "judge.heuristic",
  version: 1,
  summary: "A named rule as a baseline rater (prefer longer / shorter, a regex): one vote per pair",
  params: HeuristicParams,
  inputs: { pairs: pairsInput("the pairs to vote on") },
  outputs: ruleOutputs,
  run: ({ node, kind, params, inputs }) =>
    Effect.gen(function* () {
      const sql = yield* Sql
      if (params.rule === "match") {
        const problem =
          params.pattern === null
            ? "no pattern"
            : yield* sql.rows(`SELECT regexp_matches('', ${sqlText(params.pattern)})`).pipe(
                Effect.as(undefined),
                Effect.catchTag("SqlError", (e) => Effect.succeed(e.reason.split("\n")[0]!.trim()))
              )
        if (problem !== undefined) {
          return yield* new DataError({
            where: `node "${node}" (${kind}) param pattern`,
            found:
              params.pattern === null
                ? "rule match with pattern null"
                : `${JSON.stringify(params.pattern)}: ${problem}`,
            expected:
              'a regular expression in RE2 syntax (as DuckDB\'s regexp_matches reads it), e.g. "\\\\bsorry\\\\b"',
            fix: "set pattern to a valid regular expression (escape ( [ { . * + ? with a backslash to match them literally)"
          })
        }
      }
      const pairs = yield* sql.create("pairs", `SELECT * FROM ${inputs.pairs.relation}`)
      const scores = yield* sql.create("heuristic_scores", heuristicScoresSql(params, inputs.pairs))
      const votes = yield* sql.create("votes", heuristicVotesSql(params, scores))
      const attributes =
        params.rule === "match"
          ? { rule: params.rule, pattern: params.pattern, prefer: params.prefer, caseSensitive: params.caseSensitive }
          : { rule: params.rule, measure: params.measure, tieWithin: params.tieWithin }
      const raters = yield* sql.create("raters", ratersSql([[heuristicRater(params), "heuristic", attributes]]))
      const labelled = hasColumn(inputs.pairs.schema, "label")
      const [s] = yield* sql.rows<Record<string, number>>(`SELECT count(*) AS votes,
        count_if(vote = 'a') AS vote_a, count_if(vote = 'b') AS vote_b, count_if(vote = 'tie') AS vote_tie
        ${labelled ? `, count_if(label IN ('a', 'b')) AS labelled, count_if(label IN ('a', 'b') AND vote = label) AS agree` : ""}
        FROM ${scores}`)
      yield* sql.run(`DROP TABLE ${scores}`)
      const stats: Record<string, number> = { ...s! }
      if (labelled && s!["labelled"]! > 0) stats["agreement"] = s!["agree"]! / s!["labelled"]!
      return { tables: { pairs, votes, raters }, stats }
    })
})
