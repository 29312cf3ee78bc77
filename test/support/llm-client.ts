/**
 * Open the live LLM client (`LlmLive`) in tests: `await withLlmClient(dir, httpConfig(server.baseUrl),
 * (client) => client.chat(chatRequest("hi")))`. Backoffs and rests are shortened (`fastTuning`) so
 * retry tests take milliseconds; pass `tuning` to change them.
 */
import { Effect } from "effect"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { type ChatRequest, type HttpModelConfig, Llm, type LlmClient } from "../../workbench/core/llm.js"
import type { HttpTuning } from "../../workbench/io/llm/http-client.js"
import { LlmLive } from "../../workbench/io/llm/live.js"

export const fastTuning: Partial<HttpTuning> = { backoffBaseMs: 20, backoffCapMs: 100, restMs: 300, restMaxMs: 2000 }

export function httpConfig(
  baseUrls: string | ReadonlyArray<string>,
  overrides: Partial<HttpModelConfig> = {}
): HttpModelConfig {
  return {
    provider: "openai",
    baseUrls: typeof baseUrls === "string" ? [baseUrls] : baseUrls,
    model: "judge-test",
    concurrency: 4,
    requestsPerMinute: null,
    tokensPerMinute: null,
    timeoutMs: 5000,
    maxRetries: 3,
    ...overrides
  }
}

export function chatRequest(prompt: string, overrides: Partial<ChatRequest> = {}): ChatRequest {
  return { messages: [{ role: "user", content: prompt }], temperature: 0, maxTokens: 4, sample: 0, ...overrides }
}

export const tempWorkspace = () => mkdtempSync(join(tmpdir(), "wb-llm-"))

/** Open a client on `workspaceDir`, use it, close it (which flushes its cache). */
export function withLlmClient<A>(
  workspaceDir: string,
  config: HttpModelConfig,
  use: (client: LlmClient) => Effect.Effect<A>,
  tuning: Partial<HttpTuning> = fastTuning
): Promise<A> {
  return Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const llm = yield* Llm
        const client = yield* llm.open(config, 'node "judge"')
        return yield* use(client)
      })
    ).pipe(Effect.provide(LlmLive(workspaceDir, tuning)))
  )
}

/** Chat every prompt at `concurrency`, returning the outcomes in order. */
export const chatAll = (client: LlmClient, requests: ReadonlyArray<ChatRequest>, concurrency = 16) =>
  Effect.forEach(requests, (r) => client.chat(r), { concurrency })
