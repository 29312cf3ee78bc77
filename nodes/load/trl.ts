import { Effect, Schema } from "effect"
import { Progress, Sql } from "../../workbench/core/services.js"
import { defineLoader } from "./define.js"
import { extraColumnsOf, sampleStructure, STRUCTURE_SAMPLE } from "./extras.js"
import {
  FormatParam,
  LabelSourceParam,
  GlobParam,
  MaxRejectRateParam,
  PathsParam,
  SeedParam,
  SourceParam
} from "./files.js"
import { chosenRejectedPairsSql } from "./pairs.js"
import type { RecordsTable } from "./read-lines.js"
import { renderMessagesSql } from "./sql.js"
import { finishSurvey, fitChecks, type Structure, surveyNote } from "./survey.js"
import { trlSplitSql } from "./trl-split.js"

export const TrlParams = Schema.Struct({
  path: PathsParam("a TRL preference dataset file: records with chosen, rejected and optionally prompt"),
  glob: GlobParam,
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
const trlSample = (records: RecordsTable) =>
  Effect.gen(function* () {
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
const PROBLEM = "__wb_problem",
  EXPLICIT = "__wb_explicit",
  CONV = "__wb_conv"
/** With `check`: a good record's keys outside the structure, and whether its values fit their columns' types. */
const LATE = "__wb_late",
  FIT = "__wb_fit_"

/**
 * One pass over the records: field check, layout split, sides, pair ids and extras (`structure`),
 * every record kept with its problem. `check` adds the columns that tell whether `structure`, a
 * sample, holds every record (`LATE`, `FIT`<i>), and returns their names.
 */
const buildSql = (records: RecordsTable, params: TrlParams, structure: Structure, check: boolean) => {
  // pass-through values are read from good records only (the others may not even be JSON)
  const extras = extraColumnsOf(structure, MAPPED, [], "(CASE WHEN problem IS NULL THEN raw END)")
  const fits = check ? fitChecks(structure, MAPPED, (key) => `_x[${extras.keys.indexOf(key) + 1}]`).exprs : []
  const checks: Array<readonly [string, string]> = check
    ? [["late", LATE], ...fits.map((e, i): readonly [string, string] => [e, `${FIT}${i}`])]
    : []
  return {
    checks: checks.map(([, name]) => name),
    sql: chosenRejectedPairsSql({
      from: `(${trlSplitSql(records.table, check ? [...MAPPED, ...Object.keys(structure)] : undefined)})`,
      inOrder: true,
      prompt: `CASE WHEN problem IS NOT NULL THEN NULL WHEN conv THEN ${renderMessagesSql("messages")} ELSE prompt_text END`,
      messages: "messages",
      chosen: "chosen",
      rejected: "rejected",
      seed: params.seed,
      record: "record",
      source: params.source,
      labelSource: params.labelSource,
      extras: [["problem", PROBLEM], ["explicit", EXPLICIT], ["conv", CONV], ...checks],
      passThrough: extras
    })
  }
}

/**
 * Build the TRL table `all` with the sampled structure, then check it held every record; when it did
 * not (a key first seen late, a value its sampled type cannot hold), complete it (`finishSurvey`) and
 * build again. The check rides on the one pass (no parse of its own): only a wrong sample costs a
 * second one. Returns the scratch column names the pairs output must leave out.
 */
const buildTable = (all: string, records: RecordsTable, params: TrlParams) =>
  Effect.gen(function* () {
    const sql = yield* Sql
    const sample = yield* trlSample(records)
    const first = buildSql(records, params, sample, true)
    yield* sql.run(`CREATE TABLE ${all} AS ${first.sql}`)
    const fits = first.checks.filter((c) => c.startsWith(FIT))
    const [row] = yield* sql.rows<{
      late: ReadonlyArray<string> | null
      fits: ReadonlyArray<boolean | null> | null
    }>(`SELECT
        list_distinct(flatten(list(${LATE}) FILTER (WHERE ${LATE} IS NOT NULL))) AS late,
        ${fits.length === 0 ? "NULL" : `[${fits.map((c) => `bool_and(${c})`).join(", ")}]`} AS fits
      FROM ${all} WHERE ${PROBLEM} IS NULL`)
    const types = fitChecks(sample, MAPPED, () => "").typesOf(row?.fits ?? [])
    const survey = yield* finishSurvey(`${records.table} WHERE reason IS NULL`, sample, MAPPED, {
      late: row?.late ?? [],
      types
    })
    const note = surveyNote(survey)
    if (note === undefined) return first.checks
    yield* (yield* Progress).note(note)
    yield* sql.run(
      `DROP TABLE ${all}; CREATE TABLE ${all} AS ${buildSql(records, params, survey.structure, false).sql}`
    )
    return []
  })

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
 *   other source field, typed over all records (a name clashing with a pairs column gets a `src_`
 *   prefix, one differing from an earlier one only in case a `_1` suffix, the empty name is `unnamed`).
 * - `votes`: empty. `rejects`: file, line (or index, row: by format), reason, raw.
 *
 * **Params**: path (a file, a list, or patterns with glob), glob (false), format (auto), source ("trl"), seed (0), labelSource (null), maxRejectRate (0).
 *
 * **Stats**: records, pairs, rejected, label_a, label_b, empty_responses, explicit_prompt,
 * implicit_prompt, conversational. rowsIn = records = pairs + rejected.
 *
 * **Example**
 * ```ts
 * const uf = p.node("uf", load.trl({ path: "data/ultrafeedback_binarized.parquet", labelSource: "ai" }))
 * ```
 */
export const trl = defineLoader({
  kind: "load.trl",
  version: 4,
  summary: "TRL preference datasets (explicit/implicit prompt, standard or conversational) -> pairs",
  params: TrlParams,
  load: ({ params, read, rejectsOf }) =>
    Effect.gen(function* () {
      const sql = yield* Sql
      const { file, records } = yield* read({ checkJson: false })
      const all = sql.tempName("trl_pairs")
      const checks = yield* buildTable(all, records, params)
      yield* sql.run(`UPDATE ${records.table} SET reason = t.${PROBLEM} FROM ${all} t
        WHERE ${records.table}.record = t.source_row AND t.${PROBLEM} IS NOT NULL`)
      const rejects = yield* rejectsOf([{ file, records }])
      const pairs = sql.tempName("pairs")
      // a view: a filter keeps the order
      yield* sql.run(`CREATE VIEW ${pairs} AS SELECT * EXCLUDE (${[PROBLEM, EXPLICIT, CONV, ...checks].join(", ")})
        FROM ${all} WHERE ${PROBLEM} IS NULL`)
      const [layouts] = yield* sql.rows<
        Record<string, number>
      >(`SELECT count(*) FILTER (WHERE ${EXPLICIT}) AS explicit_prompt,
        count(*) FILTER (WHERE NOT ${EXPLICIT}) AS implicit_prompt, count(*) FILTER (WHERE ${CONV}) AS conversational
        FROM ${all} WHERE ${PROBLEM} IS NULL`)
      return { pairs, rejects, files: [{ file, records }], stats: { ...layouts! } }
    })
})
