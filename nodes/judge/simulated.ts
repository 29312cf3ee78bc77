import { Effect, Schema } from "effect"
import type { TableSchema } from "../../workbench/core/contract.js"
import { DataError } from "../../workbench/core/errors.js"
import { defineNode, type InputTable } from "../../workbench/core/node.js"
import { param } from "../../workbench/core/params.js"
import { Sql } from "../../workbench/core/services.js"
import { pairsInput, votesInput } from "../lib/pair-tables.js"
import { votesOnRowsSql } from "../lib/vote-rows.js"
import { drawSql, hasColumn, ratersSql, ruleOutputs, sourceRowSql, sqlText } from "./rule-votes.js"

const Rate = Schema.Number.check(Schema.isBetween({ minimum: 0, maximum: 1 }))
/** One value for every annotator, or one per annotator. */
const PerAnnotator = Schema.Union([Rate, Schema.Array(Rate).check(Schema.isMinLength(1))])

export const SimulatedParams = Schema.Struct({
  annotators: param(
    Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 1000 })),
    4,
    "simulated annotators in the pool"
  ),
  flipRate: param(
    PerAnnotator,
    0.25,
    "probability that an annotator's vote does not follow the label (AlpacaFarm flipped 25% of its simulated " +
      "annotators' labels); one number for all, or a list with one per annotator"
  ),
  positionBias: param(
    Schema.NullOr(PerAnnotator),
    null,
    "what a noisy vote is: null: the label flipped (a tie label: a side at random); a number p: the side shown first " +
      "with probability p (0.5: a coin flip; 1: always the first shown); one number for all, or one per annotator"
  ),
  labelFrom: param(
    Schema.Literals(["pairs", "votes"]),
    "pairs",
    "the label the annotators start from: the pairs' label column, or the majority of the votes input per pair row"
  ),
  voterKind: param(
    Schema.NullOr(Schema.String),
    null,
    "labelFrom votes: count only votes of this rater_kind (e.g. human); null: every vote"
  ),
  seed: param(Schema.Int, 0, "seed of the draws (order shown, noise, pick): change it to draw another pool"),
  raterPrefix: param(Schema.String, "sim:", "rater names are this prefix and the annotator's number: sim:1 … sim:N")
})
export type SimulatedParams = typeof SimulatedParams.Type

/** A simulated annotator: its number (1-based), flip rate and position bias (null: noise flips the label). */
export interface Annotator {
  readonly i: number
  readonly flip: number
  readonly bias: number | null
}

/** The flip rate and position bias of each annotator, or what is wrong with a list that does not fit the pool. */
export function annotatorsOf(p: SimulatedParams): Array<Annotator> | string {
  const each = (v: number | ReadonlyArray<number> | null, name: string): Array<number | null> | string => {
    if (v === null || typeof v === "number") return Array.from({ length: p.annotators }, () => v)
    return v.length === p.annotators ? [...v] : `${name} lists ${v.length} values for ${p.annotators} annotators`
  }
  const flips = each(p.flipRate, "flipRate"),
    biases = each(p.positionBias, "positionBias")
  if (typeof flips === "string") return flips
  if (typeof biases === "string") return biases
  return flips.map((flip, k) => ({ i: k + 1, flip: flip!, bias: biases[k]! }))
}

/** SQL: each pair row's starting label (`_label`), `_wb_row` and `_row` (its source_row, or NULL). */
function baseSql(p: SimulatedParams, pairs: InputTable, votes: InputTable | undefined): string {
  const row = sourceRowSql(pairs.schema, "p")
  if (p.labelFrom === "pairs")
    return `SELECT pair_id, _wb_row, ${row} AS _row, label AS _label FROM ${pairs.numbered} p`
  const kind = p.voterKind === null ? "true" : `rater_kind = ${sqlText(p.voterKind)}`
  return `SELECT p.pair_id, p._wb_row, ${row} AS _row,
      CASE WHEN na > nb AND na > nt THEN 'a' WHEN nb > na AND nb > nt THEN 'b' WHEN na + nb + nt > 0 THEN 'tie' END AS _label
    FROM ${pairs.numbered} p LEFT JOIN (
      SELECT _wb_row, count_if(vote = 'a') AS na, count_if(vote = 'b') AS nb, count_if(vote = 'tie') AS nt
      FROM (${votesOnRowsSql(pairs, votes!)}) WHERE ${kind} GROUP BY _wb_row) c USING (_wb_row)`
}

