import { Effect, Schema } from "effect"
import { defineNode } from "../../workbench/core/node.js"
import { Sql, Workspace } from "../../workbench/core/services.js"
import { fileFingerprint } from "./file-fingerprint.js"
import { collectRejects, type FieldCheck, fieldProblemSql, fieldTypesSql } from "./load-check.js"
import { extraColumnsOf, sampleStructure, STRUCTURE_SAMPLE } from "./load-extras.js"
import {
  FormatParam,
  LabelSourceParam,
  MaxRejectRateParam,
  PathParam,
  SeedParam,
  SourceParam,
  sourceFile
} from "./load-files.js"
import { finishLoad } from "./load-finish.js"
import { chosenRejectedPairsSql } from "./load-pairs.js"
import { readRecords } from "./load-read.js"
import { jsonProblemSql, type RecordsTable } from "./load-read-lines.js"
import {
  chosenIsBSql,
  commonListPrefixSql,
  commonPrefixLengthSql,
  renderMessagesSql
} from "./load-sql.js"
import { pairsOutput, rejectsOutput, votesOutput } from "./pair-tables.js"

export const TrlParams = Schema.Struct({
  path: PathParam("a TRL preference dataset file: records with chosen, rejected and optionally prompt"),
  format: FormatParam,
  source: SourceParam("trl"),
  seed: SeedParam,
  labelSource: LabelSourceParam,
  maxRejectRate: MaxRejectRateParam
})
export type TrlParams = typeof TrlParams.Type

/** SQL: message list `x` (JSON text) holds only {role: string, …} objects. */
const messagesOk = (x: string) =>
  `coalesce(list_bool_and(list_transform(json_extract(${x}, '$[*]'), lambda m: json_type(m) = 'OBJECT' AND json_type(m, '$.role') = 'VARCHAR')), true)`

/** The fields a TRL record maps to pair columns; the others pass through. */
const MAPPED = ["prompt", "chosen", "rejected"]

/** The fields every TRL record is checked for. */
const FIELDS: ReadonlyArray<FieldCheck> = [
  { name: "prompt", kinds: ["string", "array"], optional: true },
  { name: "chosen", kinds: ["string", "array"] },
  { name: "rejected", kinds: ["string", "array"] }
]

/**
 * Prompt, messages and the two responses for each TRL layout, plus a problem for records whose
 * fields do not fit together (first: not a JSON object, as the reader words it, then a missing field
 * or one of the wrong type, as `checkRecords` does). Implicit prompts are the common prefix of chosen and rejected: characters for strings
 * (TRL's rule: a space before the first difference goes to the responses), whole messages for
 * message lists. One JSON parse gives the types (`ty`; it also serves the JSON and field checks: it
 * fails on malformed JSON) and one the texts (`s`; a message list comes back as its JSON text);
 * records with a problem there get neither.
 */
