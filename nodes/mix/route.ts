/**
 * mix.route's run, after the votes are attached to their rows: labels per row, the routing order
 * (with the gain model for route-by-features), the outputs and the stats.
 */
import { Effect } from "effect"
import { DataError } from "../../workbench/core/errors.js"
import type { InputTable, NodeRunContext } from "../../workbench/core/node.js"
import { Sql } from "../../workbench/core/services.js"
import { agreementSql, confusionSql, decisionsSql, verdictsSql } from "./agreement.js"
import { binsSql, FEATURES, type FeatureRow, featuresSql, fitGain } from "./gain.js"
import type { MixParams } from "./params.js"
import { aiVotesSql, finalPairsSql, humanLabelsSql, queueSql, rankedSql, rowsSql } from "./plan.js"

export const GAIN_MODEL_COLUMNS = {
  feature: "utf8",
  bin: "int64",
  bin_lo: "float64",
  bin_hi: "float64",
  pairs: "int64",
  fit_pairs: "int64",
  mean_gain: "float64",
  weight: "float64"
} as const

const emptyGainModelSql = `SELECT NULL::VARCHAR AS feature, NULL::BIGINT AS bin, NULL::DOUBLE AS bin_lo, NULL::DOUBLE AS bin_hi,
  NULL::BIGINT AS pairs, NULL::BIGINT AS fit_pairs, NULL::DOUBLE AS mean_gain, NULL::DOUBLE AS weight WHERE false`

interface Votes {
  readonly human: InputTable | undefined
  readonly humanRows: string | undefined
  readonly ai: InputTable | undefined
  readonly aiRows: string | undefined
}

/** Fit the gain model on `rows` (route-by-features): the per-row predicted gains and the gain_model table. */
const gainModel = (ctx: NodeRunContext<MixParams>, rows: string, pairs: InputTable) =>
  Effect.gen(function* () {
    const sql = yield* Sql
    const { bins, ridge, minFit } = ctx.params
    const features = yield* sql.create("mix_features", featuresSql(rows, pairs.schema, bins))
    const ids: Array<number> = []
    const data: Array<FeatureRow> = []
    yield* sql.scan(
      `SELECT _wb_row, ${FEATURES.map((f) => `${f}_bin`).join(", ")}, gain FROM ${features}`,
      (cols, n) => {
        for (let i = 0; i < n; i++) {
          ids.push(Number(cols[0]![i]))
          const gain = cols[FEATURES.length + 1]![i]
          data.push({
            bins: FEATURES.map((_, f) => Number(cols[f + 1]![i])),
            gain: gain === null || gain === undefined ? null : Number(gain)
          })
        }
      }
    )
    const fitted = data.filter((r) => r.gain !== null).length
    if (fitted < minFit) {
      return yield* new DataError({
        where: `node "${ctx.node}" (${ctx.kind}) param strategy`,
        found: `route-by-features needs pairs with both a human and an AI label to fit its gain model; ${fitted} have both`,
        expected: `at least minFit = ${minFit} such pairs`,
        fix: "label some pairs by hand first (route-by-uncertainty's human_queue is a good start), lower minFit, or use route-by-uncertainty"
      })
    }
    const fit = fitGain(data, bins, ridge)
    const gains = sql.tempName("mix_gains")
    yield* sql.load(
      gains,
      [
        { name: "_wb_row", type: "int64" },
        { name: "gain", type: "float64" }
      ],
      [ids, fit.gains]
    )
    const weights = sql.tempName("mix_weights")
    const cells = FEATURES.flatMap((_, f) =>
      Array.from({ length: bins }, (_, b) => [f, b, fit.weights[fit.index(f, b)]!] as const)
    )
    yield* sql.load(
      weights,
      [
        { name: "f", type: "int64" },
        { name: "bin", type: "int64" },
        { name: "weight", type: "float64" }
      ],
      [cells.map((c) => c[0]), cells.map((c) => c[1]), cells.map((c) => c[2])]
    )
    const model = yield* sql.create(
      "mix_gain_model",
      `SELECT '(intercept)' AS feature, NULL::BIGINT AS bin, NULL::DOUBLE AS bin_lo, NULL::DOUBLE AS bin_hi,
          count(*)::BIGINT AS pairs, count(gain)::BIGINT AS fit_pairs, avg(gain)::DOUBLE AS mean_gain, ${fit.weights[0]}::DOUBLE AS weight
        FROM ${features}
       UNION ALL
       SELECT * FROM (SELECT b.feature, b.bin::BIGINT, b.bin_lo::DOUBLE, b.bin_hi::DOUBLE, b.pairs::BIGINT, b.fit_pairs::BIGINT,
          b.mean_gain::DOUBLE, w.weight FROM (${binsSql(features)}) b JOIN ${weights} w ON w.f = b.f AND w.bin = b.bin
        ORDER BY b.f, b.bin)`
    )
    return { gains, model, fitted }
  })

