import { Effect, Schema } from "effect"
import { Sql } from "../../workbench/core/services.js"
import { checkRecords } from "./check.js"
import { defineLoader } from "./define.js"
import { FormatParam, GlobParam, MaxRejectRateParam, PathsParam, SeedParam, SourceParam } from "./files.js"
import { chosenRejectedPairsSql } from "./pairs.js"
import { commonPrefixLengthSql } from "./sql.js"

export const HhRlhfParams = Schema.Struct({
  path: PathsParam("the HH-RLHF file: JSON Lines with chosen and rejected transcripts (e.g. test.jsonl.gz)"),
  glob: GlobParam,
  format: FormatParam,
  source: SourceParam("hh-rlhf"),
  seed: SeedParam,
  maxRejectRate: MaxRejectRateParam
})
export type HhRlhfParams = typeof HhRlhfParams.Type

const ASSISTANT = `chr(10) || chr(10) || 'Assistant:'` // 12 characters
const HUMAN = `chr(10) || chr(10) || 'Human:'` // 8 characters
const dropOneSpace = (x: string) => `CASE WHEN starts_with(${x}, ' ') THEN substr(${x}, 2) ELSE ${x} END`

/**
 * Split each transcript pair into (prompt, chosen reply, rejected reply). The cut is the last
 * "\n\nAssistant:" lying within the common prefix of the two transcripts: usually simply the last
 * one of each (fast path, plain string functions); where a reply itself contains a turn marker
 * (5 rows of harmless-base test) the common prefix is computed for that row only.
 */
const splitSql = (records: string) => `
  WITH v AS (SELECT record, json_extract_string(raw, ['$.chosen', '$.rejected']) AS v FROM ${records} WHERE reason IS NULL),
  s AS (SELECT record, v[1] AS c, v[2] AS r, string_split(v[1], ${ASSISTANT})[-1] AS tc,
               string_split(v[2], ${ASSISTANT})[-1] AS tr, contains(v[1], ${ASSISTANT}) AS hc, contains(v[2], ${ASSISTANT}) AS hr FROM v),
  f AS (SELECT *, hc AND hr AND length(c) - length(tc) = length(r) - length(tr)
                  AND left(c, length(c) - length(tc) - 12) = left(r, length(r) - length(tr) - 12) AS fast FROM s),
  g AS (SELECT *, CASE WHEN fast THEN length(c) - length(tc) - 12 WHEN hc AND hr THEN
          -- lambdas bind the common prefix length n and its parts; a subquery here would run on every row
          list_transform([${commonPrefixLengthSql("c", "r")}], lambda n:
            list_transform([string_split(left(c, n), ${ASSISTANT})], lambda parts:
              CASE WHEN len(parts) > 1 THEN n - length(parts[-1]) - 12 END)[1])[1] END AS cut FROM f)
  SELECT record, c, r, NOT fast AS by_common_prefix, left(c, cut) AS prompt_raw,
         ${dropOneSpace("substr(c, cut + 13)")} AS chosen, ${dropOneSpace("substr(r, cut + 13)")} AS rejected,
         CASE WHEN NOT hc THEN 'chosen: no "\\n\\nAssistant:" turn'
              WHEN NOT hr THEN 'rejected: no "\\n\\nAssistant:" turn'
              WHEN cut IS NULL THEN 'chosen and rejected share no conversation before their final "\\n\\nAssistant:" replies' END AS problem
  FROM g`

/** One Human turn renders as its text alone; longer conversations keep their "Human: …\n\nAssistant: …" turns. */
const singleTurnSql = (p: string) =>
  `(starts_with(${p}, ${HUMAN}) AND strpos(substr(${p}, 9), ${HUMAN}) = 0 AND strpos(${p}, ${ASSISTANT}) = 0)`
const promptSql = (p: string) =>
  `CASE WHEN ${singleTurnSql(p)} THEN ${dropOneSpace(`substr(${p}, 9)`)} ELSE ltrim(${p}, chr(10)) END`

/**
 * What the prompt and replies lost, so an export can give TRL the transcript form back exactly:
 * 'hh-turn' (one Human turn: the source read "\n\nHuman: " + prompt + "\n\nAssistant:" + " " + reply),
 * 'hh-dialogue' (several turns: "\n\n" + prompt + "\n\nAssistant:" + " " + reply), or NULL where that
 * rebuild would not give both source transcripts back character for character (an odd spacing: the
 * export then leaves such a prompt as it is rather than invent markers). `_p` is the derived prompt.
 */
