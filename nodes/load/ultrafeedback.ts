import { Effect, Schema } from "effect"
import { param } from "../../workbench/core/params.js"
import { Sql } from "../../workbench/core/services.js"
import { checkRecords } from "./check.js"
import { defineLoader } from "./define.js"
import { extraColumns } from "./extras.js"
import { FormatParam, GlobParam, MaxRejectRateParam, PathsParam, SeedParam, SourceParam } from "./files.js"
import { chosenRejectedPairsSql } from "./pairs.js"
import { jsonTypeWordSql } from "./read-lines.js"
import { noPairSql } from "./removed.js"
import { chosenIsBSql, sqlText } from "./sql.js"
import { pairIdSql, ratersOutput, ratingsOutput } from "../lib/pair-tables.js"

const ASPECTS = ["helpfulness", "honesty", "instruction_following", "truthfulness"]

export const UltraFeedbackParams = Schema.Struct({
  path: PathsParam(
    "UltraFeedback records: instruction + completions[] with annotations per aspect (e.g. openbmb/UltraFeedback JSONL)"
  ),
  glob: GlobParam,
  format: FormatParam,
  source: SourceParam("ultrafeedback"),
  score: param(
    Schema.Literals(["aspects", "overall", "fine-grained"]),
    "aspects",
    "which score ranks completions: aspects (mean of the aspect Ratings, N/A skipped), overall (overall_score), fine-grained (fine-grained_score)"
  ),
  aspects: param(
    Schema.Array(Schema.String).check(Schema.isMinLength(1)),
    ASPECTS,
    "annotation aspects averaged when score is aspects"
  ),
  pairing: param(
    Schema.Literals(["best-vs-random", "best-vs-each"]),
    "best-vs-random",
    "best-vs-random: the best completion against one lower-scored one drawn by seed; best-vs-each: against every lower-scored one"
  ),
  seed: SeedParam,
  rater: param(
    Schema.String.check(Schema.isMinLength(1)),
    "gpt-4",
    "who wrote the annotations, the rater of the ratings table (UltraFeedback: GPT-4)"
  ),
  maxRejectRate: MaxRejectRateParam
})
export type UltraFeedbackParams = typeof UltraFeedbackParams.Type

const path = (...keys: ReadonlyArray<string>) => sqlText(`$.${keys.map((k) => `"${k}"`).join(".")}`)

const scoreSql = (p: UltraFeedbackParams) =>
  p.score === "overall"
    ? `TRY_CAST(json_extract_string(comp, ${path("overall_score")}) AS DOUBLE)`
    : p.score === "fine-grained"
      ? `TRY_CAST(json_extract_string(comp, ${path("fine-grained_score")}) AS DOUBLE)`
      : `list_avg(list_filter([${p.aspects.map((a) => `TRY_CAST(json_extract_string(comp, ${path("annotations", a, "Rating")}) AS DOUBLE)`).join(", ")}],
         lambda x: x IS NOT NULL))`

/** The first completion whose response is not a string, as a reason. */
const completionProblemSql = `list_transform(
    [list_position(list_transform(json_extract(raw, '$.completions[*]'), lambda c: json_type(c, '$.response') IS DISTINCT FROM 'VARCHAR'), true)],
    lambda k: CASE WHEN k IS NOT NULL THEN 'completions[' || (k - 1) || '].response: expected a string, got ' ||
      ${jsonTypeWordSql("json_type(json_extract(raw, '$.completions[*]')[k], '$.response')")} END)[1]`

/** Scored completions, then best-vs-lower pairs: never equal scores, never identical texts. */
const rankedSql = (records: string, p: UltraFeedbackParams) => `
  WITH c AS (SELECT record, raw, unnest(cs) AS comp, unnest(range(len(cs))) AS i
             FROM (SELECT record, raw, json_extract(raw, '$.completions[*]') AS cs FROM ${records} WHERE reason IS NULL)),
  s AS (SELECT record, raw, i, json_extract_string(comp, '$.response') AS response, json_extract_string(comp, '$.model') AS model,
               ${scoreSql(p)} AS score FROM c),
  b AS (SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY record ORDER BY score DESC NULLS LAST, i) AS k FROM s) WHERE k = 1 AND score IS NOT NULL),
  l AS (SELECT b.record, b.raw, b.i AS best_i, b.response AS best, b.model AS best_model, b.score AS best_score,
               s.response AS lower, s.model AS lower_model, s.score AS lower_score, s.i AS lower_i,
               row_number() OVER (PARTITION BY b.record ORDER BY md5(${sqlText(String(p.seed))} || chr(31) || b.record || chr(31) || s.i)) AS draw
        FROM b JOIN s ON s.record = b.record AND s.score < b.score AND s.response <> b.response)
  SELECT *, json_extract_string(raw, '$.instruction') AS prompt FROM l ${p.pairing === "best-vs-random" ? "WHERE draw = 1" : ""}`

