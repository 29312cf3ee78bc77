import { Effect, Schema } from "effect"
import { defineNode } from "../../workbench/core/node.js"
import { Sql, Workspace } from "../../workbench/core/services.js"
import { fileFingerprint } from "./file-fingerprint.js"
import { checkRecords, collectRejects } from "./check.js"
import { extraColumns } from "./extras.js"
import { FormatParam, MaxRejectRateParam, PathParam, SeedParam, SourceParam, sourceFile, withDefault } from "./files.js"
import { finishLoad } from "./finish.js"
import { chosenRejectedPairsSql } from "./pairs.js"
import { readRecords } from "./read.js"
import { chosenIsBSql, sqlText } from "./sql.js"
import { pairsOutput, rejectsOutput, votesOutput } from "../lib/pair-tables.js"

const ASPECTS = ["helpfulness", "honesty", "instruction_following", "truthfulness"]

export const UltraFeedbackParams = Schema.Struct({
  path: PathParam("UltraFeedback records: instruction + completions[] with annotations per aspect (e.g. openbmb/UltraFeedback JSONL)"),
  format: FormatParam,
  source: SourceParam("ultrafeedback"),
  score: withDefault(Schema.Literals(["aspects", "overall", "fine-grained"]), "aspects",
    "which score ranks completions: aspects (mean of the aspect Ratings, N/A skipped), overall (overall_score), fine-grained (fine-grained_score)"),
  aspects: withDefault(Schema.Array(Schema.String).check(Schema.isMinLength(1)), ASPECTS,
    "annotation aspects averaged when score is aspects"),
  pairing: withDefault(Schema.Literals(["best-vs-random", "best-vs-each"]), "best-vs-random",
    "best-vs-random: the best completion against one lower-scored one drawn by seed; best-vs-each: against every lower-scored one"),
  seed: SeedParam,
  maxRejectRate: MaxRejectRateParam
})
export type UltraFeedbackParams = typeof UltraFeedbackParams.Type

const path = (...keys: ReadonlyArray<string>) => sqlText(`$.${keys.map((k) => `"${k}"`).join(".")}`)

const scoreSql = (p: UltraFeedbackParams) =>
  p.score === "overall" ? `TRY_CAST(json_extract_string(comp, ${path("overall_score")}) AS DOUBLE)`
    : p.score === "fine-grained" ? `TRY_CAST(json_extract_string(comp, ${path("fine-grained_score")}) AS DOUBLE)`
    : `list_avg(list_filter([${p.aspects.map((a) => `TRY_CAST(json_extract_string(comp, ${path("annotations", a, "Rating")}) AS DOUBLE)`).join(", ")}],
         lambda x: x IS NOT NULL))`

/** The first completion whose response is not a string, as a reason. */
const completionProblemSql = `list_transform(
    [list_position(list_transform(json_extract(raw, '$.completions[*]'), lambda c: json_type(c, '$.response') IS DISTINCT FROM 'VARCHAR'), true)],
    lambda k: CASE WHEN k IS NOT NULL THEN 'completions[' || (k - 1) || '].response: expected string, got ' ||
      coalesce(json_type(json_extract(raw, '$.completions[*]')[k], '$.response'), 'nothing') END)[1]`

