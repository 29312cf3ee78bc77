import { Effect, Schema } from "effect"
import { basename, dirname, join } from "node:path"
import { param } from "../../workbench/core/params.js"
import { Sql } from "../../workbench/core/services.js"
import { isDirectory, isFile, resolvePath } from "../lib/file-fingerprint.js"
import { checkRecords } from "./check.js"
import { defineLoader } from "./define.js"
import { extraColumnsOf, recordStructure } from "./extras.js"
import { FormatParam, MaxRejectRateParam, missingPathError, PathParam, SourceParam, sourceFile } from "./files.js"
import { sidesPairsSql } from "./pairs.js"
import { readRecords } from "./read.js"
import type { RecordsTable } from "./read-lines.js"
import { majorityLabelSql, sqlText } from "./sql.js"
import { ratersOutput } from "../lib/pair-tables.js"

export const PandaLmParams = Schema.Struct({
  path: PathParam(
    "the PandaLM test set: its directory (holding testset-v1.json and the judge files) or testset-v1.json itself"
  ),
  gptFile: param(
    Schema.NullOr(Schema.String),
    null,
    "gpt-3.5-turbo judgments (idx, gpt_result); null: gpt-3.5-turbo-testset-v1.json beside the test set, if there"
  ),
  pandalmFile: param(
    Schema.NullOr(Schema.String),
    null,
    "PandaLM-7B judgments (idx, pandalm_result); null: pandalm-7b-testset-v1.json beside the test set, if there"
  ),
  format: FormatParam,
  source: SourceParam("pandalm"),
  maxRejectRate: MaxRejectRateParam
})
export type PandaLmParams = typeof PandaLmParams.Type

const JUDGE_DEFAULTS = { gptFile: "gpt-3.5-turbo-testset-v1.json", pandalmFile: "pandalm-7b-testset-v1.json" } as const

/** The files a PandaLM load reads: [param, path as given or defaulted] (judges only when present). */
function pandalmFiles(p: PandaLmParams, root: string): Array<readonly [string, string]> {
  const abs = resolvePath(root, p.path)
  const testset = isDirectory(abs) ? join(p.path, "testset-v1.json") : p.path
  const dir = dirname(resolvePath(root, testset))
  const judge = (param: "gptFile" | "pandalmFile") => {
    const given = p[param]
    if (given !== null) return [[param, given] as const]
    const beside = join(dir, JUDGE_DEFAULTS[param])
    return isFile(beside) ? [[param, beside] as const] : []
  }
  return [["path", testset], ...judge("gptFile"), ...judge("pandalmFile")]
}

/** Rater name from a judge file name: "gpt-3.5-turbo-testset-v1.json" -> "gpt-3.5-turbo". */
const raterOf = (path: string) =>
  basename(path)
    .replace(/\.gz$/, "")
    .replace(/(-testset[^.]*)?\.jsonl?$/, "")

const VERDICT = (v: string) =>
  `CASE lower(trim(${v})) WHEN '1' THEN 'a' WHEN '2' THEN 'b' WHEN '0' THEN 'tie' WHEN 'tie' THEN 'tie' END`

/** One row per testset record x rater: (record, rater, rater_kind, vote, meta). */
const humanVotesSql = (records: string) => `
  SELECT record, 'annotator' || i AS rater, 'human' AS rater_kind, ${VERDICT("v")} AS vote,
         json_object('source_row', record, 'verdict', v, 'error', CASE WHEN ${VERDICT("v")} IS NULL THEN 'unparseable verdict' END) AS meta
  FROM (SELECT record, i, json_extract_string(raw, '$.annotator' || i) AS v FROM ${records}, range(1, 4) r(i) WHERE reason IS NULL)`

const judgeVotesSql = (records: string, judge: RecordsTable, rater: string) => `
  SELECT t.record, ${sqlText(rater)} AS rater, 'ai' AS rater_kind, ${VERDICT("j.v")} AS vote,
         json_object('source_row', t.record, 'verdict', j.v, 'reason', j.why, 'rationale', nullif(j.why, ''),
                     'error', CASE WHEN ${VERDICT("j.v")} IS NULL THEN 'unparseable verdict' END) AS meta
  FROM (SELECT json_extract_string(raw, '$.idx') AS idx, record FROM ${records} WHERE reason IS NULL) t
  JOIN (SELECT json_extract_string(raw, '$.idx') AS idx,
               json_extract_string(raw, '$."' || list_filter(json_keys(raw), lambda k: suffix(k, '_result'))[1] || '"') AS v,
               json_extract_string(raw, '$."' || list_filter(json_keys(raw), lambda k: suffix(k, '_reason'))[1] || '"') AS why
        FROM ${judge.table} WHERE reason IS NULL) j USING (idx)`