/**
 * The simulated votes: for every labelled pair row x annotator, three seeded draws over (seed,
 * pair_id, annotator, purpose) — the order shown ('ab' below 0.5), whether the vote is noisy (below
 * the annotator's flip rate), and the noisy pick — in pair row, then annotator order.
 */
export const simulatedVotesSql = (p: SimulatedParams, base: string, annotators: ReadonlyArray<Annotator>) => {
  const draw = (purpose: string) => drawSql(p.seed, ["b.pair_id", "a.i::VARCHAR", sqlText(purpose)])
  const pool = annotators.map((a) => `(${a.i}, ${a.flip}, ${a.bias ?? "NULL"}::DOUBLE)`).join(", ")
  return `
  SELECT pair_id, ${sqlText(p.raterPrefix)} || i AS rater, 'simulated' AS rater_kind,
    CASE WHEN NOT noisy THEN _label
         WHEN bias IS NULL THEN CASE _label WHEN 'a' THEN 'b' WHEN 'b' THEN 'a' ELSE CASE WHEN u_pick < 0.5 THEN 'a' ELSE 'b' END END
         WHEN u_pick < bias THEN CASE "order" WHEN 'ab' THEN 'a' ELSE 'b' END
         ELSE CASE "order" WHEN 'ab' THEN 'b' ELSE 'a' END END AS vote,
    NULL::DOUBLE AS p_a, "order", NULL::BIGINT AS sample,
    json_object('source_row', _row, 'label', _label, 'noisy', noisy) AS meta
  FROM (SELECT b.*, a.i, a.bias, CASE WHEN ${draw("order")} < 0.5 THEN 'ab' ELSE 'ba' END AS "order",
          ${draw("noise")} < a.flip AS noisy, ${draw("pick")} AS u_pick
        FROM ${base} b CROSS JOIN (VALUES ${pool}) a(i, flip, bias) WHERE b._label IN ('a', 'b', 'tie'))
  ORDER BY _wb_row, i`
}

const votesProblem = (p: SimulatedParams, votes: TableSchema | undefined): string | undefined =>
  p.labelFrom !== "votes"
    ? undefined
    : votes === undefined
      ? "labelFrom is votes, and no votes input is connected"
      : p.voterKind !== null && !hasColumn(votes, "rater_kind")
        ? `voterKind is ${JSON.stringify(p.voterKind)}, and the votes have no rater_kind column`
        : undefined

/**
 * An AlpacaFarm-style pool of simulated annotators: each starts from a known label (the pairs' label,
 * or the votes' majority) and adds its own noise, so a pipeline's aggregation, strength filter and
 * human/AI mix can be tried against raters whose noise is known. Every draw is a hash of (seed,
 * pair_id, annotator, purpose) (md5, see `drawSql`): the same votes on every run and machine, in any
 * row order, and a pair keeps its votes when other pairs are added or removed.
 *
 * Per pair row and annotator i: the order shown ('ab' or 'ba', half each); with probability
 * flipRate[i] the vote is noisy: the label flipped (positionBias null), or the side shown first with
 * probability positionBias[i] (position bias); otherwise the vote is the label. A row without a label
 * gets no votes.
 *
 * **Input columns**: `pairs`: pair_id, prompt, response_a, response_b; label (labelFrom pairs);
 * optional source_row. `votes` (labelFrom votes): pair_id, rater, vote; rater_kind with voterKind.
 *
 * **Output columns**
 * - `pairs` (main): the input, unchanged.
 * - `votes`: one per labelled pair row x annotator: pair_id, rater (sim:1 … sim:N), rater_kind
 *   'simulated', vote, p_a NULL, order ('ab' | 'ba': the side shown first), sample NULL,
 *   meta {source_row, label (the starting label), noisy}.
 * - `raters`: one per annotator, attributes {flipRate, positionBias, seed, labelFrom}.
 *
 * **Params**: annotators (4), flipRate (0.25), positionBias (null), labelFrom ("pairs"), voterKind
 * (null), seed (0), raterPrefix ("sim:").
 *
 * **Stats**: votes, unlabelled (pair rows without a starting label), noisy, agreement (share of votes
 * equal to the starting label), first_shown (share of a/b votes for the side shown first).
 *
 * **Example**
 * ```ts
 * const sim = p.node("sim", judge.simulated({ annotators: 5, flipRate: 0.25, positionBias: 0.7 }), { pairs: panda })
 * ```
 */