/** Rank, route and report: the node's tables and stats. */
export const routeRows = (ctx: NodeRunContext<MixParams>, pairs: InputTable, votes: Votes) =>
  Effect.gen(function* () {
    const sql = yield* Sql
    const { strategy, budget, humanKinds, seed } = ctx.params
    const human =
      votes.human === undefined || votes.humanRows === undefined
        ? undefined
        : yield* sql.create("mix_human", humanLabelsSql(votes.humanRows, votes.human.schema, humanKinds))
    const aiVotes =
      votes.ai === undefined || votes.aiRows === undefined
        ? undefined
        : yield* sql.create("mix_ai", aiVotesSql(votes.aiRows, votes.ai.schema, humanKinds))
    const rows = yield* sql.create("mix_rows", rowsSql(pairs, human, aiVotes, seed))
    const n = pairs.rows
    const k =
      strategy === "prefer-human" ? n : Math.min(n, "pairs" in budget ? budget.pairs : Math.floor(budget.fraction * n))
    const gain = strategy === "route-by-features" ? yield* gainModel(ctx, rows, pairs) : undefined
    const ranked = yield* sql.create("mix_ranked", rankedSql(strategy, rows, gain?.gains))
    const out = yield* sql.create("mix_pairs", finalPairsSql(ranked, pairs.schema, k))
    const queue = yield* sql.create("mix_queue", queueSql(ranked, pairs.schema, k))
    const verdicts = verdictsSql(rows, aiVotes)
    const confusion = yield* sql.create("mix_confusion", confusionSql(rows, `(${verdicts})`))
    const decisions = decisionsSql(rows, votes.aiRows, votes.ai?.schema, humanKinds)
    const agreement = yield* sql.create("mix_agreement", agreementSql(rows, confusion, decisions, verdicts))
    const model = gain?.model ?? (yield* sql.create("mix_gain_model", emptyGainModelSql))
    const [c] = yield* sql.rows<Record<string, number>>(
      `SELECT count(*)::INTEGER AS pairs, count(*) FILTER (WHERE routed)::INTEGER AS routed,
         count(*) FILTER (WHERE label_source = 'human')::INTEGER AS from_human,
         count(*) FILTER (WHERE label_source = 'ai')::INTEGER AS from_ai,
         count(*) FILTER (WHERE NOT routed AND label_source = 'human')::INTEGER AS human_fallback,
         count(*) FILTER (WHERE label IS NULL)::INTEGER AS unlabelled,
         count(label_human)::INTEGER AS with_human FROM ${out}`
    )
    const stats: Record<string, number> = { ...c!, budget: k, queue: yield* sql.count(queue) }
    if (gain !== undefined) stats["fit_pairs"] = gain.fitted
    if (votes.human !== undefined) stats["human_votes_in"] = votes.human.rows
    if (votes.ai !== undefined) stats["ai_votes_in"] = votes.ai.rows
    return {
      tables: { pairs: out, human_queue: queue, agreement, confusion, gain_model: model },
      stats
    }
  })
