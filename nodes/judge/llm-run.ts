/**
 * The run of an LLM judge, whatever serves the model: read the pairs, ask the model (reference
 * answers first where the template needs them), keep within the budgets, and write votes, judgments,
 * ratings, raters and failures. The model is reached only through the `Llm` service.
 */
import { Effect, Schema } from "effect"
import type { ChatOutcome, ChatRequest, LlmClient, ModelConfig } from "../../workbench/core/llm.js"
import { Llm } from "../../workbench/core/llm.js"
import type { InputTable, NodeOutput } from "../../workbench/core/node.js"
import { Progress, Sql } from "../../workbench/core/services.js"
import { Workspace } from "../../workbench/core/services.js"
import type { JudgingParams } from "./llm-params.js"
import { costOf, displayed, foldJudgments, planJobs, sampleSeed } from "./llm-plan.js"
import { type FailureRow, failureOf, type JobResult, type PairText, rowsOf } from "./llm-rows.js"
import { writeTables } from "./llm-tables.js"
import { resolveTemplate } from "./sources.js"
import { ASPECT_NAMES, aspectPrompt, DEFAULT_MAX_TOKENS, messagesOf, referenceAnswerPrompt } from "./templates.js"

/** More than `maxFailureRate` of a judge's requests failed. */
export class JudgeFailuresError extends Schema.TaggedError<JudgeFailuresError>()("JudgeFailuresError", {
  node: Schema.String,
  failed: Schema.Number,
  planned: Schema.Number,
  maxFailureRate: Schema.Number,
  examples: Schema.Array(Schema.String)
}) {
  override get message() {
    return (
      `node "${this.node}": ${this.failed} of ${this.planned} judge requests gave no vote\n` +
      `  expected: at most ${this.maxFailureRate * 100}% of them (maxFailureRate)\n` +
      this.examples.map((e) => `  e.g. ${e}\n`).join("") +
      "  fix: check the server and the template (answers must end in a verdict); the answers that came are cached, " +
      "so a re-run asks only the rest; or raise maxFailureRate to keep the failures table"
    )
  }
}

export interface JudgeSetup {
  readonly node: string
  readonly kind: string
  readonly params: JudgingParams
  readonly pairs: InputTable
  /** The model config; built when the node runs (the API key is read then). */
  readonly config: ModelConfig
  readonly rater: string
  /** Whether built-in templates restrict the answer to "1" | "2" (a grammar where the server takes one). */
  readonly constrain: boolean
  /** Requests kept in flight: enough to fill every server's concurrency. */
  readonly fanOut: number
  readonly prices: { readonly prompt: number; readonly completion: number }
  readonly maxCost: number | null
  /** What the raters table says of this judge (model, sampling settings). */
  readonly attributes: Readonly<Record<string, unknown>>
}

/** One row per distinct pair_id, in input order (a repeated pair is judged once; its requests would be identical). */
const pairsSql = (pairs: InputTable) =>
  `SELECT pair_id, prompt, response_a, response_b FROM ${pairs.numbered}
   WHERE pair_id IS NOT NULL QUALIFY row_number() OVER (PARTITION BY pair_id ORDER BY _wb_row) = 1 ORDER BY _wb_row`

/** Spending as it happens: tokens of answers not from the cache, and the budget stop. */
function makeMeter(s: JudgeSetup, client: LlmClient, total: number, tick: (done: number) => Effect.Effect<void>) {
  const paid = { prompt: 0, completion: 0 }
  let done = 0
  let last = 0
  const check = () => {
    if (s.params.maxRequests !== null && client.usage().requests >= s.params.maxRequests) {
      client.stop(`budget: maxRequests ${s.params.maxRequests} reached`)
    } else if (s.maxCost !== null && costOf(paid, s.prices) >= s.maxCost) {
      client.stop(`budget: maxCost ${s.maxCost} reached (spent ${costOf(paid, s.prices).toFixed(6)})`)
    }
  }
  const ask = (request: ChatRequest): Effect.Effect<ChatOutcome> =>
    client.chat(request).pipe(
      Effect.tap((o) =>
        Effect.suspend(() => {
          done++
          if (o._tag === "Answered" && !o.cached) {
            paid.prompt += o.promptTokens
            paid.completion += o.completionTokens
          }
          check()
          const now = Date.now()
          if (now - last < 250 && done < total) return Effect.void
          last = now
          return tick(done)
        })
      )
    )
  return { ask, paid }
}