/** The models behind the judge files the PandaLM repository ships, by rater name (others: the name itself). */
const JUDGE_MODELS: Readonly<Record<string, string>> = {
  "gpt-3.5-turbo": "gpt-3.5-turbo",
  "pandalm-7b": "WeOpenML/PandaLM-7B-v1"
}

/** The raters table: the three anonymous annotators, then each judge file's model. */
const ratersSql = (judges: ReadonlyArray<string>) => {
  const rows = [
    ...["annotator1", "annotator2", "annotator3"].map((a) => [a, "human", "{}"]),
    ...judges.map((j) => [j, "ai", JSON.stringify({ model: JUDGE_MODELS[j] ?? j })])
  ]
  return `SELECT rater, rater_kind, attributes::JSON AS attributes FROM (VALUES ${rows
    .map((r, k) => `(${k}, ${r.map(sqlText).join(", ")})`)
    .join(", ")}) t(k, rater, rater_kind, attributes) ORDER BY k`
}

/**
 * Load the PandaLM human-annotated test set, with its human and AI judgments as votes.
 *
 * `testset-v1.json` holds instruction, input, response1, response2 and three human labels
 * (annotator1..3: 1 = response1 better, 2 = response2, 0 = tie); the judge files hold gpt-3.5-turbo's
 * (`gpt_result` "1" / "2" / "Tie" / "garbage") and PandaLM-7B's (`pandalm_result` 1 / 2 / 0) verdicts,
 * joined on `idx`. The prompt is the instruction, plus "\n\n" and the input when there is one. Every
 * rater's verdict becomes a vote; an unparseable verdict ("garbage") is a NULL vote whose meta says so.
 * The label is the majority of the three human votes.
 *
 * Gotchas: six records (idx 157, 158, 159, 161, 162, 164) hold a JSON boolean instead of a response
 * and are rejected, so the default maxRejectRate 0 fails on the shipped file: set it to 0.01.
 *
 * **Input columns**: none (reads `path` and the judge files).
 *
 * **Output columns**
 * - `pairs`: pair_id, prompt, response_a (response1), response_b (response2), label (human
 *   majority), label_source 'human', source, source_row (element index), then idx, motivation_app,
 *   cmp_key and any other testset field.
 * - `votes`: pair_id, rater (annotator1..3, then one per judge file, named after it: gpt-3.5-turbo,
 *   pandalm-7b), rater_kind, vote, p_a (NULL: the verdicts are hard), order and sample (NULL: the
 *   files do not say), meta {source_row, verdict, reason, rationale (the judge's gpt_reason /
 *   pandalm_reason; null when empty), error}. Duplicate pairs in the source keep separate votes;
 *   meta.source_row tells them apart.
 * - `raters`: annotator1..3 ('human', attributes {}), then each judge ('ai', attributes {model}:
 *   gpt-3.5-turbo, WeOpenML/PandaLM-7B-v1).
 * - `rejects`: malformed testset records (judge records are not rejected: one matching no loaded
 *   pair is counted in judge_records_unused).
 *
 * **Params**: path, gptFile (null), pandalmFile (null), format (auto), source ("pandalm"), maxRejectRate (0).
 *
 * **Stats**: records, pairs, rejected, label_*, empty_responses, votes, votes_human, votes_ai,
 * votes_unparseable, judge_files, judge_records_unused (judge records
 * whose idx is no loaded pair). rowsIn = testset records = pairs + rejected.
 *
 * **Example**
 * ```ts
 * const panda = p.node("panda", load.pandalm({ path: "data/pandalm-testset", maxRejectRate: 0.01 }))
 * ```
 */
