import { Effect, Schema } from "effect"
import { join } from "node:path"
import { DataError } from "../../workbench/core/errors.js"
import { Sql } from "../../workbench/core/services.js"
import { isDirectory, listDirectory, resolvePath } from "../lib/file-fingerprint.js"
import { checkRecords, type CheckedFile } from "./check.js"
import { defineLoader } from "./define.js"
import { fileStem, FormatParam, GlobParam, MaxRejectRateParam, SourceParam, sourceFile, where } from "./files.js"
import { inputPaths, noMatchError } from "./inputs.js"
import { sidesPairsSql } from "./pairs.js"
import { readRecords } from "./read.js"
import { majorityLabelSql, sqlText } from "./sql.js"
import { pairIdSql } from "../lib/pair-tables.js"

export const AlpacaEvalParams = Schema.Struct({
  path: Schema.Union([Schema.String, Schema.Array(Schema.String)]).annotate({
    description:
      "annotation files (one per judge, e.g. annotations.json.gz): a file, a list of files, or a directory " +
      "(every .json/.jsonl file in it, .gz or not); relative paths resolve against the project root"
  }),
  glob: GlobParam,
  format: FormatParam,
  source: SourceParam("alpaca-eval"),
  maxRejectRate: MaxRejectRateParam
})
export type AlpacaEvalParams = typeof AlpacaEvalParams.Type

const DATA_FILE = /\.(json|jsonl)(\.gz)?$/i

/** The annotation files named by `path`, in order (a directory's files sorted by name; with glob, each pattern's matches). */
function annotationFiles(path: AlpacaEvalParams["path"], glob: boolean, root: string): Array<string> {
  return inputPaths(root, path, glob)
    .files.map((f) => f.path)
    .flatMap((p) =>
      isDirectory(resolvePath(root, p))
        ? listDirectory(resolvePath(root, p))
            .filter((n) => DATA_FILE.test(n))
            .map((n) => join(p, n))
        : [p]
    )
}

const str = (field: string) => `json_extract_string(raw, '$.${field}')`
const PAIR_ID = pairIdSql(str("instruction"), str("output_1"), str("output_2"))

const completion = (path: string) => `json_extract(raw, '$.raw_completion${path}')`
/** The logprob of `token` among the first answer token's top logprobs (weighted annotators), or NULL. */
const topLogprobSql = (token: string) =>
  `TRY_CAST(json_extract_string(list_filter(${completion(".logprobs.content[0].top_logprobs[*]")},
     lambda x: json_extract_string(x, '$.token') = '${token}')[1], '$.logprob') AS DOUBLE)`

/**
 * Which side the judge saw first ('ab': output_1). AlpacaEval's templates show the two outputs as
 * models "m" (first) and "M" (second), randomly swapped per instruction, and record the answer in
 * those names: the cot annotators map them to output_1/output_2 (`referenced_models`); the fn ones
 * rank "m"/"M" (`raw_completion.ordered_models`); the weighted ones give each name's logprob. Knowing
 * whether output_1 won (preference) and which name won tells which name output_1 had. NULL for a tie,
 * no judge call (identical outputs), or another template. On the shipped files the three judges'
 * orders agree on 801 of 805 pairs (the same seeded swap), which is what tells this reading is right.
 */
const orderSql = `CASE
  WHEN json_extract_string(raw, '$.referenced_models.m') = 'output_1' OR json_extract_string(raw, '$.referenced_models.M') = 'output_2' THEN 'ab'
  WHEN json_extract_string(raw, '$.referenced_models.m') = 'output_2' OR json_extract_string(raw, '$.referenced_models.M') = 'output_1' THEN 'ba'
  WHEN pref IS NULL OR pref = 1.5 THEN NULL
  ELSE CASE coalesce(
      json_extract_string(list_filter(${completion(".ordered_models[*]")}, lambda x: json_extract_string(x, '$.rank') = '1')[1], '$.model'),
      CASE WHEN coalesce(${topLogprobSql("m")}, '-Infinity'::DOUBLE) > coalesce(${topLogprobSql("M")}, '-Infinity'::DOUBLE) THEN 'm'
           WHEN coalesce(${topLogprobSql("M")}, '-Infinity'::DOUBLE) > coalesce(${topLogprobSql("m")}, '-Infinity'::DOUBLE) THEN 'M' END)
    WHEN 'm' THEN CASE WHEN pref < 1.5 THEN 'ab' ELSE 'ba' END
    WHEN 'M' THEN CASE WHEN pref < 1.5 THEN 'ba' ELSE 'ab' END END
  END`

