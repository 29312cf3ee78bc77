/**
 * An `LlmClient` from a provider's `send` (what a cache miss does): the response cache in front, the
 * budget stop, the usage counters, and one request for concurrent identical requests. Both providers
 * (the HTTP pool, in-process GGUF) are built on it, so caching and accounting behave the same.
 */
import { Deferred, Effect } from "effect"
import type { ChatFailure, ChatOutcome, ChatRequest, LlmClient, LlmUsage } from "../../core/llm.js"
import { type EmbedSend, makeCachedEmbed } from "./cached-embed.js"
import type { EmbeddingCache } from "./embedding-cache.js"
import { type ModelIdentity, requestKey, type ResponseCache } from "./response-cache.js"

/** Counters a provider's `send` adds to: requests made (retries included) and retries. */
export interface UsageTally {
  requests: number
  retries: number
}

export interface SendContext {
  readonly tally: UsageTally
  /** The budget stop's reason once `stop` was called (a provider checks it between retries), else null. */
  readonly stopped: () => string | null
}

export interface CachedClientOptions {
  readonly identity: ModelIdentity
  readonly cache: ResponseCache
  /** Answer one request the cache does not hold; never fails (problems are `Failed` outcomes). */
  readonly send: (request: ChatRequest, context: SendContext) => Effect.Effect<ChatOutcome>
  /** How the provider embeds texts, and the durable cache in front (cached-embed.ts). */
  readonly embedding: { readonly cache: EmbeddingCache; readonly send: EmbedSend }
}

export function makeCachedClient(options: CachedClientOptions): LlmClient {
  const { identity, cache, send } = options
  const usage = { requests: 0, retries: 0, cacheHits: 0, promptTokens: 0, completionTokens: 0, failures: 0 }
  let stopReason: string | null = null
  const context: SendContext = { tally: usage, stopped: () => stopReason }
  // null: the request's owner was interrupted, so whoever waits on it asks for itself
  const inFlight = new Map<string, Deferred.Deferred<ChatOutcome | null>>()

  const record = (outcome: ChatOutcome) => {
    if (outcome._tag === "Answered") {
      usage.promptTokens += outcome.promptTokens
      usage.completionTokens += outcome.completionTokens
    } else usage.failures++
  }

  const miss = (key: string, request: ChatRequest) => {
    const done = Deferred.makeUnsafe<ChatOutcome | null>()
    inFlight.set(key, done)
    return send(request, context).pipe(
      Effect.tap((outcome) =>
        Effect.sync(() => {
          record(outcome)
          if (outcome._tag === "Answered") cache.put(key, outcome)
          Deferred.doneUnsafe(done, Effect.succeed(outcome))
        })
      ),
      Effect.onInterrupt(() => Deferred.succeed(done, null)),
      Effect.ensuring(Effect.sync(() => inFlight.delete(key)))
    )
  }

  // the hot path of a re-run: a hash and a Map lookup, no allocation beyond the Effect
  const chat = (request: ChatRequest): Effect.Effect<ChatOutcome> =>
    Effect.suspend(() => {
      const key = requestKey(identity, request)
      const hit = cache.get(key)
      if (hit !== undefined) {
        usage.cacheHits++
        return Effect.succeed(hit)
      }
      const pending = inFlight.get(key)
      if (pending !== undefined) {
        // the same request is on its way: share its outcome rather than pay twice
        return Effect.flatMap(Deferred.await(pending), (o): Effect.Effect<ChatOutcome> => {
          if (o === null) return chat(request)
          if (o._tag !== "Answered") return Effect.succeed(o)
          usage.cacheHits++
          return Effect.succeed({ ...o, cached: true })
        })
      }
      if (stopReason !== null) {
        const skipped: ChatFailure = { _tag: "Failed", reason: stopReason, status: null, raw: null, skipped: true }
        usage.failures++
        return Effect.succeed(skipped)
      }
      return miss(key, request)
    })

  return {
    chat,
    embed: makeCachedEmbed(identity, options.embedding.cache, options.embedding.send, context, usage),
    cacheKey: (request) => requestKey(identity, request),
    usage: (): LlmUsage => ({ ...usage }),
    stop: (reason) => {
      stopReason ??= reason
    }
  }
}