const splitSql = (records: string) => `
  WITH f AS (SELECT record, raw, ty0, coalesce(${jsonProblemSql("raw", "ty0")}, ${fieldProblemSql("raw", FIELDS, "ty0")}) AS fp
             FROM (SELECT record, raw, try(${fieldTypesSql("raw", FIELDS)}) AS ty0 FROM ${records} WHERE reason IS NULL)),
  t AS (SELECT record, raw, fp, ty, s, ty[2] = 'ARRAY' AS conv, coalesce(ty[1] IN ('VARCHAR', 'ARRAY'), false) AS explicit
        FROM (SELECT record, raw, fp, CASE WHEN fp IS NULL THEN ty0 END AS ty,
                     CASE WHEN fp IS NULL THEN json_extract_string(raw, ['$.prompt', '$.chosen', '$.rejected']) END AS s
              FROM f)),
  n AS (SELECT *, CASE WHEN NOT explicit AND NOT conv THEN ${commonPrefixLengthSql("s[2]", "s[3]")} END AS n0,
               CASE WHEN NOT explicit AND conv THEN ${commonListPrefixSql("s[2]", "s[3]")} END AS k FROM t),
  c AS (SELECT *, CASE WHEN n0 > 0 AND substr(s[2], n0, 1) = ' ' THEN n0 - 1 ELSE n0 END AS n,
               CASE WHEN k IS NOT NULL THEN json_extract(s[2], '$[*]') END AS cl,
               CASE WHEN k IS NOT NULL THEN json_extract(s[3], '$[*]') END AS rl FROM n)
  SELECT record, raw, conv, explicit,
    CASE WHEN explicit AND NOT conv THEN s[1] WHEN NOT conv THEN left(s[2], n) END AS prompt_text,
    CASE WHEN explicit AND conv THEN s[1]::JSON WHEN conv THEN to_json(cl[1:k]) END AS messages,
    CASE WHEN explicit AND NOT conv THEN s[2] WHEN NOT conv THEN substr(s[2], n + 1)
         WHEN explicit THEN ${renderMessagesSql("s[2]")} ELSE ${renderMessagesSql("to_json(cl[k + 1:])")} END AS chosen,
    CASE WHEN explicit AND NOT conv THEN s[3] WHEN NOT conv THEN substr(s[3], n + 1)
         WHEN explicit THEN ${renderMessagesSql("s[3]")} ELSE ${renderMessagesSql("to_json(rl[k + 1:])")} END AS rejected,
    CASE WHEN fp IS NOT NULL THEN fp
         WHEN ty[2] <> ty[3] THEN 'chosen and rejected: expected both strings or both message lists, got ' || ty[2] || ' and ' || ty[3]
         WHEN conv AND ty[1] = 'VARCHAR' THEN 'prompt: expected a message list like chosen, got VARCHAR'
         WHEN NOT conv AND ty[1] = 'ARRAY' THEN 'prompt: expected a string like chosen, got ARRAY'
         WHEN conv AND explicit AND NOT ${messagesOk("s[1]")} THEN 'prompt: expected a list of {role, content} messages'
         WHEN conv AND NOT ${messagesOk("s[2]")} THEN 'chosen: expected a list of {role, content} messages'
         WHEN conv AND NOT ${messagesOk("s[3]")} THEN 'rejected: expected a list of {role, content} messages'
         WHEN NOT explicit AND coalesce(n, k) = 0
         THEN 'chosen and rejected share no prompt (without a prompt field, the prompt is their common beginning)' END AS problem
  FROM c`

/**
 * The structure of the first good records (as `checkRecords` + `extraColumns` would see them), for
 * the pass-through fields. The sample is taken from the first records only, widening until it is
 * full: a LIMIT over the whole split would still check a row group or more per thread.
 */
const trlStructure = (records: RecordsTable) =>
  Effect.gen(function*() {
    for (let k = 2 * STRUCTURE_SAMPLE; ; k *= 4) {
      const bounded = k < records.records
      const sample = yield* sampleStructure(
        `(${splitSql(bounded ? `(SELECT * FROM ${records.table} LIMIT ${k})` : records.table)}) WHERE problem IS NULL`,
        MAPPED
      )
      if (!bounded || sample.rows === STRUCTURE_SAMPLE) return sample.structure
    }
  })

/** Columns of the scratch table that the pairs output leaves out: the record's problem and layout. */
const PROBLEM = "__wb_problem", EXPLICIT = "__wb_explicit", CONV = "__wb_conv"

