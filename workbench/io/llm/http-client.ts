/**
 * The OpenAI-compatible client: `POST {baseUrl}/chat/completions` over a pool of servers (see
 * server-pool.ts), paced by shared rate limits (rate-limiter.ts), retried with backoff and jitter on
 * 429, 5xx, timeouts, connection resets and unparseable bodies (retry-policy.ts), with the response
 * cache in front (cached-client.ts). Built on `effect/http` over `node:http` with a keep-alive agent
 * (`NodeHttpClient.layerNodeHttp`): it costs less than half the CPU of fetch per request, measured
 * (bench/judge.ts); undici's own layer crashes on Node 20. The agent closes with the client's scope.
 *
 * The API key is sent as `Authorization: Bearer …` only when there is one; credentials written in a
 * base URL (`http://user:pass@host/v1`) are sent as Basic auth when there is no key. Neither appears
 * in any outcome, cache file or message: everything shown is scrubbed of them.
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { Context, Effect, Layer, Redacted, type Scope } from "effect"
import { HttpClient } from "effect/http"
import { DataError } from "../../core/errors.js"
import type { ChatFailure, ChatOutcome, ChatRequest, EmbedOutcome, HttpModelConfig, LlmClient } from "../../core/llm.js"
import { makeCachedClient, type SendContext } from "./cached-client.js"
import { chatBody, type DecodedAnswer } from "./chat-wire.js"
import { type DecodedEmbeddings, decodeEmbeddings, embedBody } from "./embed-wire.js"
import type { EmbeddingCache } from "./embedding-cache.js"
import { type AttemptOutcome, attemptChat, attemptPost } from "./http-attempt.js"
import { estimateTokens, makeRateLimiter } from "./rate-limiter.js"
import type { ResponseCache } from "./response-cache.js"
import { backoffMs, isRetryable, isServerFault } from "./retry-policy.js"
import { makeScrub } from "./scrub.js"
import { displayUnparsed, parseServerAddress, type ServerAddress } from "./server-address.js"
import { makeServerPool, type PoolServer } from "./server-pool.js"

/** Knobs users do not set; tests shorten the windows and delays. */
export interface HttpTuning {
  /** The first retry waits up to this long, doubling each retry (full jitter). */
  readonly backoffBaseMs: number
  readonly backoffCapMs: number
  /** The rate limits' window: a minute; tests use less. */
  readonly rateWindowMs: number
  /** Faults in a row (connection errors, timeouts, 5xx) that rest a server. */
  readonly faultsToRest: number
  readonly restMs: number
  readonly restMaxMs: number
  /** A longer Retry-After is not waited for: the request fails, saying so. */
  readonly maxRetryAfterMs: number
  readonly random: () => number
}

export const defaultHttpTuning: HttpTuning = {
  backoffBaseMs: 500,
  backoffCapMs: 30_000,
  rateWindowMs: 60_000,
  faultsToRest: 3,
  restMs: 5_000,
  restMaxMs: 300_000,
  maxRetryAfterMs: 600_000,
  random: Math.random
}

const invalid = (where: string, found: string, expected: string, fix: string) =>
  new DataError({ where, found, expected, fix })

/** The config's problems as a DataError, or the parsed server addresses. */
function checkConfig(config: HttpModelConfig, where: string): ReadonlyArray<ServerAddress> | DataError {
  if (config.baseUrls.length === 0) {
    return invalid(
      where,
      "no base URL was given",
      "one or more base URLs such as http://127.0.0.1:8080/v1",
      "set baseUrl"
    )
  }
  const addresses: Array<ServerAddress> = []
  for (const raw of config.baseUrls) {
    const parsed = parseServerAddress(raw)
    if (typeof parsed === "string") {
      return invalid(
        where,
        `base URL "${displayUnparsed(raw)}" ${parsed}`,
        "an http(s) URL such as http://127.0.0.1:8080/v1 or https://api.openai.com/v1",
        "correct baseUrl"
      )
    }
    addresses.push(parsed)
  }
  const positive = (name: string, value: number, integer: boolean) =>
    Number.isFinite(value) && value > 0 && (!integer || Number.isInteger(value))
      ? undefined
      : invalid(where, `${name} is ${value}`, `a positive ${integer ? "integer" : "number"}`, `set ${name}`)
  const bad =
    positive("concurrency", config.concurrency, true) ??
    positive("timeoutMs", config.timeoutMs, false) ??
    (config.requestsPerMinute === null ? undefined : positive("requestsPerMinute", config.requestsPerMinute, false)) ??
    (config.tokensPerMinute === null ? undefined : positive("tokensPerMinute", config.tokensPerMinute, false)) ??
    (Number.isInteger(config.maxRetries) && config.maxRetries >= 0
      ? undefined
      : invalid(where, `maxRetries is ${config.maxRetries}`, "0 or a positive integer", "set maxRetries"))
  return bad ?? addresses
}

