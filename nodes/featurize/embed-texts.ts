/**
 * The embedding loop of `featurize.embed`: distinct texts in batches through `LlmClient.embed`, a
 * failed batch split into single texts to find the one a server refuses (a too-long input fails the
 * whole batch), and the one-length check over every vector.
 */
import { Effect } from "effect"
import { DataError } from "../../workbench/core/errors.js"
import type { ChatFailure, LlmClient } from "../../workbench/core/llm.js"

export interface TextFailure {
  readonly reason: string
  readonly raw: string | null
}

export interface EmbeddedTexts {
  readonly vectors: Map<string, Float32Array>
  readonly failures: Map<string, TextFailure>
}

/**
 * Whether a failed batch is worth retrying text by text: the request itself was refused (HTTP 4xx but
 * 429, or an in-process error), not a server that is down, where n single requests would only fail n
 * times more slowly.
 */
const isolatable = (f: ChatFailure) =>
  !f.skipped &&
  (f.status === null
    ? !/connection|timed out|no answer/i.test(f.reason)
    : f.status >= 400 && f.status < 500 && f.status !== 429)

export const embedTexts = (
  client: LlmClient,
  texts: ReadonlyArray<string>,
  options: {
    readonly batchSize: number
    readonly fanOut: number
    readonly onBatch: (done: number) => Effect.Effect<void>
  }
): Effect.Effect<EmbeddedTexts> =>
  Effect.gen(function* () {
    const vectors = new Map<string, Float32Array>()
    const failures = new Map<string, TextFailure>()
    const batches: Array<ReadonlyArray<string>> = []
    for (let i = 0; i < texts.length; i += options.batchSize) batches.push(texts.slice(i, i + options.batchSize))
    let done = 0
    const fail = (text: string, f: ChatFailure) => failures.set(text, { reason: f.reason, raw: f.raw })
    yield* Effect.forEach(
      batches,
      (batch) =>
        Effect.gen(function* () {
          const outcome = yield* client.embed(batch)
          if (outcome._tag === "Embedded") {
            batch.forEach((t, k) => vectors.set(t, outcome.vectors[k]!))
          } else if (batch.length > 1 && isolatable(outcome)) {
            for (const t of batch) {
              const one = yield* client.embed([t])
              if (one._tag === "Embedded") vectors.set(t, one.vectors[0]!)
              else fail(t, one)
            }
          } else {
            for (const t of batch) fail(t, outcome)
          }
          done += batch.length
          yield* options.onBatch(done)
        }),
      { concurrency: options.fanOut, discard: true }
    )
    return { vectors, failures }
  })

const shown = (text: string) => JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text)

/** All vectors one length (`expected`, or the first one's): a DataError naming the first text that differs. */
export function checkDimensions(
  texts: ReadonlyArray<string>,
  vectors: ReadonlyMap<string, Float32Array>,
  expected: number | null,
  where: string
): DataError | number | null {
  let dims = expected
  let first: string | undefined
  for (const t of texts) {
    const v = vectors.get(t)
    if (v === undefined) continue
    if (dims === null) {
      dims = v.length
      first = t
      continue
    }
    if (v.length !== dims) {
      return new DataError({
        where,
        found: `the vector of text ${shown(t)} has ${v.length} dimensions`,
        expected:
          expected === null
            ? `${dims} dimensions, as the vector of ${shown(first ?? "")} has: one model gives one length`
            : `${expected} dimensions (param dimensions)`,
        fix:
          expected === null
            ? "serve one embedding model behind every baseUrl of the pool, then run again"
            : `set dimensions to ${v.length}, or null, if that model is the one you meant`
      })
    }
  }
  return dims
}