/**
 * The good records, each with its pair_id, its rank among the records of that pair (_k = 1: the first,
 * by file then record, which becomes the pair; later ones are merged into it) and the first's record.
 */
const judgedSql = (records: string) => `
  SELECT *, CASE WHEN pref < 1.5 THEN 'a' WHEN pref > 1.5 THEN 'b' WHEN pref = 1.5 THEN 'tie' END AS vote, ${orderSql} AS _order,
         json_extract_string(raw, '$.raw_completion.concise_explanation') AS _rationale,
         first_value(record) OVER (PARTITION BY pair_id ORDER BY file_no, record) AS kept_record,
         row_number() OVER (PARTITION BY pair_id ORDER BY file_no, record) AS _k
  FROM (SELECT *, ${PAIR_ID} AS pair_id, coalesce(${str("annotator")}, file_stem) AS rater,
               json_extract(raw, '$.preference') AS raw_pref, ${str("generator_1")} AS generator_a, ${str("generator_2")} AS generator_b,
               CASE WHEN TRY_CAST(${str("preference")} AS DOUBLE) BETWEEN 1 AND 2 THEN TRY_CAST(${str("preference")} AS DOUBLE) END AS pref
        FROM ${records} WHERE reason IS NULL)`

/**
 * One vote per good record: preference 1 = output_1 wins, 2 = output_2, 1.5 = tie, in between = soft.
 * Its meta keeps the record's own file, record and generators: a record merged into an earlier pair
 * (the same texts from another model's file) still says whose answer it judged.
 */
const votesSql = (judged: string) => `
  SELECT pair_id, rater, 'ai' AS rater_kind, vote, 2 - pref AS p_a, _order AS "order", NULL::BIGINT AS sample,
         json_object('file', file, 'record', record, 'preference', raw_pref, 'generator_a', generator_a, 'generator_b', generator_b,
                     'rationale', _rationale, 'error', CASE WHEN pref IS NULL THEN 'no preference in [1, 2]' END)::JSON AS meta
  FROM ${judged} ORDER BY file_no, record`

/**
 * Load AlpacaEval judge annotations: the same (instruction, output_1, output_2) pairs judged by one
 * or more LLM annotators, one file per judge.
 *
 * Each record becomes a vote by its `annotator` (the file name when absent): p_a = 2 - preference
 * (the probability that output_1 wins; preference 1 = output_1, 2 = output_2, 1.5 = tie, continuous
 * in the weighted files), vote 'a' below 1.5, 'b' above, 'tie' at 1.5. Records of the same pair
 * (the same instruction, output_1 and output_2: in other judges' files, or two models that gave the
 * same answer) become one pair, the first by file and record; its label is the majority of its votes
 * (label_source 'ai'). Each later record goes to `removed` (reason 'merged-into', naming the pair) and
 * its vote to the pair, with the record's own file, record and generators in the vote's meta.
 *
 * **Input columns**: none (reads `path`).
 *
 * **Output columns**
 * - `pairs`: pair_id, prompt (instruction), response_a (output_1), response_b (output_2), label,
 *   label_source 'ai', source, source_row (element index in the first file holding the pair),
 *   generator_a, generator_b, dataset.
 * - `votes`: pair_id, rater, rater_kind 'ai', vote, p_a, order ('ab' | 'ba': which output the judge
 *   saw first, read from the annotation; NULL when it does not say), sample (NULL), meta {file, record,
 *   preference, generator_a, generator_b, rationale (the cot judges' concise_explanation), error}.
 * - `rejects`: file, the record's place in it, reason, raw.
 * - `removed`: the records merged into an earlier pair: its pair columns (label: the record's own
 *   vote), generator_a, generator_b, dataset, reason 'merged-into', kept_pair_id (= its pair_id),
 *   kept_source_row (the pair's source_row), rater, file. With several judges' files, every judge after
 *   the first adds a row per pair here (and a vote there); the same rater twice on one pair means two
 *   models gave the same answer.
 *
 * **Params**: path, glob (false: paths are literal; true: each is a pattern of files), format (auto), source ("alpaca-eval"), maxRejectRate (0).
 *
 * **Stats**: files, records, pairs, votes, judges, rejected, removed, label_*. rowsIn = records over
 * all files = pairs + rejected + removed; each record is one vote or one reject (votes + rejected =
 * rowsIn), and pairs are distinct.
 *
 * **Example**
 * ```ts
 * const ae = p.node("ae", load.alpacaEval({ path: "data/alpaca-eval-gpt-3.5-turbo-0301" }))
 * ```
 */
