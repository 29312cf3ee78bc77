/**
 * The tables the LLM judges write beside the shared votes and ratings: one judgment per pair (the
 * votes over both orders and all samples folded into one), and the requests that gave no vote.
 */
import type { ColumnType } from "../../workbench/core/column-type.js"
import { output } from "../../workbench/core/contract.js"
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
