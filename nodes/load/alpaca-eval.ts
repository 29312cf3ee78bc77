import { Effect, Schema } from "effect"
import { join } from "node:path"
import { DataError } from "../../workbench/core/errors.js"
import { defineNode } from "../../workbench/core/node.js"
import { Sql, Workspace } from "../../workbench/core/services.js"
import { fileFingerprint, isDirectory, listDirectory, resolvePath } from "./file-fingerprint.js"
import { checkRecords, type CheckedFile, collectRejects } from "./check.js"
import { fileStem, FormatParam, type LoadContext, MaxRejectRateParam, SourceParam, sourceFile, where } from "./files.js"
import { finishLoad } from "./finish.js"
import { sidesPairsSql } from "./pairs.js"
import { readRecords } from "./read.js"
import { majorityLabelSql, sqlText } from "./sql.js"
import { pairIdSql, pairsOutput, rejectsOutput, votesOutput } from "../lib/pair-tables.js"

export const AlpacaEvalParams = Schema.Struct({
  path: Schema.Union([Schema.String, Schema.Array(Schema.String)]).annotate({
    description: "annotation files (one per judge, e.g. annotations.json.gz): a file, a list of files, or a directory " +
      "(every .json/.jsonl file in it, .gz or not); relative paths resolve against the project root"
  }),
  format: FormatParam,
  source: SourceParam("alpaca-eval"),
  maxRejectRate: MaxRejectRateParam
})
export type AlpacaEvalParams = typeof AlpacaEvalParams.Type

const DATA_FILE = /\.(json|jsonl)(\.gz)?$/i

/** The annotation files named by `path`, in order (a directory's files sorted by name). */
function annotationFiles(path: AlpacaEvalParams["path"], root: string): Array<string> {
  return (typeof path === "string" ? [path] : [...path]).flatMap((p) =>
    isDirectory(resolvePath(root, p)) ? listDirectory(resolvePath(root, p)).filter((n) => DATA_FILE.test(n)).map((n) => join(p, n)) : [p]
  )
}

const str = (field: string) => `json_extract_string(raw, '$.${field}')`
const PAIR_ID = pairIdSql(str("instruction"), str("output_1"), str("output_2"))

/** One vote per good record: preference 1 = output_1 wins, 2 = output_2, 1.5 = tie, in between = soft. */
const votesSql = (records: string) => `
  SELECT pair_id, rater, 'ai' AS rater_kind,
         CASE WHEN pref < 1.5 THEN 'a' WHEN pref > 1.5 THEN 'b' WHEN pref = 1.5 THEN 'tie' END AS vote,
         2 - pref AS p_a,
         json_object('file', file, 'record', record, 'preference', raw_pref,
                     'error', CASE WHEN pref IS NULL THEN 'no preference in [1, 2]' END)::JSON AS meta,
         file_no, record
  FROM (SELECT ${PAIR_ID} AS pair_id, coalesce(${str("annotator")}, file_stem) AS rater, file, file_no, record,
               json_extract(raw, '$.preference') AS raw_pref,
               CASE WHEN TRY_CAST(${str("preference")} AS DOUBLE) BETWEEN 1 AND 2 THEN TRY_CAST(${str("preference")} AS DOUBLE) END AS pref
        FROM ${records} WHERE reason IS NULL)`