const promptFormatSql = () => {
  const format = `CASE WHEN ${singleTurnSql("prompt_raw")} THEN 'hh-turn' ELSE 'hh-dialogue' END`
  const rebuilt = (reply: string) =>
    `CASE WHEN ${singleTurnSql("prompt_raw")} THEN ${HUMAN} || ' ' ELSE chr(10) || chr(10) END || _p || ${ASSISTANT} || ' ' || ${reply}`
  return `CASE WHEN c = ${rebuilt("chosen")} AND r = ${rebuilt("rejected")} THEN ${format} END`
}

/**
 * Load Anthropic HH-RLHF transcripts as pairs.
 *
 * Each record holds two whole dialogues, `chosen` and `rejected`, that differ only in the final
 * Assistant reply. The prompt is the conversation before the final "\n\nAssistant:" (cut at the last
 * such marker inside the two dialogues' common prefix, so a reply that itself contains a turn
 * marker cannot shift the cut); the replies, minus the one space after the marker, are the
 * responses. An empty reply is data, not a reject. Chosen goes on side a or b by a seeded hash of
 * the record, so a and b each win about half the pairs; `label` says which side was chosen.
 *
 * **Input columns**: none (reads `path`). Source fields: `chosen`, `rejected` (strings).
 *
 * **Output columns**
 * - `pairs`: pair_id, prompt (one Human turn: its text; several: "Human: …\n\nAssistant: …"),
 *   response_a, response_b, label ('a' | 'b': the chosen side), label_source 'human', source,
 *   source_row (0-based line), prompt_format ('hh-turn' | 'hh-dialogue': the turn markers and reply
 *   spaces the prompt and responses lost, which `export.trl` puts back; NULL where the transcripts
 *   are spaced otherwise and cannot be rebuilt exactly).
 * - `votes`: empty (the source has no rater ids).
 * - `rejects`: file, line (or index, row: by format), reason, raw: malformed JSON, invalid UTF-8, missing or non-string
 *   chosen/rejected, a dialogue without an Assistant turn, dialogues with no shared context.
 *
 * **Params**: path (a file, a list, or patterns with glob), glob (false), format (auto), source ("hh-rlhf"), seed (0), maxRejectRate (0).
 *
 * **Stats**: records, pairs, rejected, label_a, label_b, empty_responses (pairs with an empty
 * reply), multi_turn (prompts with more than one Human turn), split_by_common_prefix (rows whose
 * cut needed the common-prefix rule). rowsIn = records = pairs + rejected.
 *
 * **Example**
 * ```ts
 * const hh = p.node("hh", load.hhRlhf({ path: "data/hh-rlhf-harmless-base/test.jsonl.gz" }))
 * ```
 */
export const hhRlhf = defineLoader({
  kind: "load.hh-rlhf",
  version: 5,
  summary: "Anthropic HH-RLHF chosen/rejected transcripts -> pairs (prompt = dialogue before the final reply)",
  params: HhRlhfParams,
  passThrough: false,
  pairColumns: { prompt_format: "utf8" },
  load: ({ params, read, rejectsOf }) =>
    Effect.gen(function* () {
      const sql = yield* Sql
      const { file, records } = yield* read()
      yield* checkRecords(records, [
        { name: "chosen", kinds: ["string"] },
        { name: "rejected", kinds: ["string"] }
      ])
      const split = yield* sql.create("hh_split", splitSql(records.table))
      yield* sql.run(`UPDATE ${records.table} SET reason = s.problem FROM ${split} s
        WHERE ${records.table}.record = s.record AND s.problem IS NOT NULL`)
      const rejects = yield* rejectsOf([{ file, records }])
      const pairs = yield* sql.create(
        "pairs",
        chosenRejectedPairsSql({
          from: split,
          where: "problem IS NULL",
          inOrder: true,
          prompt: promptSql("prompt_raw"),
          chosen: "chosen",
          rejected: "rejected",
          seed: params.seed,
          record: "record",
          source: params.source,
          labelSource: "human",
          extras: [[promptFormatSql(), "prompt_format"]]
        })
      )
      const [extra] = yield* sql.rows<{ multi_turn: number; split_by_common_prefix: number }>(
        `SELECT count(*) FILTER (WHERE NOT ${singleTurnSql("prompt_raw")}) AS multi_turn,
                count(*) FILTER (WHERE by_common_prefix) AS split_by_common_prefix
         FROM ${split} WHERE problem IS NULL`
      )
      yield* sql.run(`DROP TABLE ${split}`)
      return { pairs, rejects, files: [{ file, records }], stats: { ...extra! } }
    })
})
