import { availableParallelism } from "node:os"
import { basename, isAbsolute, resolve } from "node:path"
import { Effect, Redacted } from "effect"
import { outputLike } from "../../workbench/core/contract.js"
import { DataError } from "../../workbench/core/errors.js"
import { Llm } from "../../workbench/core/llm.js"
import { defineNode } from "../../workbench/core/node.js"
import { Workspace } from "../../workbench/core/services.js"
import { pairsInput, ratersOutput } from "../lib/pair-tables.js"
import { JudgeGgufParams, JudgeLlmParams, type JudgingParams, sendsChoices } from "./llm-params.js"
import { runJudge } from "./llm-run.js"
import { modelFingerprint, templateFingerprint } from "./sources.js"
import { judgeOutputs, judgeViews } from "./tables.js"

const outputs = {
  pairs: outputLike("main", "pairs", { doc: "the input pairs, unchanged" }),
  ...judgeOutputs,
  raters: ratersOutput()
}

/** What the raters table records of an AI judge: the model and how it was asked. */
const attributesOf = (provider: string, model: string, p: JudgingParams) => ({
  provider,
  model,
  template: p.template,
  orders: p.orders,
  samples: p.samples,
  temperature: p.temperature,
  maxTokens: p.maxTokens,
  seed: p.seed
})

/** The API key from the environment variable the params name, held as Redacted; never logged or stored. */
function apiKeyOf(name: string | null, where: string): Effect.Effect<Redacted.Redacted<string> | undefined, DataError> {
  if (name === null) return Effect.succeed(undefined)
  const value = process.env[name]
  if (value === undefined || value === "") {
    return Effect.fail(
      new DataError({
        where: `${where}, param apiKeyEnv`,
        found: `the environment variable ${name} is not set (or empty)`,
        expected: `the server's API key in ${name}`,
        fix: `export ${name}=… in the shell that runs wb, or set apiKeyEnv: null for a server that needs no key`
      })
    )
  }
  return Effect.succeed(Redacted.make(value))
}

/**
 * Judge pairs with a model behind OpenAI-compatible chat-completions servers (vLLM, llama.cpp,
 * Ollama, `wb llm serve`, OpenAI): every pair in both orders by default, parsed strictly, with the
 * answers cached durably as they arrive (a killed run resumes without repeating a request).
 *
 * Templates: `pairwise` asks "which output is better: 1 or 2" (AlpacaEval-style; the answer is
 * restricted to "1"/"2" where the server takes a grammar or vLLM's guided choice, and p_a comes from
 * the verdict token's top logprobs when the server returns them); `reference` has the judge write its own answer to the
 * prompt first, then compare with it in view (two requests per pair; the answer is kept in
 * meta.reference); `aspects` rates both outputs 1-5 with a rationale on UltraFeedback's four aspects
 * (4 requests per pair and order, into `ratings`; no votes); a file path is a template of your own
 * with slots {prompt} {response_1} {response_2} and optionally {reference}, whose answer must be a
 * verdict in a form parse.ts accepts ("1", JSON {"verdict": "2", "rationale": "…"}, or reasoning
 * ending in "Verdict: 1").
 *
 * Gotchas: an answer that is no verdict is a `failures` row with the raw text, never a vote.
 * Budgets stop the node cleanly: what was paid for is kept, the rest are failures 'budget: …', and
 * `wb run --retry-failed` continues (with the same budget again). Requests in flight when a budget is
 * reached still finish (up to `concurrency` per server).
 *
 * **Input columns**: pairs: pair_id, prompt, response_a, response_b (a pair_id repeated is judged once).
 *
 * **Output columns**
 * - `pairs`: the input, unchanged (the judge's label is in `judgments`; setting `label` and
 *   `label_source` is judge.aggregate's and mix's call).
 * - `votes`: pair_id, rater, rater_kind 'ai', vote ('a' | 'b', oriented to the pair), p_a (P(a wins),
 *   NULL without logprobs), order ('ab': a shown first | 'ba'), sample (0-based), meta {verdict: the
 *   displayed output named, "1" | "2"; rationale; reference (reference template); server (the one
 *   that first answered: a re-run from the cache writes the same bytes)}.
 * - `judgments`: pair_id, rater, rater_kind, vote (folded over orders and samples), p_a (mean),
 *   position_consistent (NULL unless both orders voted), n (votes folded), confidence (share of them
 *   equal to vote). Pairs with no vote have no row; `inconsistent: drop` leaves inconsistent pairs out.
 * - `ratings` (aspects): pair_id, side, rater, rater_kind, aspect (helpfulness, honesty,
 *   instruction_following, truthfulness), score, scale_min 1, scale_max 5, rationale, order, sample.
 * - `raters`: rater, rater_kind 'ai', attributes {provider, model, template, orders, samples,
 *   temperature, maxTokens, seed}.
 * - `failures`: pair_id, order, sample, stage (judge | reference | aspects), aspect, reason, status,
 *   raw, retryable. Every planned request is a vote (or two ratings) or a failures row.
 *
 * **Params**: baseUrl (string or list), model, apiKeyEnv (null), template ("pairwise"), orders ("both"),
 * inconsistent ("tie"), samples (1), temperature (0), maxTokens (null: by request kind), seed (0),
 * topLogprobs (5), maxRequests (null), maxFailureRate (1), rater (null: the model), grammar (null: send
 * the verdict choices as grammar, guided_choice and structured_outputs, except to api.openai.com),
 * concurrency (8 per server), requestsPerMinute (null), tokensPerMinute (null), timeoutSeconds (60), maxRetries (4),
 * pricePromptPer1M (0), priceCompletionPer1M (0), maxCost (null).
 *
 * **Stats**: pairs, requests_planned, votes, ratings, judgments, position_consistent,
 * position_inconsistent, failures, unparseable, budget_skipped, retryable, requests (made, retries
 * included), retries, cache_hits, prompt_tokens and completion_tokens (of requests made, not cached),
 * cost (those tokens at the prices).
 *
 * **Example**
 * ```ts
 * const judged = p.node("judge", judge.llm({
 *   baseUrl: ["http://10.0.0.1:8000/v1", "http://10.0.0.2:8000/v1"], model: "Qwen/Qwen2.5-7B-Instruct",
 *   maxCost: 5, pricePromptPer1M: 0.2, priceCompletionPer1M: 0.6
 * }), { pairs: clean })
 * ```
 */
