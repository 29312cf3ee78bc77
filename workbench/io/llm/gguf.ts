/**
 * The in-process GGUF provider of the `Llm` service (judge.gguf): node-llama-cpp runs the model, a pool
 * of `concurrency` sequences answers requests, and the same response cache, budget stop and usage
 * counters as the HTTP client sit in front (cached-client.ts), so both providers behave alike.
 *
 * live.ts imports this module by name only when a GGUF model is opened: node-llama-cpp (an optional
 * peer dependency) is in turn imported only then (gguf-load.ts), and a user without it gets a DataError
 * saying how to install it.
 *
 * - `choices`: a GBNF grammar (the one the HTTP client sends, chat-wire.ts) allows exactly those strings, so a verdict is always one of them; the
 *   first token's top logprobs (at least one per choice) are returned even when `topLogprobs` is 0,
 *   renormalised over what the grammar allows: for ["1", "2"], p("1") + p("2") = 1 (p_a directly).
 * - temperature 0 is greedy: the same request gives the same answer. At temperature > 0 the
 *   llama.cpp seed comes from the request's cache key (which holds the seed param and the sample index),
 *   so n samples differ from each other and a re-run draws the same ones.
 */
import { Effect, type Scope } from "effect"
import { basename, dirname } from "node:path"
import type { DataError } from "../../core/errors.js"
import type { ChatFailure, ChatOutcome, ChatRequest, EmbedOutcome, GgufModelConfig, LlmClient } from "../../core/llm.js"
import { makeCachedClient, type SendContext } from "./cached-client.js"
import { choicesGrammar } from "./chat-wire.js"
import { type EmbeddingCache, openEmbeddingCache } from "./embedding-cache.js"
import { GgufRequestError, openGgufEngine } from "./gguf-engine.js"
import { requestKey, type ModelIdentity, type ResponseCache } from "./response-cache.js"

const failed = (reason: string): ChatFailure => ({ _tag: "Failed", reason, status: null, raw: null, skipped: false })

export const openGgufClient = (
  config: GgufModelConfig,
  where: string,
  cache: ResponseCache,
  /** Default: the one beside `cache` (both live in `<workspace>/llm-cache/`). */
  embeddings?: EmbeddingCache
): Effect.Effect<LlmClient, DataError, Scope.Scope> =>
  Effect.gen(function* () {
    const engine = yield* openGgufEngine(
      {
        modelPath: config.modelPath,
        threads: config.threads,
        contextSize: config.contextSize,
        sequences: config.concurrency,
        gpu: config.gpu
      },
      where
    )
    // the cache file is already one model file's (live.ts names it after the file's identity), so the
    // file's name identifies the model for the request keys too
    const identity: ModelIdentity = { provider: "gguf", model: basename(cache.file, ".jsonl") }

    const send = (request: ChatRequest, context: SendContext): Effect.Effect<ChatOutcome> => {
      if (context.stopped() !== null) return Effect.succeed({ ...failed(context.stopped()!), skipped: true })
      const choices = request.choices
      if (choices !== undefined && (choices.length === 0 || choices.some((c) => c.length === 0))) {
        return Effect.succeed(failed(`choices must be non-empty strings; got ${JSON.stringify(choices)}`))
      }
      const asked = request.topLogprobs ?? 0
      const topLogprobs =
        choices !== undefined && choices.length > 0 ? Math.max(asked, choices.length) : asked > 0 ? asked : undefined
      // the key holds the user's seed and the sample index: one stream per sample, the same on a re-run
      const seed = Number.parseInt(requestKey(identity, request).slice(0, 8), 16)
      context.tally.requests++
      return Effect.tryPromise({
        try: (signal) =>
          engine.complete({
            messages: request.messages,
            temperature: request.temperature,
            maxTokens: request.maxTokens,
            seed,
            topLogprobs,
            grammar: choices === undefined ? undefined : choicesGrammar(choices),
            signal
          }),
        catch: (e) => e
      }).pipe(
        Effect.map(
          (c): ChatOutcome => ({
            _tag: "Answered",
            text: c.text,
            promptTokens: c.promptTokens,
            completionTokens: c.completionTokens,
            logprobs: c.logprobs,
            cached: false,
            server: engine.fileName
          })
        ),
        Effect.catch((e) =>
          Effect.succeed(
            failed(
              e instanceof GgufRequestError
                ? e.message
                : `llama.cpp failed on ${engine.fileName}: ${e instanceof Error ? e.message : String(e)}`
            )
          )
        )
      )
    }
    // a batch with one input longer than the context fails whole (GgufRequestError); featurize.embed
    // then embeds that batch's texts one by one to find it
    const sendEmbed = (texts: ReadonlyArray<string>, context: SendContext): Effect.Effect<EmbedOutcome> => {
      context.tally.requests++
      return Effect.tryPromise({ try: () => engine.embed(texts), catch: (e) => e }).pipe(
        Effect.map(
          (r): EmbedOutcome => ({
            _tag: "Embedded",
            vectors: r.vectors.map((v) => Float32Array.from(v)),
            cached: 0,
            tokens: r.tokens,
            server: engine.fileName
          })
        ),
        Effect.catch((e) =>
          Effect.succeed(
            failed(
              e instanceof GgufRequestError
                ? e.message
                : `llama.cpp failed to embed on ${engine.fileName}: ${e instanceof Error ? e.message : String(e)}`
            )
          )
        )
      )
    }
    const embeddingCache = embeddings ?? (yield* openEmbeddingCache(dirname(dirname(cache.file)), identity, where))
    return makeCachedClient({ identity, cache, send, embedding: { cache: embeddingCache, send: sendEmbed } })
  })
