/**
 * `LlmClient.embed` over a provider's `send` (what a cache miss does): each text's vector looked up in
 * the durable embedding cache first, the texts not found (each once, however often a batch repeats
 * it) sent in one request, their vectors stored. Both providers (the HTTP pool, in-process GGUF) use it.
 */
import { Effect } from "effect"
import type { ChatFailure, EmbedOutcome } from "../../core/llm.js"
import type { SendContext } from "./cached-client.js"
import { type EmbeddingCache, embedKey } from "./embedding-cache.js"
import type { ModelIdentity } from "./response-cache.js"

/** Embed texts none of which is cached; never fails. */
export type EmbedSend = (texts: ReadonlyArray<string>, context: SendContext) => Effect.Effect<EmbedOutcome>

/** The counters `embed` adds to (the client's usage). */
export interface EmbedTally {
  cacheHits: number
  promptTokens: number
  failures: number
}

const failed = (reason: string, skipped = false): ChatFailure => ({
  _tag: "Failed",
  reason,
  status: null,
  raw: null,
  skipped
})

export function makeCachedEmbed(
  identity: ModelIdentity,
  cache: EmbeddingCache,
  send: EmbedSend,
  context: SendContext,
  usage: EmbedTally
): (texts: ReadonlyArray<string>) => Effect.Effect<EmbedOutcome> {
  return (texts) =>
    Effect.suspend(() => {
      const vectors: Array<Float32Array | undefined> = new Array(texts.length)
      const missing = new Map<string, Array<number>>()
      let hits = 0
      texts.forEach((text, i) => {
        const v = cache.get(embedKey(identity, text))
        if (v !== undefined) {
          vectors[i] = v
          hits++
        } else {
          const at = missing.get(text)
          if (at === undefined) missing.set(text, [i])
          else at.push(i)
        }
      })
      usage.cacheHits += hits
      const done = (tokens: number, server: string): EmbedOutcome => ({
        _tag: "Embedded",
        vectors: vectors as Array<Float32Array>,
        cached: hits,
        tokens,
        server
      })
      if (missing.size === 0) return Effect.succeed(done(0, "cache"))
      const stop = context.stopped()
      if (stop !== null) {
        usage.failures++
        return Effect.succeed(failed(stop, true))
      }
      const asked = [...missing.keys()]
      return Effect.map(send(asked, context), (outcome): EmbedOutcome => {
        if (outcome._tag === "Failed") {
          usage.failures++
          return outcome
        }
        if (outcome.vectors.length !== asked.length) {
          usage.failures++
          return failed(`${outcome.server} returned ${outcome.vectors.length} vectors for ${asked.length} texts`)
        }
        asked.forEach((text, k) => {
          const v = outcome.vectors[k]!
          cache.put(embedKey(identity, text), v)
          for (const i of missing.get(text)!) vectors[i] = v
        })
        usage.promptTokens += outcome.tokens
        return done(outcome.tokens, outcome.server)
      })
    })
}
