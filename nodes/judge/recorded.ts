import { Effect, Schema } from "effect"
import { output } from "../../workbench/core/contract.js"
import { didYouMean } from "../../workbench/core/did-you-mean.js"
import { DataError } from "../../workbench/core/errors.js"
import { defineNode } from "../../workbench/core/node.js"
import { param } from "../../workbench/core/params.js"
import { Progress, Sql, Workspace } from "../../workbench/core/services.js"
import { displayPath, fileFingerprint, isFile, nearestExisting, resolvePath } from "../lib/file-fingerprint.js"
import { pairsInput } from "../lib/pair-tables.js"
import { detectFormat, readTableFile } from "../lib/table-file.js"
import { matchedSql, matchStatsSql, recordedFailuresSql, recordedVotesSql, recordValuesSql } from "./recorded-sql.js"
import { hasColumn, ratersSql, ruleOutputs } from "./rule-votes.js"
import { failureColumns } from "./tables.js"

const column = (what: string) => Schema.String.check(Schema.isMinLength(1)).annotate({ description: what })
const optionalColumn = (what: string) => param(Schema.NullOr(Schema.String.check(Schema.isMinLength(1))), null, what)

export const RecordedParams = Schema.Struct({
  path: column(
    "the judgments file (JSON array, JSON Lines, CSV or Parquet, optionally .gz); relative to the project root"
  ),
  format: param(
    Schema.Literals(["auto", "jsonl", "json", "csv", "parquet"]),
    "auto",
    "file format; auto: from the extension (.json: array or lines, by its first character)"
  ),
  idColumn: column("the file's field naming the pair each judgment is about (PandaLM: idx)"),
  pairColumn: param(
    Schema.String.check(Schema.isMinLength(1)),
    "pair_id",
    "the pairs column the id is matched against, compared as text (load.pandalm's pairs carry idx)"
  ),
  verdictColumn: column("the file's field holding the verdict (PandaLM: gpt_result, pandalm_result)"),
  verdicts: param(
    Schema.Record(Schema.String, Schema.Literals(["a", "b", "tie"])),
    { "1": "a", "2": "b", "0": "tie", a: "a", b: "b", tie: "tie" },
    "verdict values (trimmed, case ignored) -> 'a' | 'b' | 'tie'; any other value is a failure row with the raw value"
  ),
  rater: column("the votes' rater name (e.g. gpt-3.5-turbo)"),
  raterKind: param(Schema.String, "ai", "the votes' rater_kind: ai, human, …"),
  model: optionalColumn("the model behind the judgments, for the raters table's attributes; null: not recorded"),
  pAColumn: optionalColumn("the file's field holding the probability that a wins (0..1), when it has one"),
  orderColumn: optionalColumn("the file's field saying which response the judge saw first (ab | ba), when it has one"),
  rationaleColumn: optionalColumn("the file's field holding the judge's explanation, kept as meta.rationale"),
  maxFailureRate: param(
    Schema.Number.check(Schema.isBetween({ minimum: 0, maximum: 1 })),
    0.1,
    "fail when more than this fraction of the matched records give no vote (an unmapped verdict is most often a wrong mapping)"
  )
})
export type RecordedParams = typeof RecordedParams.Type

const failuresOutput = output(
  "aux",
  { ...failureColumns, file: "utf8", record: "int64", id: "utf8" },
  { doc: "matched records that give no vote: reason, raw (the value as written), file, record, id" }
)