/**
 * The ratings of each pair's two completions: every aspect in a completion's annotations (Rating 1-5,
 * "N/A" -> NULL score, with its Rationale), and 'overall' (overall_score, 1-10, the critique as
 * rationale) when the completion has one. The side of each completion is worked out as the pairs
 * table does (`chosenIsB` over the same columns), so the rows join the pairs on pair_id.
 */
const ratingsSql = (ranked: string, p: UltraFeedbackParams) => `
  WITH s AS (SELECT record, lower_i, ${pairIdSql("prompt", "ra", "rb")} AS pair_id, ra_i, rb_i, raw FROM (
      SELECT *, CASE WHEN _b THEN lower ELSE best END AS ra, CASE WHEN _b THEN best ELSE lower END AS rb,
             CASE WHEN _b THEN lower_i ELSE best_i END AS ra_i, CASE WHEN _b THEN best_i ELSE lower_i END AS rb_i
      FROM (SELECT *, ${chosenIsBSql(p.seed, "prompt", "best", "lower")} AS _b FROM ${ranked}))),
  c AS (SELECT record, lower_i, pair_id, side, json_extract(raw, '$.completions[' || i || ']') AS comp
        FROM s, (VALUES ('a'), ('b')) t(side), LATERAL (SELECT CASE side WHEN 'a' THEN ra_i ELSE rb_i END AS i)),
  r AS (SELECT record, lower_i, pair_id, side, unnest(json_keys(comp, '$.annotations')) AS aspect, comp FROM c
        WHERE json_type(comp, '$.annotations') = 'OBJECT'
        UNION ALL SELECT record, lower_i, pair_id, side, 'overall', comp FROM c WHERE json_extract(comp, '$.overall_score') IS NOT NULL)
  SELECT pair_id, side, ${sqlText(p.rater)} AS rater, 'ai' AS rater_kind, aspect,
    CASE WHEN aspect = 'overall' THEN TRY_CAST(json_extract_string(comp, '$.overall_score') AS DOUBLE)
         ELSE TRY_CAST(json_extract_string(comp, ${sqlText("$.annotations.")} || json_quote(aspect)::VARCHAR || '.Rating') AS DOUBLE) END AS score,
    1::DOUBLE AS scale_min, CASE WHEN aspect = 'overall' THEN 10 ELSE 5 END::DOUBLE AS scale_max,
    CASE WHEN aspect = 'overall' THEN json_extract_string(comp, '$.critique')
         ELSE json_extract_string(comp, ${sqlText("$.annotations.")} || json_quote(aspect)::VARCHAR || '.Rationale') END AS rationale
  FROM r ORDER BY record, lower_i, side, aspect = 'overall', aspect`

