/**
 * Params of `featurize.embed`, and the model config they make: an OpenAI-compatible pool
 * (`provider: "openai"`, baseUrl + model name) or a GGUF embedding model in process (`provider:
 * "gguf"`, model = the file's path).
 */
import { Effect, Redacted, Schema } from "effect"
import { isAbsolute, resolve } from "node:path"
import { DataError } from "../../workbench/core/errors.js"
import type { ModelConfig } from "../../workbench/core/llm.js"
import { param } from "../../workbench/core/params.js"

const positiveInt = Schema.Int.check(Schema.isGreaterThan(0))

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
    return url.username !== "" || url.password !== ""
      ? "a base URL without credentials (put the key in an environment variable and name it in apiKeyEnv)"
      : undefined
  })
)

export const EmbedParams = Schema.Struct({
  provider: param(
    Schema.Literals(["openai", "gguf"]),
    "openai",
    "openai: an OpenAI-compatible /embeddings endpoint (OpenAI, vLLM, Ollama, llama.cpp server, wb llm serve); gguf: a .gguf file in process (node-llama-cpp)"
  ),
  model: Schema.NonEmptyString.annotate({
    description:
      "provider openai: the model name the server knows; gguf: the .gguf file's path (relative to the project root)"
  }),
  baseUrl: param(
    Schema.NullOr(Schema.Union([BaseUrl, Schema.Array(BaseUrl).check(Schema.isMinLength(1))])),
    null,
    "provider openai: base URL (requests go to {baseUrl}/embeddings), or a list: a pool"
  ),
  apiKeyEnv: param(
    Schema.NullOr(Schema.String.check(Schema.isPattern(/^[A-Za-z_][A-Za-z0-9_]*$/))),
    null,
    "environment variable holding the API key (read when the node runs, never stored); null: no key"
  ),
  batchSize: param(positiveInt, 64, "texts per request"),
  concurrency: param(positiveInt, 4, "requests in flight per server (gguf: sequences; embeddings run one at a time)"),
  requestsPerMinute: param(Schema.NullOr(positiveInt), null, "shared by the pool; null: no limit"),
  tokensPerMinute: param(Schema.NullOr(positiveInt), null, "shared by the pool; null: no limit"),
  timeoutSeconds: param(Schema.Number.check(Schema.isGreaterThan(0)), 120, "per request attempt"),
  maxRetries: param(
    Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 20 })),
    4,
    "retries on 429, 5xx, timeouts"
  ),
  dimensions: param(
    Schema.NullOr(positiveInt),
    null,
    "expected vector length (checked, not sent); null: whatever the first vector has, the same for all"
  ),
  maxFailureRate: param(
    Schema.Number.check(Schema.isBetween({ minimum: 0, maximum: 1 })),
    0.1,
    "fail the node when more than this fraction of the distinct texts got no vector; 1: never"
  ),
  threads: param(Schema.NullOr(positiveInt), null, "gguf: CPU threads; null: the machine's core count"),
  contextSize: param(positiveInt, 2048, "gguf: tokens per text at most (longer texts fail, named)")
})
export type EmbedParams = typeof EmbedParams.Type

/** The API key from the environment variable the params name, held as Redacted. */
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

/** The model config the params describe; `cores` is the gguf default thread count. */
export const modelConfigOf = (p: EmbedParams, where: string, root: string, cores: number) =>
  Effect.gen(function* () {
    if (p.provider === "gguf") {
      return {
        provider: "gguf",
        modelPath: isAbsolute(p.model) ? p.model : resolve(root, p.model),
        threads: p.threads ?? cores,
        contextSize: p.contextSize,
        concurrency: 1,
        gpu: false
      } satisfies ModelConfig
    }
    if (p.baseUrl === null) {
      return yield* new DataError({
        where: `${where}, param baseUrl`,
        found: "no baseUrl, with provider openai",
        expected: "the base URL of an OpenAI-compatible server, e.g. http://127.0.0.1:8080/v1",
        fix: 'set baseUrl, or provider: "gguf" with model: "<file.gguf>" to embed in process'
      })
    }
    return {
      provider: "openai",
      baseUrls: typeof p.baseUrl === "string" ? [p.baseUrl] : [...p.baseUrl],
      model: p.model,
      apiKey: yield* apiKeyOf(p.apiKeyEnv, where),
      concurrency: p.concurrency,
      requestsPerMinute: p.requestsPerMinute,
      tokensPerMinute: p.tokensPerMinute,
      timeoutMs: p.timeoutSeconds * 1000,
      maxRetries: p.maxRetries
    } satisfies ModelConfig
  })