const retriesText = (n: number) => (n === 0 ? "" : ` after ${n} ${n === 1 ? "retry" : "retries"}`)

export const openHttpClient = (
  config: HttpModelConfig,
  where: string,
  cache: ResponseCache,
  embeddings: EmbeddingCache,
  tuning: Partial<HttpTuning> = {}
): Effect.Effect<LlmClient, DataError, Scope.Scope> =>
  Effect.gen(function* () {
    const t: HttpTuning = { ...defaultHttpTuning, ...tuning }
    const addresses = checkConfig(config, where)
    if (addresses instanceof DataError) return yield* addresses
    const services = yield* Layer.build(NodeHttpClient.layerNodeHttpOptions({ keepAlive: true }))
    const http = Context.get(services, HttpClient.HttpClient)
    const key = config.apiKey === undefined ? undefined : Redacted.value(config.apiKey)
    const scrub = makeScrub([...(key === undefined ? [] : [key]), ...addresses.flatMap((a) => a.secrets)])
    const headersOf = new Map(
      addresses.map((a) => {
        const auth = key !== undefined && key !== "" ? `Bearer ${key}` : a.basicAuth
        return [a, auth === null ? {} : { authorization: auth }] as const
      })
    )
    const pool = makeServerPool(addresses, {
      concurrency: config.concurrency,
      faultsToRest: t.faultsToRest,
      restMs: t.restMs,
      restMaxMs: t.restMaxMs
    })
    const limiter = makeRateLimiter({
      requests: config.requestsPerMinute,
      tokens: config.tokensPerMinute,
      windowMs: t.rateWindowMs
    })

    /** One try on the pool's choice of server, holding its slot for exactly as long as the request. */
    const tryOnce = <A>(
      attempt: (address: ServerAddress) => Effect.Effect<AttemptOutcome<A>>,
      tokensOf: (answer: A) => number | null,
      estimate: number,
      avoid: PoolServer | undefined,
      context: SendContext
    ) =>
      Effect.gen(function* () {
        const slot = yield* limiter.take(estimate)
        return yield* Effect.uninterruptibleMask((restore) =>
          Effect.flatMap(restore(pool.acquire(avoid)), (server) => {
            context.tally.requests++
            return restore(attempt(server.address)).pipe(
              Effect.onExit((exit) =>
                Effect.sync(() => {
                  const outcome = exit._tag === "Success" ? exit.value : undefined
                  pool.release(
                    server,
                    outcome === undefined
                      ? "neutral"
                      : outcome.result._tag === "Ok"
                        ? "ok"
                        : isServerFault(outcome.result)
                          ? "fault"
                          : "neutral"
                  )
                  const answer = outcome?.answer
                  const used = answer === null || answer === undefined ? null : tokensOf(answer)
                  if (used !== null) limiter.correct(slot, used)
                })
              ),
              Effect.map((outcome) => ({ outcome, server }))
            )
          })
        )
      })

    /** A request tried until it is answered, or the last problem as a Failed outcome (retry policy above). */
    const withRetries = <A>(
      attempt: (address: ServerAddress) => Effect.Effect<AttemptOutcome<A>>,
      tokensOf: (answer: A) => number | null,
      estimate: number,
      context: SendContext
    ): Effect.Effect<{ readonly answer: A; readonly server: PoolServer } | ChatFailure> =>
      Effect.gen(function* () {
        let avoid: PoolServer | undefined
        for (let retry = 0; ; retry++) {
          const { outcome, server } = yield* tryOnce(attempt, tokensOf, estimate, avoid, context)
          const { result } = outcome
          if (result._tag === "Ok" && outcome.answer !== null) return { answer: outcome.answer, server }
          const fail = (reason: string): ChatFailure => ({
            _tag: "Failed",
            reason: scrub(reason),
            status: outcome.status,
            raw: outcome.raw,
            skipped: false
          })
          if (!isRetryable(result)) return fail(`${outcome.problem}${retriesText(retry)} (not retried: a client error)`)
          if (retry >= config.maxRetries)
            return fail(`${outcome.problem}${retriesText(retry)} (maxRetries ${config.maxRetries})`)
          const stop = context.stopped()
          if (stop !== null) return fail(`${outcome.problem}${retriesText(retry)}; not retried: ${stop}`)
          const delay = backoffMs(retry + 1, t.backoffBaseMs, t.backoffCapMs, t.random)
          if (result._tag === "Status" && result.retryAfterMs !== null) {
            if (result.retryAfterMs > t.maxRetryAfterMs) {
              return fail(
                `${outcome.problem}${retriesText(retry)}; it asked to wait ${Math.round(result.retryAfterMs / 1000)} s (Retry-After), ` +
                  `longer than wb waits (${t.maxRetryAfterMs / 1000} s); re-run later, the answers so far are cached`
              )
            }
            // the server said when: no request goes to it before then (this retry included, unless
            // another server of the pool can take it)
            pool.pause(server, result.retryAfterMs)
          }
          context.tally.retries++
          avoid = pool.servers.length > 1 ? server : undefined
          if (delay > 0) yield* Effect.sleep(delay)
        }
      })

    const send = (request: ChatRequest, context: SendContext): Effect.Effect<ChatOutcome> => {
      const body = JSON.stringify(chatBody(config.model, request))
      const promptChars = request.messages.reduce((n, m) => n + m.content.length, 0)
      const attempt = (address: ServerAddress) =>
        attemptChat(http, address, headersOf.get(address)!, body, config.timeoutMs, scrub)
      const tokensOf = (a: DecodedAnswer) =>
        a.promptTokens !== null && a.completionTokens !== null ? a.promptTokens + a.completionTokens : null
      return Effect.map(
        withRetries(attempt, tokensOf, estimateTokens(promptChars, request.maxTokens), context),
        (r): ChatOutcome => {
          if ("_tag" in r) return r
          const a = r.answer
          return {
            _tag: "Answered",
            text: a.text,
            // a server that reports no usage: the same estimate the rate limiter used
            promptTokens: a.promptTokens ?? Math.ceil(promptChars / 4),
            completionTokens: a.completionTokens ?? Math.ceil(a.text.length / 4),
            logprobs: a.logprobs,
            cached: false,
            server: r.server.address.display
          }
        }
      )
    }

    // embeddings: the same pool, limits and retries; one request per batch of uncached texts
    const sendEmbed = (texts: ReadonlyArray<string>, context: SendContext): Effect.Effect<EmbedOutcome> => {
      const body = embedBody(config.model, texts)
      const chars = texts.reduce((n, s) => n + s.length, 0)
      const attempt = (address: ServerAddress) =>
        attemptPost(
          http,
          address.embeddings,
          address.display,
          headersOf.get(address)!,
          body,
          config.timeoutMs,
          scrub,
          (text) => decodeEmbeddings(text, texts.length)
        )
      return Effect.map(
        withRetries(attempt, (a: DecodedEmbeddings) => a.promptTokens, estimateTokens(chars, 0), context),
        (r): EmbedOutcome =>
          "_tag" in r
            ? r
            : {
                _tag: "Embedded",
                vectors: r.answer.vectors,
                cached: 0,
                tokens: r.answer.promptTokens ?? Math.ceil(chars / 4),
                server: r.server.address.display
              }
      )
    }

    return makeCachedClient({
      identity: { provider: "openai", model: config.model },
      cache,
      send,
      embedding: { cache: embeddings, send: sendEmbed }
    })
  })