export const simulated = defineNode({
  kind: "judge.simulated",
  version: 1,
  summary: "AlpacaFarm-style simulated annotators: a known label plus seeded flip noise and position bias",
  params: SimulatedParams,
  inputs: {
    pairs: pairsInput("the pairs to vote on (with a label, for labelFrom: pairs)"),
    votes: votesInput("votes whose per-row majority is the starting label (labelFrom: votes)")
  },
  outputs: ruleOutputs,
  inferOutputs: ({ node, kind, params, inputs }) => {
    const problem = annotatorsOf(params)
    const votes = votesProblem(params, inputs["votes"])
    const found = typeof problem === "string" ? problem : votes
    return found === undefined
      ? Effect.succeed({})
      : Effect.fail(
          new DataError({
            where: `node "${node}" (${kind})`,
            found,
            expected:
              "one value, or one per annotator; with labelFrom votes, a votes input (with rater_kind for voterKind)",
            fix: "match the lists to annotators, or connect the votes (or set labelFrom: pairs)"
          })
        )
  },
  run: ({ node, kind, params, inputs }) =>
    Effect.gen(function* () {
      const sql = yield* Sql
      const annotators = annotatorsOf(params)
      const problem = typeof annotators === "string" ? annotators : votesProblem(params, inputs.votes?.schema)
      const labelMissing = params.labelFrom === "pairs" && !hasColumn(inputs.pairs.schema, "label")
      if (problem !== undefined || labelMissing || typeof annotators === "string") {
        return yield* new DataError({
          where: `node "${node}" (${kind})`,
          found: problem ?? "labelFrom is pairs, and the pairs have no label column",
          expected: "a starting label for the annotators: the pairs' label, or votes (labelFrom: votes)",
          fix: "connect labelled pairs or votes, and give one flipRate / positionBias per annotator (or one for all)"
        })
      }
      const pairs = yield* sql.create("pairs", `SELECT * FROM ${inputs.pairs.relation}`)
      const base = yield* sql.create("simulated_base", baseSql(params, inputs.pairs, inputs.votes))
      const votes = yield* sql.create("votes", simulatedVotesSql(params, base, annotators))
      const raters = yield* sql.create(
        "raters",
        ratersSql(
          annotators.map((a) => [
            `${params.raterPrefix}${a.i}`,
            "simulated",
            { flipRate: a.flip, positionBias: a.bias, seed: params.seed, labelFrom: params.labelFrom }
          ])
        )
      )
      const [s] = yield* sql.rows<Record<string, number>>(`SELECT
        (SELECT count(*) FROM ${votes}) AS votes,
        (SELECT count(*) FILTER (WHERE _label IS NULL OR _label NOT IN ('a', 'b', 'tie')) FROM ${base}) AS unlabelled,
        (SELECT count_if(json_extract(meta, '$.noisy')::BOOLEAN) FROM ${votes}) AS noisy,
        (SELECT count_if(vote = json_extract_string(meta, '$.label')) / greatest(count(*), 1) FROM ${votes}) AS agreement,
        (SELECT count_if(vote = left("order", 1)) / greatest(count_if(vote IN ('a', 'b')), 1) FROM ${votes}) AS first_shown`)
      yield* sql.run(`DROP TABLE ${base}`)
      return { tables: { pairs, votes, raters }, stats: { ...s! } }
    })
})