/**
 * Load AlpacaEval judge annotations: the same (instruction, output_1, output_2) pairs judged by one
 * or more LLM annotators, one file per judge.
 *
 * Each record becomes a vote by its `annotator` (the file name when absent): p_a = 2 - preference
 * (the probability that output_1 wins; preference 1 = output_1, 2 = output_2, 1.5 = tie, continuous
 * in the weighted files), vote 'a' below 1.5, 'b' above, 'tie' at 1.5. Records of the same pair
 * across files become one pair; its label is the majority of its votes (label_source 'ai').
 *
 * **Input columns**: none (reads `path`).
 *
 * **Output columns**
 * - `pairs`: pair_id, prompt (instruction), response_a (output_1), response_b (output_2), label,
 *   label_source 'ai', source, source_row (element index in the first file holding the pair),
 *   generator_a, generator_b, dataset.
 * - `votes`: pair_id, rater, rater_kind 'ai', vote, p_a, meta {file, record, preference, error}.
 * - `rejects`: file, record, reason, raw.
 *
 * **Params**: path, format (auto), source ("alpaca-eval"), maxRejectRate (0).
 *
 * **Stats**: files, records, pairs, votes, judges, rejected, label_*. rowsIn = records over all
 * files; each record is one vote or one reject (votes + rejected = rowsIn), and pairs are distinct.
 *
 * **Example**
 * ```ts
 * const ae = p.node("ae", load.alpacaEval({ path: "data/alpaca-eval-gpt-3.5-turbo-0301" }))
 * ```
 */
export const alpacaEval = defineNode({
  kind: "load.alpaca-eval",
  version: 2,
  summary: "AlpacaEval annotations (one file per LLM judge) -> pairs + one vote per judge (p_a = 2 - preference)",
  params: AlpacaEvalParams,
  inputs: {},
  outputs: { pairs: pairsOutput(false), votes: votesOutput(), rejects: rejectsOutput() },
  fingerprint: (params, root) => fileFingerprint(root, annotationFiles(params.path, root)),
  run: ({ node, params }) =>
    Effect.gen(function*() {
      const sql = yield* Sql
      const ctx: LoadContext = { node, kind: "load.alpaca-eval", root: (yield* Workspace).root }
      const paths = annotationFiles(params.path, ctx.root)
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
      const rejects = yield* collectRejects(ctx, files, params.maxRejectRate)
      const all = sql.tempName("alpaca_records")
      yield* sql.run(`CREATE TEMP TABLE ${all} AS ${files.map((f, i) =>
        `SELECT ${i} AS file_no, ${sqlText(f.file.shown)} AS file, ${sqlText(fileStem(f.file.abs))} AS file_stem, record, raw, reason
         FROM ${f.records.table}`).join(" UNION ALL ")}`)
      const votes = sql.tempName("votes")
      yield* sql.run(`CREATE TABLE ${votes} AS SELECT * EXCLUDE (file_no, record) FROM (${votesSql(all)}) ORDER BY file_no, record`)
      const pairs = sql.tempName("pairs")
      yield* sql.run(`CREATE TABLE ${pairs} AS ${sidesPairsSql({
        from: `(SELECT * FROM (SELECT *, ${PAIR_ID} AS _id, row_number() OVER (PARTITION BY _id ORDER BY file_no, record) AS _k
                               FROM ${all} WHERE reason IS NULL) WHERE _k = 1) f
                LEFT JOIN (SELECT pair_id AS _id, ${majorityLabelSql("count(*) FILTER (WHERE vote = 'a')",
                  "count(*) FILTER (WHERE vote = 'b')", "count(*) FILTER (WHERE vote = 'tie')")} AS _majority
                           FROM ${votes} GROUP BY pair_id) USING (_id)`,
        prompt: str("instruction"),
        a: str("output_1"),
        b: str("output_2"),
        label: "_majority",
        record: "record",
        source: params.source,
        labelSource: "ai",
        extras: [[str("generator_1"), "generator_a"], [str("generator_2"), "generator_b"], [str("dataset"), "dataset"]],
        orderBy: ["file_no"]
      })}`)
      const [judges] = yield* sql.rows<{ judges: number }>(`SELECT count(DISTINCT rater) AS judges FROM ${votes}`)
      yield* sql.run(`DROP TABLE ${all}`)
      return yield* finishLoad({ ctx, pairs, votes, rejects, files, stats: { files: files.length, judges: judges!.judges } })
    })
})