export const alpacaEval = defineLoader({
  kind: "load.alpaca-eval",
  version: 6,
  summary: "AlpacaEval annotations (one file per LLM judge) -> pairs + one vote per judge (p_a = 2 - preference)",
  params: AlpacaEvalParams,
  passThrough: false,
  // declared so downstream nodes may use them (split by model, win rate by generator)
  pairColumns: { generator_a: "utf8", generator_b: "utf8", dataset: "utf8" },
  files: (params, root) => annotationFiles(params.path, params.glob, root),
  load: ({ ctx, params, rejectsOf }) =>
    Effect.gen(function* () {
      const sql = yield* Sql
      const unmatched = inputPaths(ctx.root, params.path, params.glob).unmatched[0]
      if (unmatched !== undefined) return yield* noMatchError(ctx, unmatched.param, unmatched.path)
      const paths = annotationFiles(params.path, params.glob, ctx.root)
      if (paths.length === 0) {
        return yield* new DataError({
          where: where(ctx, "param path"),
          found: `no .json or .jsonl files in ${String(params.path)}`,
          expected: "AlpacaEval annotation files (JSON arrays, e.g. annotations.json or annotations.json.gz)",
          fix: "point path at the annotation files, or at the directory holding them"
        })
      }
      const files: Array<CheckedFile> = []
      for (const p of paths) {
        const file = yield* sourceFile(ctx, "path", p, params.format)
        const records = yield* readRecords(ctx, file)
        yield* checkRecords(records, [
          { name: "instruction", kinds: ["string"] },
          { name: "output_1", kinds: ["string"] },
          { name: "output_2", kinds: ["string"] },
          { name: "preference", kinds: ["number"], optional: true },
          { name: "annotator", kinds: ["string"], optional: true }
        ])
        files.push({ file, records })
      }
      const rejects = yield* rejectsOf(files)
      const all = sql.tempName("alpaca_records")
      yield* sql.run(
        `CREATE TEMP TABLE ${all} AS ${files
          .map(
            (f, i) =>
              `SELECT ${i} AS file_no, ${sqlText(f.file.shown)} AS file, ${sqlText(fileStem(f.file.abs))} AS file_stem, record, raw, reason
         FROM ${f.records.table}`
          )
          .join(" UNION ALL ")}`
      )
      const judged = sql.tempName("alpaca_judged")
      yield* sql.run(`CREATE TEMP TABLE ${judged} AS ${judgedSql(all)}`)
      const votes = sql.tempName("votes")
      yield* sql.run(`CREATE TABLE ${votes} AS ${votesSql(judged)}`)
      const sides = {
        prompt: str("instruction"),
        a: str("output_1"),
        b: str("output_2"),
        record: "record",
        source: params.source,
        labelSource: "ai",
        orderBy: ["file_no"]
      }
      const extras: Array<readonly [string, string]> = [
        ["generator_a", "generator_a"],
        ["generator_b", "generator_b"],
        [str("dataset"), "dataset"]
      ]
      const pairs = sql.tempName("pairs")
      yield* sql.run(
        `CREATE TABLE ${pairs} AS ${sidesPairsSql({
          ...sides,
          from: `(SELECT * FROM ${judged} WHERE _k = 1) f
                LEFT JOIN (SELECT pair_id, ${majorityLabelSql(
                  "count(*) FILTER (WHERE vote = 'a')",
                  "count(*) FILTER (WHERE vote = 'b')",
                  "count(*) FILTER (WHERE vote = 'tie')"
                )} AS _majority
                           FROM ${votes} GROUP BY pair_id) USING (pair_id)`,
          label: "_majority",
          extras
        })}`
      )
      // a record whose texts repeat an earlier record's (identical answers of two models) is that pair
      // again: its vote goes to the pair, the record itself to removed, naming the pair it merged into
      const removed = sql.tempName("removed")
      yield* sql.run(
        `CREATE TABLE ${removed} AS ${sidesPairsSql({
          ...sides,
          from: judged,
          where: "_k > 1",
          label: "vote",
          extras: [
            ...extras,
            ["'merged-into'", "reason"],
            ["pair_id", "kept_pair_id"],
            ["kept_record::BIGINT", "kept_source_row"],
            ["rater", "rater"],
            ["file", "file"]
          ]
        })}`
      )
      const [judges] = yield* sql.rows<{ judges: number }>(`SELECT count(DISTINCT rater) AS judges FROM ${votes}`)
      yield* sql.run(`DROP TABLE ${all}; DROP TABLE ${judged}`)
      return { pairs, votes, rejects, files, removed, stats: { files: files.length, judges: judges!.judges } }
    })
})