/** Scored completions, then best-vs-lower pairs: never equal scores, never identical texts. */
const rankedSql = (records: string, p: UltraFeedbackParams) => `
  WITH c AS (SELECT record, raw, unnest(cs) AS comp, unnest(range(len(cs))) AS i
             FROM (SELECT record, raw, json_extract(raw, '$.completions[*]') AS cs FROM ${records} WHERE reason IS NULL)),
  s AS (SELECT record, raw, i, json_extract_string(comp, '$.response') AS response, json_extract_string(comp, '$.model') AS model,
               ${scoreSql(p)} AS score FROM c),
  b AS (SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY record ORDER BY score DESC NULLS LAST, i) AS k FROM s) WHERE k = 1 AND score IS NOT NULL),
  l AS (SELECT b.record, b.raw, b.response AS best, b.model AS best_model, b.score AS best_score,
               s.response AS lower, s.model AS lower_model, s.score AS lower_score, s.i AS lower_i,
               row_number() OVER (PARTITION BY b.record ORDER BY md5(${sqlText(String(p.seed))} || chr(31) || b.record || chr(31) || s.i)) AS draw
        FROM b JOIN s ON s.record = b.record AND s.score < b.score AND s.response <> b.response)
  SELECT *, json_extract_string(raw, '$.instruction') AS prompt FROM l ${p.pairing === "best-vs-random" ? "WHERE draw = 1" : ""}`

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
 * - `votes`: empty. `rejects`: file, record, reason, raw (instruction not a string, completions not
 *   a list, a completion whose response is not a string).
 *
 * **Params**: path, format (auto), source ("ultrafeedback"), score ("aspects"), aspects (the four
 * UltraFeedback aspects), pairing ("best-vs-random"), seed (0), maxRejectRate (0).
 *
 * **Stats**: records, pairs, rejected, completions, records_without_pair (every completion tied or
 * unscored), label_a, label_b. rowsIn = records: one record gives 0..n-1 pairs, so rowsIn is not
 * pairs + rejected.
 *
 * **Example**
 * ```ts
 * const uf = p.node("uf", load.ultrafeedback({ path: "data/ultrafeedback.jsonl", pairing: "best-vs-each" }))
 * ```
 */
export const ultrafeedback = defineNode({
  kind: "load.ultrafeedback",
  version: 2,
  summary: "UltraFeedback completions with ratings -> best-vs-lower pairs (score and pairing by param)",
  params: UltraFeedbackParams,
  inputs: {},
  outputs: { pairs: pairsOutput(), votes: votesOutput(), rejects: rejectsOutput() },
  fingerprint: (params, root) => fileFingerprint(root, [params.path]),
  run: ({ node, params }) =>
    Effect.gen(function*() {
      const sql = yield* Sql
      const ctx = { node, kind: "load.ultrafeedback", root: (yield* Workspace).root }
      const file = yield* sourceFile(ctx, "path", params.path, params.format)
      const records = yield* readRecords(ctx, file)
      yield* checkRecords(records, [{ name: "instruction", kinds: ["string"] }, { name: "completions", kinds: ["array"] }], [completionProblemSql])
      const rejects = yield* collectRejects(ctx, [{ file, records }], params.maxRejectRate)
      const ranked = sql.tempName("uf_ranked")
      yield* sql.run(`CREATE TEMP TABLE ${ranked} AS ${rankedSql(records.table, params)}`)
      const extras = yield* extraColumns(records, ["instruction", "completions", "models"], ["model_a", "model_b", "score_a", "score_b"])
      const pairs = sql.tempName("pairs")
      yield* sql.run(`CREATE TABLE ${pairs} AS ${chosenRejectedPairsSql({
        from: ranked,
        prompt: "prompt",
        chosen: "best",
        rejected: "lower",
        chosenIsB: chosenIsBSql(params.seed, "prompt", "best", "lower"),
        record: "record",
        source: params.source,
        labelSource: "ai",
        sides: [{ name: "model", chosen: "best_model", rejected: "lower_model" }, { name: "score", chosen: "best_score", rejected: "lower_score" }],
        passThrough: extras,
        orderBy: ["lower_i"]
      })}`)
      const [s] = yield* sql.rows<{ completions: number; records_without_pair: number }>(`SELECT
        (SELECT coalesce(sum(json_array_length(raw, '$.completions')), 0) FROM ${records.table} WHERE reason IS NULL) AS completions,
        (SELECT count(*) FROM ${records.table} WHERE reason IS NULL AND record NOT IN (SELECT record FROM ${ranked})) AS records_without_pair`)
      yield* sql.run(`DROP TABLE ${ranked}`)
      return yield* finishLoad({ ctx, pairs, rejects, files: [{ file, records }], stats: { ...s! } })
    })
})
