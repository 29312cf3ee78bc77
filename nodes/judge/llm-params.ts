/**
 * Params of `judge.llm` (OpenAI-compatible servers) and `judge.gguf` (a GGUF file in process): what to
 * ask (template, orders, samples), how to fold the answers (inconsistent), what it may spend (budgets),
 * and how to reach the model. Defaults live here; `wb nodes judge.llm` prints them.
 */
import { Schema } from "effect"
import { param } from "../../workbench/core/params.js"

const positiveInt = Schema.Int.check(Schema.isGreaterThan(0))
const nonNegative = Schema.Number.check(Schema.isGreaterThanOrEqualTo(0))

/** An http(s) base URL without credentials: a key in the URL would land in params, manifests and logs. */
const BaseUrl = Schema.String.check(
  Schema.makeFilter((s: string) => {
    let url: URL
    try {
      url = new URL(s)
    } catch {
      return "an http(s) base URL such as http://127.0.0.1:8080/v1"
    }
    if (url.protocol !== "http:" && url.protocol !== "https:")
      return "an http(s) base URL such as http://127.0.0.1:8080/v1"
    if (url.username !== "" || url.password !== "") {
      return "a base URL without credentials (put the key in an environment variable and name it in apiKeyEnv)"
    }
    return undefined
  })
)

/** What every judge asks and how it folds the answers, whatever serves the model. */
export const judgingFields = {
  template: param(
    Schema.String.check(Schema.isMinLength(1)),
    "pairwise",
    "pairwise (which output is better: 1 or 2, AlpacaEval-style), reference (the judge first writes its own " +
      "answer, then compares; two requests), aspects (UltraFeedback's helpfulness, honesty, instruction_following, " +
      "truthfulness rated 1-5 with rationale, into the ratings table), or the path of a template file with slots " +
      "{prompt} {response_1} {response_2} and optionally {reference}"
  ),
  orders: param(
    Schema.Literals(["both", "ab", "random-seeded"]),
    "both",
    "which order the judge sees each pair in: both (a first, then b first: two judgments, position consistency), " +
      "ab (a first only), random-seeded (one order per pair, from a hash of seed and pair_id)"
  ),
  inconsistent: param(
    Schema.Literals(["tie", "drop", "keep-first"]),
    "tie",
    "a pair whose two orders disagree: tie (label 'tie', confidence 0 unless samples said tie), " +
      "drop (no judgments row; its votes stay in votes), keep-first (the a-first order's vote)"
  ),
  samples: param(positiveInt, 1, "answers per pair and order (self-consistency; use temperature > 0)"),
  temperature: param(Schema.Number.check(Schema.isBetween({ minimum: 0, maximum: 2 })), 0, "sampling temperature"),
  maxTokens: param(
    Schema.NullOr(positiveInt),
    null,
    "answer length limit; null: 16 for a verdict, 1024 for a reference answer, 512 for aspects and template files"
  ),
  seed: param(
    Schema.Int,
    0,
    "sent to the server (where it honours one) as seed + sample index, so n samples differ; also draws orders: random-seeded"
  ),
  topLogprobs: param(
    Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 20 })),
    5,
    "top logprobs asked for per token, for p_a (the verdict's probability); 0: none asked"
  ),
  maxRequests: param(
    Schema.NullOr(positiveInt),
    null,
    "stop after this many requests (retries count; cache hits do not); the rest become failures 'budget: …'"
  ),
  maxFailureRate: param(
    Schema.Number.check(Schema.isBetween({ minimum: 0, maximum: 1 })),
    1,
    "fail the node when more than this fraction of the requests failed (budget stops do not count); 1: never"
  ),
  rater: param(Schema.NullOr(Schema.String), null, "the votes' rater name; null: the model (or the GGUF file name)")
}

/**
 * Whether built-in templates send their verdict choices (`grammar`, `guided_choice`,
 * `structured_outputs`): the param when set; otherwise yes, unless a server of the pool is
 * api.openai.com, which refuses a request with a field it does not know (HTTP 400).
 */
export const sendsChoices = (grammar: boolean | null, baseUrls: ReadonlyArray<string>): boolean =>
  grammar ?? !baseUrls.some((u) => new URL(u).hostname === "api.openai.com")

/** `judge.llm`: a pool of OpenAI-compatible servers, paced and priced. */
export const JudgeLlmParams = Schema.Struct({
  baseUrl: Schema.Union([BaseUrl, Schema.Array(BaseUrl).check(Schema.isMinLength(1))]).annotate({
    description:
      "base URL of an OpenAI-compatible server (http://127.0.0.1:8080/v1; requests go to {baseUrl}/chat/completions), " +
      "or a list: a pool, balanced by outstanding requests"
  }),
  model: Schema.NonEmptyString.annotate({ description: "the model name the server knows" }),
  apiKeyEnv: param(
    Schema.NullOr(Schema.String.check(Schema.isPattern(/^[A-Za-z_][A-Za-z0-9_]*$/))),
    null,
    "name of the environment variable holding the API key (read when the node runs; the key is never stored); null: no key"
  ),
  ...judgingFields,
  grammar: param(
    Schema.NullOr(Schema.Boolean),
    null,
    'send built-in templates\' verdict choices ("1" | "2"): a GBNF `grammar` (llama.cpp, wb llm serve), `guided_choice` and ' +
      "`structured_outputs` (vLLM); servers ignore the fields they do not know. null: yes, except to api.openai.com, " +
      "which refuses unknown fields; false for another server that refuses them (the answer is then parsed as text)"
  ),
  concurrency: param(positiveInt, 8, "requests in flight per server"),
  requestsPerMinute: param(Schema.NullOr(positiveInt), null, "shared by the pool; null: no limit"),
  tokensPerMinute: param(Schema.NullOr(positiveInt), null, "shared by the pool; null: no limit"),
  timeoutSeconds: param(Schema.Number.check(Schema.isGreaterThan(0)), 60, "per request attempt"),
  maxRetries: param(
    Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 20 })),
    4,
    "retries of a request on 429, 5xx, timeouts and connection resets (exponential backoff with jitter, Retry-After honoured)"
  ),
  pricePromptPer1M: param(nonNegative, 0, "price of 1M prompt tokens, for the cost stat and maxCost"),
  priceCompletionPer1M: param(nonNegative, 0, "price of 1M completion tokens"),
  maxCost: param(
    Schema.NullOr(nonNegative),
    null,
    "stop once the requests made cost this much (prices above); the rest become failures 'budget: …'"
  )
})
export type JudgeLlmParams = typeof JudgeLlmParams.Type

/** `judge.gguf`: a GGUF model in process (node-llama-cpp, an optional peer dependency). */
export const JudgeGgufParams = Schema.Struct({
  model: Schema.NonEmptyString.annotate({ description: "path of the .gguf file (relative to the project root)" }),
  ...judgingFields,
  threads: param(Schema.NullOr(positiveInt), null, "CPU threads; null: the machine's core count"),
  contextSize: param(positiveInt, 4096, "context window in tokens (prompt and answer)"),
  concurrency: param(positiveInt, 1, "sequences evaluated at once")
})
export type JudgeGgufParams = typeof JudgeGgufParams.Type

/** The fields both kinds share, as `run` sees them. */
export type JudgingParams = {
  readonly [K in keyof typeof judgingFields]: (typeof judgingFields)[K]["Type"]
}
