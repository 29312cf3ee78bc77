/**
 * The tables the LLM judges write beside the shared votes and ratings: one judgment per pair (the
 * votes over both orders and all samples folded into one), and the requests that gave no vote.
 */
import type { ColumnType } from "../../workbench/core/column-type.js"
import { output } from "../../workbench/core/contract.js"
import type { NodeView } from "../../workbench/core/views.js"
import { ratingColumns, voteColumns } from "../lib/pair-tables.js"

/**
 * One row per judged pair and rater: `vote` the folded verdict ('a' | 'b' | 'tie'), `p_a` the mean
 * p_a of its votes (NULL when none had one), `position_consistent` whether the a-first and b-first
 * verdicts agree (NULL when the pair was not judged in both orders, or one order gave no vote), `n`
 * the votes folded, `confidence` the share of them equal to `vote` (0 for an inconsistent pair made a
 * tie, unless samples said tie).
 */
export const judgmentColumns = {
  pair_id: "utf8",
  rater: "utf8",
  rater_kind: "utf8",
  vote: "utf8",
  p_a: "float64",
  position_consistent: "bool",
  n: "int64",
  confidence: "float64"
} as const satisfies Record<string, ColumnType>

/**
 * One row per request that gave no vote or rating. `stage`: 'judge' (a verdict), 'reference' (the
 * judge's own answer, reference-guided), 'aspects'; `aspect` for the aspects template; `reason` in
 * user words ('HTTP 500 after 4 retries', 'unparseable answer: …', 'budget: maxRequests 100 reached');
 * `status` the last HTTP status; `raw` the answer or body as received; `retryable` true for request
 * failures (`wb run --retry-failed` asks them again), false for answers that came but did not parse
 * (asking again would get the same cached answer).
 */
export const failureColumns = {
  pair_id: "utf8",
  order: "utf8",
  sample: "int64",
  stage: "utf8",
  aspect: "utf8",
  reason: "utf8",
  status: "int64",
  raw: "utf8",
  retryable: "bool"
} as const satisfies Record<string, ColumnType>

/** The shared ratings columns, plus which order the judge saw the pair in and the sample index. */
export const judgeRatingColumns = { ...ratingColumns, order: "utf8", sample: "int64" } as const

export const judgeOutputs = {
  votes: output("aux", voteColumns, {
    doc: "one row per pair x order x sample with a verdict: vote oriented to the pair's a/b, p_a, order, sample, meta"
  }),
  judgments: output("aux", judgmentColumns, {
    doc: "one row per judged pair: folded vote, mean p_a, position_consistent, n, confidence"
  }),
  ratings: output("aux", judgeRatingColumns, {
    doc: "aspects template: one row per pair x side x aspect x order x sample, score 1-5 with rationale"
  }),
  failures: output("aux", failureColumns, {
    doc: "one row per request without a vote: stage, reason, HTTP status, raw text, retryable"
  })
}

/**
 * What `wb serve` draws for an LLM judge (core/views.ts): per rater, how many judged pairs kept their
 * verdict when the two responses swapped places (LLMBar's positional agreement).
 */
export const judgeViews: ReadonlyArray<NodeView> = [
  {
    name: "position-consistency",
    title: "Position consistency per rater",
    table: "judgments",
    kind: "bar",
    x: "rater",
    color:
      "CASE position_consistent WHEN true THEN 'consistent' WHEN false THEN 'inconsistent' ELSE 'one order only' END",
    yLabel: "judged pairs",
    doc: "inconsistent pairs got opposite verdicts in the two orders: the judge followed the position, not the content"
  }
]

/**
 * What `wb serve` draws for judge.aggregate: a binned scatter of the length difference (characters,
 * a − b; 20 equal bins over its 2nd..98th percentile, the tails in the end bins) against the share of
 * the bin's decisive labels that chose a; dots sized by the pairs in the bin. A rising curve is a
 * length bias: the ensemble prefers whichever response is longer.
 */
export const aggregateViews: ReadonlyArray<NodeView> = [
  {
    name: "length-bias",
    title: "Length bias: length difference vs the aggregated label",
    table: "pairs",
    kind: "scatter",
    x: "length(response_a) - length(response_b)",
    sql: `WITH d AS (SELECT (length(response_a) - length(response_b))::DOUBLE AS d, label FROM input WHERE label IN ('a', 'b')),
        r AS (SELECT quantile_cont(d, 0.02) AS lo, quantile_cont(d, 0.98) AS hi FROM d),
        b AS (SELECT least(19, greatest(0, floor((d - lo) / greatest((hi - lo) / 20, 1e-9))))::INTEGER AS bin, d, label FROM d, r)
      SELECT avg(d) AS x, avg((label = 'a')::INTEGER)::DOUBLE AS y, count(*)::DOUBLE AS n FROM b GROUP BY bin ORDER BY x`,
    reference: 0.5,
    xLabel: "length(a) − length(b), characters (bin mean)",
    yLabel: "P(label = a)",
    doc: "flat at 0.5 means length does not sway the label; a rising curve means longer wins"
  }
]
