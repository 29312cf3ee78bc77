import { Effect, Schema } from "effect"
import type { ColumnType } from "../../workbench/core/column-type.js"
import { output, outputLike } from "../../workbench/core/contract.js"
import { defineNode } from "../../workbench/core/node.js"
import { param } from "../../workbench/core/params.js"
import { Sql } from "../../workbench/core/services.js"
import { Trainer } from "../../workbench/core/trainer.js"
import { raterColumns, voteColumns } from "../lib/pair-tables.js"
import { backendParam } from "./params.js"
import { modelInput, pA, type Scored, scorePairsInput, scoreWithModels } from "./score.js"

/** Votes plus `margin` = score_a − score_b (strength.filter reads it before p_a). */
export const rewardVoteColumns = { ...voteColumns, margin: "float64" } as const satisfies Record<string, ColumnType>

const sqlText = (s: string) => `'${s.replaceAll("'", "''")}'`

/** The votes of every model on every pair, member by member, in input order; and the raters table. */
export const writeVotes = (s: Scored, raters: ReadonlyArray<string>, _attributes: ReadonlyArray<object>) =>
  Effect.gen(function* () {
    const sql = yield* Sql
    const scores = sql.tempName("rm_scores")
    const member: number[] = [],
      row: number[] = [],
      a: Array<number | null> = [],
      b: Array<number | null> = [],
      pa: number[] = [],
      margin: number[] = []
    s.scores.forEach((sc, k) => {
      for (let i = 0; i < sc.a.length; i++) {
        member.push(k)
        row.push(s.rows[i]!)
        // a preference model's two values are g(p, a, b) and g(p, b, a): only the difference is a score
        a.push(sc.preference ? null : sc.a[i]!)
        b.push(sc.preference ? null : sc.b[i]!)
        pa.push(pA(sc.a[i]!, sc.b[i]!))
        margin.push(sc.a[i]! - sc.b[i]!)
      }
    })
    yield* sql.load(
      scores,
      [
        { name: "member", type: "int64" },
        { name: "_wb_row", type: "int64" },
        { name: "score_a", type: "float64" },
        { name: "score_b", type: "float64" },
        { name: "p_a", type: "float64" },
        { name: "margin", type: "float64" }
      ],
      [member, row, a, b, pa, margin]
    )
    const names = `(VALUES ${raters.map((r, k) => `(${k}, ${sqlText(r)})`).join(", ")}) n(member, rater)`
    return { scores, names }
  })

export const votesSql = (scores: string, names: string, pairs: string, sourceRow: boolean) => `
  SELECT p.pair_id, n.rater, 'reward-model' AS rater_kind,
    CASE WHEN s.p_a > 0.5 THEN 'a' WHEN s.p_a < 0.5 THEN 'b' ELSE 'tie' END AS vote,
    s.p_a, NULL::VARCHAR AS "order", NULL::BIGINT AS sample,
    json_object(${sourceRow ? "'source_row', p.source_row, " : ""}'score_a', s.score_a, 'score_b', s.score_b) AS meta,
    s.margin
  FROM ${scores} s JOIN ${pairs} p USING (_wb_row) JOIN ${names} USING (member)
  ORDER BY s._wb_row, s.member`

export const ratersTableSql = (raters: ReadonlyArray<string>, attributes: ReadonlyArray<object>) =>
  `SELECT rater, 'reward-model' AS rater_kind, attributes::JSON AS attributes FROM (VALUES ${raters
    .map((r, k) => `(${k}, ${sqlText(r)}, ${sqlText(JSON.stringify(attributes[k] ?? {}))})`)
    .join(", ")}) t(i, rater, attributes) ORDER BY i`

/**
 * `judge.reward-model` — a reward model (or each member of an ensemble) as a rater: one vote per pair
 * (and member), so judge.aggregate, strength.filter and the evaluate family use it like any judge.
 * vote = 'a' when p_a > 0.5, 'b' when < 0.5, else 'tie'; p_a = σ(score_a − score_b); margin =
 * score_a − score_b (strength.filter's margin, ahead of p_a). A preference model (train.preference-model)
 * votes from its own p_a = σ(logit), margin = the logit, meta score_a / score_b NULL.
 *
 * **Input columns**: `model`: a model table (train.reward-model's or train.preference-model's `model`) or an ensemble's `models`
 * (member column: one rater per member); `pairs`: pair_id and the model's feature columns; optional
 * source_row (kept in meta).
 *
 * **Output columns**
 * - `pairs` (main): the input, unchanged.
 * - `votes`: pair_id, rater (`rater` param, or `reward-model:<node>`; `…#<member>` for ensembles),
 *   rater_kind 'reward-model', vote, p_a, order / sample NULL, meta {source_row, score_a, score_b}, margin.
 * - `raters`: one row per rater, attributes {model config, member}.
 *
 * **Params**: rater (null), backend (auto).
 *
 * **Stats**: votes, raters, vote_a, vote_b, backend.
 *
 * **Example**
 * ```ts
 * const rmVotes = p.node("rm-votes", train.judgeRewardModel(), { model: ens.models, pairs: feats })
 * p.node("strong", strength.filter({ drop: { below: 0 } }), { pairs: feats, votes: rmVotes.votes })
 * ```
 */
export const judgeRewardModel = defineNode({
  kind: "judge.reward-model",
  version: 1,
  summary: "A reward model (or an ensemble's members) as a rater: votes with p_a and margin",
  params: Schema.Struct({
    rater: param(
      Schema.NullOr(Schema.String),
      null,
      "the rater name; null: reward-model:<node> (#<member> per ensemble member)"
    ),
    backend: backendParam
  }),
  inputs: { model: modelInput("a model or an ensemble's models"), pairs: scorePairsInput },
  outputs: {
    pairs: outputLike("main", "pairs", { doc: "the pairs, unchanged" }),
    votes: output("aux", rewardVoteColumns, { doc: "one vote per pair and model: p_a, margin = score_a − score_b" }),
    raters: output("aux", raterColumns, { doc: "one row per model" })
  },
  requires: [Trainer],
  run: ({ node, kind, params, inputs }) =>
    Effect.gen(function* () {
      const sql = yield* Sql
      const s = yield* scoreWithModels(inputs.model, inputs.pairs, params.backend, `node "${node}" (${kind})`)
      const base = params.rater ?? `reward-model:${node}`
      const names = s.scores.length === 1 ? [base] : s.scores.map((_, k) => `${base}#${k}`)
      const attrs = names.map((_, k) => ({ member: k, backend: s.backend }))
      const w = yield* writeVotes(s, names, attrs)
      const sourceRow = inputs.pairs.schema.columns.some((c) => c.name === "source_row")
      const votes = yield* sql.create("votes", votesSql(w.scores, w.names, inputs.pairs.numbered, sourceRow))
      const raters = yield* sql.create("raters", ratersTableSql(names, attrs))
      const pairs = yield* sql.create("pairs", `SELECT * FROM ${inputs.pairs.relation}`)
      const [c] = yield* sql.rows<Record<string, number>>(
        `SELECT count(*) AS votes, count_if(vote = 'a') AS vote_a, count_if(vote = 'b') AS vote_b FROM ${votes}`
      )
      return { tables: { pairs, votes, raters }, stats: { ...c!, raters: names.length, backend: s.backend } }
    })
})