/**
 * Load a dataset in one of TRL's preference layouts.
 *
 * Accepted per record (layouts may be mixed within a file):
 * - explicit prompt: `{"prompt": "The sky is", "chosen": " blue.", "rejected": " green."}`
 * - implicit prompt: `{"chosen": "The sky is blue.", "rejected": "The sky is green."}`; the prompt
 *   is the common beginning (TRL's `extract_prompt` rule; costs a character scan per record)
 * - conversational: `prompt`, `chosen`, `rejected` as lists of `{role, content}` messages, or
 *   `chosen`/`rejected` full conversations sharing their first messages (implicit prompt).
 * Conversational prompts keep their message list in `messages` and render as text (one message:
 * its content; several: "Human: …\n\nAssistant: …"); responses render the same way. Chosen goes on
 * side a or b by a seeded hash of the record. Other fields pass through as extra columns.
 *
 * **Input columns**: none (reads `path`).
 *
 * **Output columns**
 * - `pairs`: pair_id, prompt, response_a, response_b, label ('a' | 'b': the chosen side),
 *   label_source (param), source, source_row, messages (JSON; NULL for string layouts), then every
 *   other source field (a name clashing with a pairs column gets a `src_` prefix).
 * - `votes`: empty. `rejects`: file, record, reason, raw.
 *
 * **Params**: path, format (auto), source ("trl"), seed (0), labelSource (null), maxRejectRate (0).
 *
 * **Stats**: records, pairs, rejected, label_a, label_b, empty_responses, explicit_prompt,
 * implicit_prompt, conversational. rowsIn = records = pairs + rejected.
 *
 * **Example**
 * ```ts
 * const uf = p.node("uf", load.trl({ path: "data/ultrafeedback_binarized.parquet", labelSource: "ai" }))
 * ```
 */
export const trl = defineNode({
  kind: "load.trl",
  version: 1,
  summary: "TRL preference datasets (explicit/implicit prompt, standard or conversational) -> pairs",
  params: TrlParams,
  inputs: {},
  outputs: { pairs: pairsOutput(), votes: votesOutput(), rejects: rejectsOutput() },
  fingerprint: (params, root) => fileFingerprint(root, [params.path]),
  run: ({ node, params }) =>
    Effect.gen(function*() {
      const sql = yield* Sql
      const ctx = { node, kind: "load.trl", root: (yield* Workspace).root }
      const file = yield* sourceFile(ctx, "path", params.path, params.format)
      const records = yield* readRecords(ctx, file, { checkJson: false })
      const split = splitSql(records.table)
      // pass-through values are read from good records only (the others may not even be JSON)
      const extras = extraColumnsOf(yield* trlStructure(records), MAPPED, [], "(CASE WHEN problem IS NULL THEN raw END)")
      // one pass over the records: field check, layout split, sides, pair ids and extras, every record
      // kept with its problem; the pairs output is the problem-free rows (a view: a filter keeps the order)
      const all = sql.tempName("trl_pairs")
      yield* sql.run(`CREATE TABLE ${all} AS ${chosenRejectedPairsSql({
        from: `(${split})`,
        inOrder: true,
        prompt: `CASE WHEN problem IS NOT NULL THEN NULL WHEN conv THEN ${renderMessagesSql("messages")} ELSE prompt_text END`,
        messages: "messages",
        chosen: "chosen",
        rejected: "rejected",
        chosenIsB: chosenIsBSql(params.seed, "coalesce(prompt_text, messages::VARCHAR)", "chosen", "rejected"),
        record: "record",
        source: params.source,
        labelSource: params.labelSource,
        extras: [["problem", PROBLEM], ["explicit", EXPLICIT], ["conv", CONV]],
        passThrough: extras
      })}`)
      yield* sql.run(`UPDATE ${records.table} SET reason = t.${PROBLEM} FROM ${all} t
        WHERE ${records.table}.record = t.source_row AND t.${PROBLEM} IS NOT NULL`)
      const rejects = yield* collectRejects(ctx, [{ file, records }], params.maxRejectRate)
      const pairs = sql.tempName("pairs")
      yield* sql.run(`CREATE VIEW ${pairs} AS SELECT * EXCLUDE (${PROBLEM}, ${EXPLICIT}, ${CONV}) FROM ${all} WHERE ${PROBLEM} IS NULL`)
      const [layouts] = yield* sql.rows<Record<string, number>>(`SELECT count(*) FILTER (WHERE ${EXPLICIT}) AS explicit_prompt,
        count(*) FILTER (WHERE NOT ${EXPLICIT}) AS implicit_prompt, count(*) FILTER (WHERE ${CONV}) AS conversational
        FROM ${all} WHERE ${PROBLEM} IS NULL`)
      return yield* finishLoad({ pairs, rejects, files: [{ file, records }], stats: { ...layouts! } })
    })
})