/**
 * Load UltraFeedback-style records (an instruction and several rated completions) as pairs.
 *
 * Each completion is scored (`score` param: the mean of its aspect Ratings, its overall_score or its
 * fine-grained_score). The best completion (ties: the first) is paired against lower-scored ones:
 * one drawn by seed (`best-vs-random`, the ultrafeedback_binarized recipe) or each of them
 * (`best-vs-each`). Completions that tie the best, have no score, or repeat the best's text never
 * pair with it. Chosen (the best) goes on side a or b by a seeded hash. Other record fields pass
 * through (UltraFeedback's `source` becomes `src_source`).
 *
 * **Input columns**: none (reads `path`). Source fields: instruction, completions[{model, response,
 * annotations{aspect: {Rating}}, overall_score, fine-grained_score}].
 *
 * **Output columns**
 * - `pairs`: pair_id, prompt (instruction), response_a, response_b, label ('a' | 'b': the best's
 *   side), label_source 'ai', source, source_row, model_a, model_b, score_a, score_b, extras.
 * - `votes`: empty. `ratings`: each pair's two completions rated by `rater` ('ai'): one row per
 *   pair x side x aspect of its annotations (score = Rating, 1..5, NULL for "N/A"; rationale =
 *   Rationale), and aspect 'overall' (overall_score, 1..10; rationale = critique) when present.
 *   `raters`: that one rater, attributes {model}.
 * - `rejects`: file, line | index | row (by format), reason, raw (instruction not a string, completions not
 *   a list, a completion whose response is not a string).
 * - `removed`: one row per record that gives no pair (every completion ties the best, has no score,
 *   or repeats the best's text): reason 'no-pair', prompt = the instruction, responses NULL.
 *
 * **Params**: path (a file, a list, or patterns with glob), glob (false), format (auto), source ("ultrafeedback"), score ("aspects"), aspects (the four
 * UltraFeedback aspects), pairing ("best-vs-random"), seed (0), rater ("gpt-4"), maxRejectRate (0).
 *
 * **Stats**: records, pairs, rejected, removed, completions, records_without_pair (= removed), ratings,
 * label_a, label_b. One record gives 0..n-1 pairs, so rowsIn counts a record once per pair it gives,
 * or once when it is rejected or gives none (removed): rowsIn = pairs + rejected + removed.
 *
 * **Example**
 * ```ts
 * const uf = p.node("uf", load.ultrafeedback({ path: "data/ultrafeedback.jsonl", pairing: "best-vs-each" }))
 * ```
 */
export const ultrafeedback = defineLoader({
  kind: "load.ultrafeedback",
  version: 5,
  summary: "UltraFeedback completions with ratings -> best-vs-lower pairs (score and pairing by param)",
  params: UltraFeedbackParams,
  outputs: { ratings: ratingsOutput(), raters: ratersOutput() },
  load: ({ params, read, rejectsOf }) =>
    Effect.gen(function* () {
      const sql = yield* Sql
      const { file, records } = yield* read()
      yield* checkRecords(
        records,
        [
          { name: "instruction", kinds: ["string"] },
          { name: "completions", kinds: ["array"] }
        ],
        [completionProblemSql]
      )
      const rejects = yield* rejectsOf([{ file, records }])
      const ranked = yield* sql.create("uf_ranked", rankedSql(records.table, params))
      const extras = yield* extraColumns(
        records,
        ["instruction", "completions", "models"],
        ["model_a", "model_b", "score_a", "score_b"]
      )
      const pairs = yield* sql.create(
        "pairs",
        chosenRejectedPairsSql({
          from: ranked,
          prompt: "prompt",
          chosen: "best",
          rejected: "lower",
          seed: params.seed,
          record: "record",
          source: params.source,
          labelSource: "ai",
          sides: [
            { name: "model", chosen: "best_model", rejected: "lower_model" },
            { name: "score", chosen: "best_score", rejected: "lower_score" }
          ],
          passThrough: extras,
          orderBy: ["lower_i"]
        })
      )
      // a record whose completions all tie the best or have no score gives no pair: listed in removed
      const removed = yield* sql.create(
        "removed",
        noPairSql(
          `(SELECT record, raw FROM ${records.table} WHERE reason IS NULL AND record NOT IN (SELECT record FROM ${ranked}))`,
          "json_extract_string(raw, '$.instruction')",
          params.source
        )
      )
      const [s] = yield* sql.rows<{ completions: number; records_without_pair: number }>(`SELECT
        (SELECT coalesce(sum(json_array_length(raw, '$.completions')), 0) FROM ${records.table} WHERE reason IS NULL) AS completions,
        (SELECT count(*) FROM ${removed}) AS records_without_pair`)
      const ratings = yield* sql.create("ratings", ratingsSql(ranked, params))
      const raters = yield* sql.create(
        "raters",
        `SELECT ${sqlText(params.rater)} AS rater, 'ai' AS rater_kind, json_object('model', ${sqlText(params.rater)}) AS attributes`
      )
      const [r] = yield* sql.rows<{ ratings: number }>(`SELECT count(*) AS ratings FROM ${ratings}`)
      yield* sql.run(`DROP TABLE ${ranked}`)
      return {
        pairs,
        rejects,
        removed,
        expands: true,
        files: [{ file, records }],
        extra: { ratings, raters },
        stats: { ...s!, ...r! }
      }
    })
})
