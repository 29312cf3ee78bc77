import { Effect, Schema } from "effect"
import { defineNode } from "../../workbench/core/node.js"
import { Sql, Workspace } from "../../workbench/core/services.js"
import { fileFingerprint } from "./file-fingerprint.js"
import { collectRejects } from "./load-check.js"
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
import type { RecordsTable } from "./load-read-lines.js"
import { chosenIsBSql, renderMessagesSql } from "./load-sql.js"
import { trlSplitSql } from "./load-trl-split.js"
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

/** The fields a TRL record maps to pair columns; the others pass through. */
const MAPPED = ["prompt", "chosen", "rejected"]

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
        `(${trlSplitSql(bounded ? `(SELECT * FROM ${records.table} LIMIT ${k})` : records.table)}) WHERE problem IS NULL`,
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
 * Accepted per record (layouts may be mixed within a file, not within a record):
 * - explicit prompt: `{"prompt": "The sky is", "chosen": " blue.", "rejected": " green."}`
 * - implicit prompt: `{"chosen": "The sky is blue.", "rejected": "The sky is green."}`; the prompt
 *   is the common beginning (TRL's `extract_prompt` rule; costs a character scan per record)
 * - conversational: `prompt`, `chosen`, `rejected` as lists of `{role, content}` messages (role and
 *   content strings), or `chosen`/`rejected` full conversations sharing their first messages
 *   (implicit prompt).
 * Rejected: a string field beside a message-list one (TRL applies its chat template to all three or
 * none), a message without string role or content, identical implicit responses (nothing to split).
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
      const split = trlSplitSql(records.table)
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