export const runJudge = (s: JudgeSetup) =>
  // the scope holds the model client: closing it flushes the response cache
  Effect.scoped(
    Effect.gen(function* () {
      const sql = yield* Sql
      const progress = yield* Progress
      const root = (yield* Workspace).root
      const where = `node "${s.node}" (${s.kind})`
      const p = s.params
      const template = yield* resolveTemplate(p.template, root, where)
      const read = yield* sql.rows<PairText>(pairsSql(s.pairs))
      // a pair without a text cannot be shown to a judge (loaders never emit one; a SQL node may)
      const shown = (r: PairText) => r.prompt !== null && r.response_a !== null && r.response_b !== null
      const pairs = read.filter(shown)
      const textless: Array<FailureRow> = read
        .filter((r) => !shown(r))
        .map((r) => ({
          pair_id: r.pair_id,
          order: null,
          sample: 0,
          stage: "judge",
          aspect: null,
          reason: `not asked: ${["prompt", "response_a", "response_b"].filter((c) => r[c as keyof PairText] === null).join(", ")} NULL`,
          status: null,
          raw: null,
          retryable: false,
          budget: false
        }))
      const aspects = template._tag === "Aspects" ? ASPECT_NAMES : null
      const jobs = planJobs(
        pairs.map((x) => x.pair_id),
        p,
        aspects
      )
      const needsReference = template._tag === "Verdict" && template.reference
      if (p.samples > 1 && p.temperature === 0) {
        yield* progress.note(
          `samples ${p.samples} at temperature 0: a deterministic server answers each sample the same`
        )
      }
      const client = yield* (yield* Llm).open(s.config, where)
      const total = jobs.length + (needsReference ? pairs.length : 0)
      const meter = makeMeter(s, client, total, (done) => progress.rows(done, total, "requests"))
      const maxTokens = (kind: keyof typeof DEFAULT_MAX_TOKENS) => p.maxTokens ?? DEFAULT_MAX_TOKENS[kind]
      // each sample its own seed, so a seed-honouring server gives n different answers
      const sampling = (sample: number) => ({ temperature: p.temperature, seed: sampleSeed(p.seed, sample), sample })

      // the judge's own answers first (reference-guided): one per pair, shared by its orders and samples
      const references = new Map<number, string>()
      const referenceFailures: Array<JobResult> = []
      if (needsReference) {
        const outcomes = yield* Effect.forEach(
          pairs,
          (pair) =>
            meter.ask({
              ...sampling(0),
              messages: messagesOf(referenceAnswerPrompt, { prompt: pair.prompt }),
              maxTokens: maxTokens("reference")
            }),
          { concurrency: s.fanOut }
        )
        outcomes.forEach((outcome, i) => {
          if (outcome._tag === "Answered" && outcome.text.trim() !== "") references.set(i, outcome.text)
          else referenceFailures.push({ job: { pair: i, order: "ab", sample: 0, aspect: null }, outcome })
        })
      }

      const results = yield* Effect.forEach(
        jobs,
        (job): Effect.Effect<JobResult> => {
          const pair = pairs[job.pair]!
          const [response_1, response_2] = displayed(job.order, pair.response_a, pair.response_b)
          const slots = { prompt: pair.prompt, response_1, response_2 }
          if (job.aspect !== null) {
            const request = {
              ...sampling(job.sample),
              messages: messagesOf(aspectPrompt(job.aspect), slots),
              maxTokens: maxTokens("aspects")
            }
            return Effect.map(meter.ask(request), (outcome) => ({ job, outcome }))
          }
          if (template._tag !== "Verdict") return Effect.die("unreachable: a verdict job without a verdict template")
          const reference = references.get(job.pair)
          if (template.reference && reference === undefined) {
            return Effect.succeed({
              job,
              outcome: { _tag: "NotAsked", reason: "not asked: the reference answer failed" }
            })
          }
          const request: ChatRequest = {
            ...sampling(job.sample),
            messages: messagesOf(template.prompt, { ...slots, ...(reference === undefined ? {} : { reference }) }),
            maxTokens: maxTokens(template.builtIn ? "verdict" : "template"),
            ...(p.topLogprobs > 0 ? { topLogprobs: p.topLogprobs } : {}),
            ...(template.builtIn && s.constrain ? { choices: ["1", "2"] } : {})
          }
          return Effect.map(meter.ask(request), (outcome) => ({ job, outcome }))
        },
        { concurrency: s.fanOut }
      )
      yield* progress.rows(total, total, "requests")

      const rows = rowsOf(results, pairs, needsReference ? references : null)
      const failures = [
        ...textless,
        ...referenceFailures.map(({ job, outcome }) => {
          const base = {
            pair_id: pairs[job.pair]!.pair_id,
            order: null,
            sample: 0,
            stage: "reference",
            aspect: null
          } as const
          // an empty answer came and is cached: asking again gets it again
          return (
            failureOf(base, outcome) ?? {
              ...base,
              reason: "empty reference answer",
              status: null,
              raw: "",
              retryable: false,
              budget: false
            }
          )
        }),
        ...rows.failures
      ]
      const judgments = foldJudgments(rows.votes, p.inconsistent)
      const failed = failures.filter((f) => !f.budget).length
      const planned = total + textless.length
      if (failed > p.maxFailureRate * planned) {
        return yield* new JudgeFailuresError({
          node: s.node,
          failed,
          planned,
          maxFailureRate: p.maxFailureRate,
          examples: failures
            .filter((f) => !f.budget)
            .slice(0, 3)
            .map((f) => `pair ${f.pair_id} (${f.stage}${f.order === null ? "" : `, ${f.order}`}): ${f.reason}`)
        })
      }
      const tables = yield* writeTables(sql, s, { ...rows, failures }, judgments)
      const usage = client.usage()
      const consistent = judgments.filter((j) => j.position_consistent !== null)
      return {
        tables,
        stats: {
          pairs: pairs.length,
          requests_planned: total,
          votes: rows.votes.length,
          ratings: rows.ratings.length,
          judgments: judgments.length,
          position_consistent: consistent.filter((j) => j.position_consistent === true).length,
          position_inconsistent: consistent.filter((j) => j.position_consistent === false).length,
          failures: failures.length,
          unparseable: failures.filter((f) => !f.retryable).length,
          budget_skipped: failures.filter((f) => f.budget).length,
          // the engine's --retry-failed runs the node again while this is above 0
          retryable: failures.filter((f) => f.retryable).length,
          requests: usage.requests,
          retries: usage.retries,
          cache_hits: usage.cacheHits,
          prompt_tokens: meter.paid.prompt,
          completion_tokens: meter.paid.completion,
          cost: Math.round(costOf(meter.paid, s.prices) * 1e6) / 1e6
        }
      } satisfies NodeOutput<"pairs" | "votes" | "judgments" | "ratings" | "raters" | "failures">
    })
  )