export const pandalm = defineLoader({
  kind: "load.pandalm",
  version: 4,
  summary: "PandaLM test set: pairs with 3 human votes (label = majority) and gpt-3.5/PandaLM-7B judge votes",
  params: PandaLmParams,
  files: (params, root) => pandalmFiles(params, root).map(([, p]) => p),
  outputs: { raters: ratersOutput() },
  load: ({ ctx, params, rejectsOf }) =>
    Effect.gen(function* () {
      const sql = yield* Sql
      const [[, testsetPath], ...judgePaths] = pandalmFiles(params, ctx.root) as [
        readonly [string, string],
        ...Array<readonly [string, string]>
      ]
      if (!isFile(resolvePath(ctx.root, testsetPath))) {
        return yield* missingPathError(ctx, "path", testsetPath, "the PandaLM directory, or testset-v1.json")
      }
      const file = yield* sourceFile(ctx, "path", testsetPath, params.format)
      const records = yield* readRecords(ctx, file)
      yield* checkRecords(records, [
        { name: "idx", kinds: ["integer"] },
        { name: "instruction", kinds: ["string"] },
        { name: "input", kinds: ["string"], optional: true },
        { name: "response1", kinds: ["string"] },
        { name: "response2", kinds: ["string"] },
        ...["annotator1", "annotator2", "annotator3"].map((name) => ({
          name,
          kinds: ["integer", "string"] as const,
          optional: true
        }))
      ])
      const rejects = yield* rejectsOf([{ file, records }])
      const judges: Array<{ rater: string; records: RecordsTable }> = []
      for (const [judgeParam, path] of judgePaths) {
        const judgeFile = yield* sourceFile(ctx, judgeParam, path, params.format)
        const judged = yield* readRecords(ctx, judgeFile)
        yield* checkRecords(judged, [{ name: "idx", kinds: ["integer"] }])
        judges.push({ rater: raterOf(path), records: judged })
      }
      const raw = sql.tempName("pandalm_votes")
      yield* sql.run(
        `CREATE TEMP TABLE ${raw} AS ${[humanVotesSql(records.table), ...judges.map((j) => judgeVotesSql(records.table, j.records, j.rater))].join(" UNION ALL ")}`
      )
      const labels = sql.tempName("pandalm_labels")
      yield* sql.run(`CREATE TEMP TABLE ${labels} AS SELECT record, ${majorityLabelSql("na", "nb", "nt")} AS label FROM (
        SELECT record, count(*) FILTER (WHERE vote = 'a') AS na, count(*) FILTER (WHERE vote = 'b') AS nb,
               count(*) FILTER (WHERE vote = 'tie') AS nt FROM ${raw} WHERE rater_kind = 'human' GROUP BY record)`)
      const structure = yield* recordStructure(records)
      const mapped = ["instruction", "input", "response1", "response2", "annotator1", "annotator2", "annotator3"]
      const pairs = yield* sql.create(
        "pairs",
        sidesPairsSql({
          from: `(SELECT r.*, l.label AS _human FROM ${records.table} r LEFT JOIN ${labels} l USING (record))`,
          where: "reason IS NULL",
          prompt: `json_extract_string(raw, '$.instruction') || CASE WHEN coalesce(json_extract_string(raw, '$.input'), '') <> ''
                   THEN chr(10) || chr(10) || json_extract_string(raw, '$.input') ELSE '' END`,
          a: "json_extract_string(raw, '$.response1')",
          b: "json_extract_string(raw, '$.response2')",
          label: "_human",
          record: "record",
          source: params.source,
          labelSource: "human",
          passThrough: extraColumnsOf(structure, mapped)
        })
      )
      const votes = sql.tempName("votes")
      // the files do not say in which order the judges saw the responses, nor sample them: order, sample NULL
      yield* sql.run(`CREATE TABLE ${votes} AS SELECT p.pair_id, v.rater, v.rater_kind, v.vote, NULL::DOUBLE AS p_a,
        NULL::VARCHAR AS "order", NULL::BIGINT AS sample, v.meta::JSON AS meta
        FROM ${raw} v JOIN ${pairs} p ON p.source_row = v.record ORDER BY p.source_row, v.rater_kind DESC, v.rater`)
      const [vs] = yield* sql.rows<
        Record<string, number>
      >(`SELECT count(*) FILTER (WHERE rater_kind = 'human') AS votes_human,
        count(*) FILTER (WHERE rater_kind = 'ai') AS votes_ai, count(*) FILTER (WHERE vote IS NULL) AS votes_unparseable FROM ${votes}`)
      // judge records that gave no vote: their idx is not a loaded pair (absent, or its record was rejected)
      let unused = 0
      for (const j of judges)
        unused += j.records.records - (yield* sql.count(`(SELECT * FROM ${raw} WHERE rater = ${sqlText(j.rater)})`))
      const raters = yield* sql.create("raters", ratersSql(judges.map((j) => j.rater)))
      yield* sql.run(`DROP TABLE ${raw}; DROP TABLE ${labels}`)
      for (const j of judges) yield* sql.run(`DROP TABLE ${j.records.table}`)
      return {
        pairs,
        votes,
        rejects,
        files: [{ file, records }],
        extra: { raters },
        stats: { ...vs!, judge_files: judges.length, judge_records_unused: unused }
      }
    })
})
