/**
 * The `Llm` service: how a node talks to language models. Core declares the contract; io implements it
 * (`workbench/io/llm/`: an OpenAI-compatible HTTP client over a pool of servers, and in-process GGUF
 * models through node-llama-cpp). Nodes (the judge family, embeddings) list it in `requires`; every run
 * the CLI or `runPipeline` starts provides the live implementation, and tests may swap in their own.
 *
 * A request's outcome is data, never an error channel: a server that keeps failing, an unparseable body
 * or a budget stop is a `Failed` outcome the node writes to its failures table. Failures are never
 * cached; answers are, durably, as they arrive (at least every second), so a killed run resumes with no
 * repeated request. API keys are held as `Redacted` and appear in no cache key, log, event or message.
 */
import { Context, type Effect, type Redacted, type Scope } from "effect"
import type { DataError } from "./errors.js"

export interface ChatMessage {
  readonly role: "system" | "user" | "assistant"
  readonly content: string
}

/** How a pool of OpenAI-compatible servers is reached and paced. */
export interface HttpModelConfig {
  readonly provider: "openai"
  /** One or more base URLs (`http://127.0.0.1:8080/v1`); requests go to `${baseUrl}/chat/completions`. */
  readonly baseUrls: ReadonlyArray<string>
  readonly model: string
  /** The key, read from the environment variable the user named; never written anywhere. */
  readonly apiKey?: Redacted.Redacted<string> | undefined
  /** Requests in flight per server. */
  readonly concurrency: number
  /** Shared across the pool; null: no limit. */
  readonly requestsPerMinute: number | null
  readonly tokensPerMinute: number | null
  readonly timeoutMs: number
  /** Retries of one request after the first try (429, 5xx, timeouts, connection resets). */
  readonly maxRetries: number
}

/** A GGUF model run in process (node-llama-cpp, an optional peer dependency). */
export interface GgufModelConfig {
  readonly provider: "gguf"
  /** Absolute path of the .gguf file. */
  readonly modelPath: string
  /** CPU threads; the node defaults it to the machine's core count (node-llama-cpp's 4 is ~500x slower on 2 cores). */
  readonly threads: number
  readonly contextSize: number
  /** Sequences evaluated at once. */
  readonly concurrency: number
  /** "auto": CUDA/Vulkan/Metal when present; false or absent: the CPU (the same numbers on every machine). */
  readonly gpu?: "auto" | false | undefined
}

export type ModelConfig = HttpModelConfig | GgufModelConfig

export interface ChatRequest {
  readonly messages: ReadonlyArray<ChatMessage>
  readonly temperature: number
  readonly maxTokens: number
  /** Sample index for n samples of one prompt (self-consistency); part of the cache key. */
  readonly sample: number
  readonly seed?: number | undefined
  /** Ask for this many top logprobs of each generated token (0 or undefined: none). */
  readonly topLogprobs?: number | undefined
  /** Restrict the answer to these exact strings (a grammar where the server supports one, e.g. ["1","2"]). */
  readonly choices?: ReadonlyArray<string> | undefined
}

export interface TokenLogprob {
  readonly token: string
  readonly logprob: number
  /** The most likely tokens at this position, when asked for. */
  readonly top: ReadonlyArray<{ readonly token: string; readonly logprob: number }>
}

export interface ChatAnswer {
  readonly _tag: "Answered"
  readonly text: string
  readonly promptTokens: number
  readonly completionTokens: number
  /** Per generated token, when the server returned logprobs. */
  readonly logprobs: ReadonlyArray<TokenLogprob> | null
  /** Served from the response cache (no request was made). */
  readonly cached: boolean
  /** Which server answered, without credentials (or the GGUF file's name). */
  readonly server: string
}

export interface ChatFailure {
  readonly _tag: "Failed"
  /** In user words: "HTTP 500 after 3 retries", "timed out after 30 s", "connection reset", "budget: maxRequests 100 reached". */
  readonly reason: string
  /** The last HTTP status, when there was one. */
  readonly status: number | null
  /** The last raw body (trimmed to a few KB), or null. */
  readonly raw: string | null
  /** A budget stop: no request was made. */
  readonly skipped: boolean
}

export type ChatOutcome = ChatAnswer | ChatFailure

/** Vectors for texts, one per text in order (featurize.embed). */
export interface Embeddings {
  readonly _tag: "Embedded"
  /** One vector per input text, in input order. The providers here return unit-length vectors. */
  readonly vectors: ReadonlyArray<Float32Array>
  /** How many texts were served from the embedding cache (no request was made for them). */
  readonly cached: number
  /** Prompt tokens the request(s) used (0 when all were cached or the server reports none). */
  readonly tokens: number
  /** Which server answered, without credentials (or the GGUF file's name); "cache" when all were cached. */
  readonly server: string
}

/** A batch that got no vectors: the same shape as a failed chat request (nothing is cached). */
export type EmbedOutcome = Embeddings | ChatFailure

/** Counters of one client since it opened. */
export interface LlmUsage {
  /** Requests sent over the network or to the model (retries included). */
  readonly requests: number
  readonly cacheHits: number
  readonly promptTokens: number
  readonly completionTokens: number
  readonly failures: number
  readonly retries: number
}

export interface LlmClient {
  /** Never fails: every problem is a `Failed` outcome. Concurrency, rate limits and retries are inside. */
  readonly chat: (request: ChatRequest) => Effect.Effect<ChatOutcome>
  /** The cache key of a request (hex), to relate failures and answers to requests. */
  readonly cacheKey: (request: ChatRequest) => string
  readonly usage: () => LlmUsage
  /** Stops making requests (budget reached): later `chat` calls not answered by the cache are skipped. */
  readonly stop: (reason: string) => void
  /**
   * Embed texts in one request (HTTP: `POST {baseUrl}/embeddings`, OpenAI's format, through the same
   * pool, rate limits and retries as `chat`; GGUF: the model's embedding context). Each text's vector
   * is cached durably by a hash of (provider, model, text): a text is embedded once across runs, and
   * a batch whose texts are all cached makes no request. Never fails: a `Failed` outcome is for the
   * whole batch (embed its texts one by one to find which one a server refuses).
   */
  readonly embed: (texts: ReadonlyArray<string>) => Effect.Effect<EmbedOutcome>
}

export interface LlmShape {
  /**
   * A client for one model. The cache lives under the workspace and is shared by every client of the
   * same model identity (model name, provider; not the server URLs, so growing a pool keeps it). Closing
   * the scope flushes the cache. Fails only on a config a request could never satisfy (node-llama-cpp
   * not installed, a missing .gguf file, a base URL that is not http(s)) with a DataError naming `where`.
   */
  readonly open: (config: ModelConfig, where: string) => Effect.Effect<LlmClient, DataError, Scope.Scope>
}

export class Llm extends Context.Service<Llm, LlmShape>()("wb/Llm") {}