/**
 * Votes from a file of judgments someone already made (a benchmark's published judge verdicts,
 * PandaLM's gpt-3.5-turbo and PandaLM-7B files, an annotation tool's export), joined to the pairs on
 * an id: the file's `idColumn` against the pairs' `pairColumn`, compared as text.
 *
 * Verdicts map to 'a' | 'b' | 'tie' by `verdicts`; a value the mapping does not know (PandaLM's
 * "garbage"), a missing verdict, a p_a outside [0, 1] or an order other than ab/ba is a `failures` row
 * with the raw value, never a NULL vote. Records whose id matches no pair are counted
 * (records_unmatched), with a note naming some; pair rows no record names are counted (pairs_unjudged).
 * A record matching several rows of one pair_id gives one vote (meta.source_row NULL); matching rows
 * with different pair_ids gives one vote each.
 *
 * **Input columns**: `pairs`: pair_id, prompt, response_a, response_b and `pairColumn`; optional source_row.
 *
 * **Output columns**
 * - `pairs` (main): the input, unchanged.
 * - `votes`: pair_id, rater, rater_kind, vote, p_a, order, sample (NULL), meta {source_row, file,
 *   record, id, verdict (as written), rationale (NULL when empty)}.
 * - `failures`: pair_id, order, sample, stage 'judge', aspect, reason, status, raw, retryable false,
 *   file, record (0-based), id.
 * - `raters`: the rater, attributes {model, file}.
 *
 * **Params**: path, format (auto), idColumn, pairColumn ("pair_id"), verdictColumn, verdicts (1/2/0,
 * a/b/tie), rater, raterKind ("ai"), model (null), pAColumn, orderColumn, rationaleColumn (null),
 * maxFailureRate (0.1).
 *
 * **Stats**: records, records_matched, records_unmatched, pairs_unjudged, votes, failures, vote_a,
 * vote_b, vote_tie.
 *
 * **Example**
 * ```ts
 * const gpt = p.node("gpt", judge.recorded({ path: "data/pandalm-testset/gpt-3.5-turbo-testset-v1.json",
 *   idColumn: "idx", pairColumn: "idx", verdictColumn: "gpt_result", rationaleColumn: "gpt_reason",
 *   rater: "gpt-3.5-turbo", model: "gpt-3.5-turbo" }), { pairs: panda })
 * ```
 */
