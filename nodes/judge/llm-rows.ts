/**
 * Answers into rows: each request's outcome becomes a vote, two ratings, or a failure row, oriented to
 * the pair's a/b. Pure: the run (llm-run.ts) collects the outcomes, this decides what they say.
 */
import type { ChatOutcome } from "../../workbench/core/llm.js"
import { type CastVote, type Job, pAOf, sideOf, voteOf } from "./llm-plan.js"
import { numericLabels, parseRatings, parseVerdict, verdictProbability } from "./parse.js"

export interface PairText {
  readonly pair_id: string
  readonly prompt: string
  readonly response_a: string
  readonly response_b: string
}

/** A request's outcome, or why it was not made (its reference answer failed). */
export interface JobResult {
  readonly job: Job
  readonly outcome: ChatOutcome | { readonly _tag: "NotAsked"; readonly reason: string }
}

export interface VoteRow extends CastVote {
  readonly meta: string
}

export interface RatingRow {
  readonly pair_id: string
  readonly side: "a" | "b"
  readonly aspect: string
  readonly score: number
  readonly rationale: string | null
  readonly order: string
  readonly sample: number
}

export interface FailureRow {
  readonly pair_id: string
  readonly order: string | null
  readonly sample: number
  readonly stage: "judge" | "reference" | "aspects"
  readonly aspect: string | null
  readonly reason: string
  readonly status: number | null
  readonly raw: string | null
  readonly retryable: boolean
  /** A budget stop: no request was made (not counted against maxFailureRate). */
  readonly budget: boolean
}

export interface Rows {
  readonly votes: Array<VoteRow>
  readonly ratings: Array<RatingRow>
  readonly failures: Array<FailureRow>
}

/** The failure row of a request that failed or was not made. */
export function failureOf(
  base: Pick<FailureRow, "pair_id" | "order" | "sample" | "stage" | "aspect">,
  outcome: JobResult["outcome"]
): FailureRow | undefined {
  if (outcome._tag === "Answered") return undefined
  if (outcome._tag === "NotAsked") {
    return { ...base, reason: outcome.reason, status: null, raw: null, retryable: true, budget: false }
  }
  // every request failure may go through on another try (a 401 once the key is fixed, a budget raised)
  return {
    ...base,
    reason: outcome.reason,
    status: outcome.status,
    raw: outcome.raw,
    retryable: true,
    budget: outcome.skipped
  }
}

/**
 * Rows from the outcomes, in job order. `references`: the judge's own answers by pair index (the
 * reference-guided template), kept in each vote's meta.reference. Verdicts are asked as "1"/"2" and
 * parsed strictly; an answer that does not parse is a failure row with the raw text (not retryable:
 * asking again gets the same cached answer).
 */
export function rowsOf(
  results: ReadonlyArray<JobResult>,
  pairs: ReadonlyArray<PairText>,
  references: ReadonlyMap<number, string> | null
): Rows {
  const rows: Rows = { votes: [], ratings: [], failures: [] }
  for (const { job, outcome } of results) {
    const pair_id = pairs[job.pair]!.pair_id
    const stage = job.aspect === null ? "judge" : "aspects"
    const base = { pair_id, order: job.order, sample: job.sample, stage, aspect: job.aspect } as const
    const failed = failureOf(base, outcome)
    if (failed !== undefined) {
      rows.failures.push(failed)
      continue
    }
    if (outcome._tag !== "Answered") continue
    const unparseable = (reason: string) =>
      rows.failures.push({
        ...base,
        reason: `unparseable answer: ${reason}`,
        status: null,
        raw: outcome.text,
        retryable: false,
        budget: false
      })
    if (job.aspect !== null) {
      const parsed = parseRatings(outcome.text)
      if (parsed._tag === "Unparseable") {
        unparseable(parsed.reason)
        continue
      }
      for (const [text, r] of [
        [1, parsed.first],
        [2, parsed.second]
      ] as const) {
        rows.ratings.push({
          pair_id,
          side: sideOf(text, job.order),
          aspect: job.aspect,
          score: r.score,
          rationale: r.rationale,
          order: job.order,
          sample: job.sample
        })
      }
      continue
    }
    const parsed = parseVerdict(outcome.text, numericLabels)
    if (parsed._tag === "Unparseable") {
      unparseable(parsed.reason)
      continue
    }
    const reference = references?.get(job.pair)
    rows.votes.push({
      pair_id,
      order: job.order,
      sample: job.sample,
      vote: voteOf(parsed.verdict, job.order),
      p_a: pAOf(verdictProbability(outcome.logprobs, numericLabels), job.order),
      meta: JSON.stringify({
        // the displayed output the judge named ("1": the one shown first)
        verdict: parsed.verdict === "tie" ? "tie" : parsed.verdict === "first" ? "1" : "2",
        rationale: parsed.rationale,
        ...(reference === undefined ? {} : { reference }),
        // the server that first answered (the cache keeps it); no `cached` flag: a re-run served by the
        // cache must write the same bytes, or everything below the judge would re-run (stats count hits)
        server: outcome.server
      })
    })
  }
  return rows
}