export const llm = defineNode({
  kind: "judge.llm",
  // 2: votes' meta has no `cached` flag (a re-run from the cache writes the same bytes); sample i is seeded seed + i
  version: 2,
  summary: "Judge pairs with an LLM on OpenAI-compatible servers: both orders, strict parsing, cached, budgeted",
  params: JudgeLlmParams,
  inputs: { pairs: pairsInput("the pairs to judge") },
  outputs,
  views: judgeViews,
  requires: [Llm],
  fingerprint: (params, root) => templateFingerprint(params.template, root),
  run: ({ node, kind, params, inputs }) =>
    Effect.gen(function* () {
      const where = `node "${node}" (${kind})`
      const baseUrls = typeof params.baseUrl === "string" ? [params.baseUrl] : [...params.baseUrl]
      const apiKey = yield* apiKeyOf(params.apiKeyEnv, where)
      return yield* runJudge({
        node,
        kind,
        params,
        pairs: inputs.pairs,
        config: {
          provider: "openai",
          baseUrls,
          model: params.model,
          apiKey,
          concurrency: params.concurrency,
          requestsPerMinute: params.requestsPerMinute,
          tokensPerMinute: params.tokensPerMinute,
          timeoutMs: params.timeoutSeconds * 1000,
          maxRetries: params.maxRetries
        },
        rater: params.rater ?? params.model,
        constrain: sendsChoices(params.grammar, baseUrls),
        fanOut: params.concurrency * baseUrls.length,
        prices: { prompt: params.pricePromptPer1M, completion: params.priceCompletionPer1M },
        maxCost: params.maxCost,
        attributes: attributesOf("openai", params.model, params)
      })
    })
})

const modelPathOf = (model: string, root: string) => (isAbsolute(model) ? model : resolve(root, model))

/**
 * Judge pairs with a GGUF model in process (node-llama-cpp, an optional peer dependency: `npm i -E
 * node-llama-cpp@3.21.1`): the same templates, orders, parsing, cache and outputs as judge.llm, with
 * verdicts forced to "1"/"2" by a grammar and p_a from the model's own probabilities.
 *
 * Gotchas: `threads` defaults to the core count (node-llama-cpp's own default of 4 ran ~500x slower
 * on a 2-core machine). The cache key holds the model file's size and a hash of its first and last
 * MiB, not its path: a moved file keeps the cache, a regenerated one does not. No prices or budget
 * in money; maxRequests applies.
 *
 * **Input columns**, **Output columns**, **Stats**: as judge.llm (raters' provider 'gguf'; cost 0).
 *
 * **Params**: model (the .gguf path), template, orders, inconsistent, samples, temperature,
 * maxTokens, seed, topLogprobs, maxRequests, maxFailureRate, rater (null: the file name without
 * .gguf), threads (null: core count), contextSize (4096), concurrency (1).
 *
 * **Example**
 * ```ts
 * const judged = p.node("judge", judge.gguf({ model: "models/qwen2.5-0.5b-instruct-q4_k_m.gguf" }), { pairs: clean })
 * ```
 */
export const gguf = defineNode({
  kind: "judge.gguf",
  // 2: votes' meta has no `cached` flag (a re-run from the cache writes the same bytes); sample i is seeded seed + i
  version: 2,
  summary: "Judge pairs with a GGUF model in process (node-llama-cpp): both orders, strict parsing, cached",
  params: JudgeGgufParams,
  inputs: { pairs: pairsInput("the pairs to judge") },
  outputs,
  views: judgeViews,
  requires: [Llm],
  fingerprint: (params, root) =>
    `${modelFingerprint(modelPathOf(params.model, root))} ${templateFingerprint(params.template, root)}`,
  run: ({ node, kind, params, inputs }) =>
    Effect.gen(function* () {
      const modelPath = modelPathOf(params.model, (yield* Workspace).root)
      return yield* runJudge({
        node,
        kind,
        params,
        pairs: inputs.pairs,
        config: {
          provider: "gguf",
          modelPath,
          threads: params.threads ?? availableParallelism(),
          contextSize: params.contextSize,
          concurrency: params.concurrency
        },
        rater: params.rater ?? basename(modelPath).replace(/\.gguf$/i, ""),
        constrain: true,
        fanOut: params.concurrency,
        prices: { prompt: 0, completion: 0 },
        maxCost: null,
        attributes: attributesOf("gguf", basename(modelPath), params)
      })
    })
})