export const recorded = defineNode({
  kind: "judge.recorded",
  version: 1,
  summary: "Votes from a recorded judgments file, joined to the pairs on an id; unmapped verdicts are failures",
  params: RecordedParams,
  inputs: { pairs: pairsInput("the pairs the judgments are about (with the pairColumn)") },
  outputs: { ...ruleOutputs, failures: failuresOutput },
  fingerprint: (params, root, workspace) => fileFingerprint(root, [params.path], workspace),
  run: ({ node, kind, params, inputs }) =>
    Effect.gen(function* () {
      const sql = yield* Sql
      const at = `node "${node}" (${kind})`
      const root = (yield* Workspace).root
      const abs = resolvePath(root, params.path)
      const shown = displayPath(root, abs)
      if (!isFile(abs)) {
        const near = nearestExisting(abs)
        return yield* new DataError({
          where: `${at} param path`,
          found: `no such file: ${params.path} (resolved to ${abs}); ${displayPath(root, near.dir)}/ has: ${near.entries.slice(0, 12).join(", ") || "(nothing)"}`,
          expected: "a judgments file: JSON array, JSON Lines, CSV or Parquet (optionally .gz)",
          fix: `correct path; relative paths resolve against the project root ${root}`
        })
      }
      const format = detectFormat(abs, params.format)
      if (format === undefined) {
        return yield* new DataError({
          where: `${at} param path`,
          found: `cannot tell the format of ${shown} from its extension`,
          expected: ".jsonl, .ndjson, .json, .csv or .parquet, optionally .gz",
          fix: 'set format to "jsonl", "json", "csv" or "parquet"'
        })
      }
      const file = yield* readTableFile(abs, format).pipe(
        Effect.catchTag("SqlError", (e) =>
          Effect.fail(
            new DataError({
              where: `${at} file ${shown}`,
              found: `not a readable ${format} file: ${e.reason.split("\n")[0]!.trim()}`,
              expected: `a ${format} file of judgment records`,
              fix: "fix the file, or set format if it is not what its extension says"
            })
          )
        )
      )
      for (const [param, name] of [
        ["idColumn", params.idColumn],
        ["verdictColumn", params.verdictColumn],
        ["pAColumn", params.pAColumn],
        ["orderColumn", params.orderColumn],
        ["rationaleColumn", params.rationaleColumn]
      ] as const) {
        if (name !== null && file.keys.length > 0 && !file.keys.includes(name)) {
          const hint = didYouMean(name, file.keys)
          return yield* new DataError({
            where: `${at} param ${param}`,
            found: `${shown} has no field "${name}"; its fields: ${file.keys.join(", ")}`,
            expected: `the field holding the ${param.replace("Column", "")}`,
            fix: `${hint === "" ? "" : `${hint} `}set ${param} to one of the file's fields`
          })
        }
      }
      if (!hasColumn(inputs.pairs.schema, params.pairColumn)) {
        const names = inputs.pairs.schema.columns.map((c) => c.name)
        const hint = didYouMean(params.pairColumn, names)
        return yield* new DataError({
          where: `${at} param pairColumn`,
          found: `the pairs have no column "${params.pairColumn}"; they have: ${names.join(", ")}`,
          expected: `the pairs column holding the ids the file's ${params.idColumn} names`,
          fix: `${hint === "" ? "" : `${hint} `}set pairColumn to one of the pairs' columns (pair_id, or a source id such as idx)`
        })
      }
      const values = yield* sql.create("recorded_values", recordValuesSql(params, file.table))
      const matched = yield* sql.create("recorded_matched", matchedSql(params, values, inputs.pairs))
      const pairs = yield* sql.create("pairs", `SELECT * FROM ${inputs.pairs.relation}`)
      const votes = yield* sql.create("votes", recordedVotesSql(matched, params.rater, params.raterKind, shown))
      const failures = yield* sql.create("failures", recordedFailuresSql(matched, shown))
      const attributes = { ...(params.model === null ? {} : { model: params.model }), file: shown }
      const raters = yield* sql.create("raters", ratersSql([[params.rater, params.raterKind, attributes]]))
      const [m] = yield* sql.rows<Record<string, number>>(matchStatsSql(values, matched, inputs.pairs, params))
      const [v] = yield* sql.rows<Record<string, number>>(`SELECT count(*) AS votes, count_if(vote = 'a') AS vote_a,
        count_if(vote = 'b') AS vote_b, count_if(vote = 'tie') AS vote_tie, (SELECT count(*) FROM ${failures}) AS failures FROM ${votes}`)
      if (m!["records_unmatched"]! > 0) {
        const ids = yield* sql.rows<{ id: string | null }>(
          `SELECT _id AS id FROM ${values} WHERE record NOT IN (SELECT record FROM ${matched}) ORDER BY record LIMIT 5`
        )
        yield* (yield* Progress).note(
          `${at}: ${m!["records_unmatched"]} of ${m!["records"]} records of ${shown} match no pair ` +
            `(${params.idColumn} ${ids.map((i) => i.id ?? "null").join(", ")}${m!["records_unmatched"]! > 5 ? ", …" : ""} ` +
            `is no ${params.pairColumn} of the pairs)`
        )
      }
      const tried = v!["votes"]! + v!["failures"]!
      if (tried > 0 && v!["failures"]! / tried > params.maxFailureRate) {
        const top = yield* sql.rows<{ reason: string; n: number }>(
          `SELECT reason, count(*) AS n FROM ${failures} GROUP BY reason ORDER BY n DESC, reason LIMIT 3`
        )
        return yield* new DataError({
          where: `${at} file ${shown}`,
          found: `${v!["failures"]} of ${tried} matched records give no vote: ${top.map((t) => `${t.reason} (${t.n})`).join("; ")}`,
          expected: `at most ${params.maxFailureRate * 100}% of them (maxFailureRate ${params.maxFailureRate})`,
          fix: 'map the verdict values with the verdicts param (e.g. { "Tie": "tie" }), or raise maxFailureRate to keep them as failures'
        })
      }
      yield* sql.run(`DROP TABLE ${matched}; DROP TABLE ${values}; DROP TABLE ${file.table}`)
      return { tables: { pairs, votes, raters, failures }, stats: { ...m!, ...v! } }
    })
})
