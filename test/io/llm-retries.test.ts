/**
 * The HTTP LLM client against a real fault-injecting server: what it sends, retries (and how many),
 * Retry-After, timeouts, and every failure coming back as data.
 */
import { Effect, Exit, Redacted } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import type { ChatOutcome } from "../../workbench/core/llm.js"
import { Llm } from "../../workbench/core/llm.js"
import { LlmLive } from "../../workbench/io/llm/live.js"
import { type FakeServer, startFakeOpenAi } from "../support/fake-openai.js"
import { chatRequest, httpConfig, tempWorkspace, withLlmClient } from "../support/llm-client.js"

let servers: Array<FakeServer> = []
const start = async (...args: Parameters<typeof startFakeOpenAi>) => {
  const s = await startFakeOpenAi(...args)
  servers.push(s)
  return s
}
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()))
  servers = []
})

const chatOnce = (server: FakeServer, overrides: Parameters<typeof httpConfig>[1] = {}, prompt = "which is better?") =>
  withLlmClient(tempWorkspace(), httpConfig(server.baseUrl, overrides), (c) =>
    Effect.map(c.chat(chatRequest(prompt)), (outcome) => ({ outcome, usage: c.usage() }))
  )

const failed = (o: ChatOutcome) => {
  if (o._tag !== "Failed") throw new Error(`expected a failure, got the answer ${JSON.stringify(o)}`)
  return o
}

describe("what the client sends", () => {
  it("sends model, messages, sampling params, logprobs and the choices (llama.cpp's grammar, vLLM's guided_choice and structured_outputs), with the Bearer key", async () => {
    const server = await start()
    const outcome = await withLlmClient(
      tempWorkspace(),
      httpConfig(server.baseUrl, { apiKey: Redacted.make("sk-test-123") }),
      (c) =>
        c.chat({
          messages: [
            { role: "system", content: "You are a judge." },
            { role: "user", content: 'Answer "1" or "2".' }
          ],
          temperature: 0.7,
          maxTokens: 3,
          sample: 2,
          seed: 42,
          topLogprobs: 5,
          choices: ["1", "2"]
        })
    )
    expect(server.requests).toHaveLength(1)
    const r = server.requests[0]!
    expect(r.path).toBe("/v1/chat/completions")
    expect(r.authorization).toBe("Bearer sk-test-123")
    expect(r.body).toEqual({
      model: "judge-test",
      messages: [
        { role: "system", content: "You are a judge." },
        { role: "user", content: 'Answer "1" or "2".' }
      ],
      temperature: 0.7,
      max_tokens: 3,
      seed: 42,
      logprobs: true,
      top_logprobs: 5,
      grammar: 'root ::= "1" | "2"',
      guided_choice: ["1", "2"],
      structured_outputs: { choice: ["1", "2"] }
    })
    expect(outcome).toMatchObject({ _tag: "Answered", text: "1", cached: false, server: server.baseUrl })
    if (outcome._tag !== "Answered") return
    expect(outcome.logprobs).toEqual([
      {
        token: "1",
        logprob: -0.1,
        top: [
          { token: "1", logprob: -0.1 },
          { token: "2", logprob: -2.4 },
          { token: "A", logprob: -3.4 },
          { token: "B", logprob: -4.4 }
        ]
      }
    ])
    expect(outcome.promptTokens).toBeGreaterThan(0)
  })

  it("sends no Authorization header without a key, and leaves out what was not asked for", async () => {
    const server = await start({ script: [{ answer: "B", usage: null }] })
    const { outcome } = await chatOnce(server)
    const r = server.requests[0]!
    expect(r.authorization).toBeUndefined()
    expect(Object.keys(r.body ?? {}).sort()).toEqual(["max_tokens", "messages", "model", "temperature"])
    // no usage from the server: tokens estimated (prompt characters / 4, answer characters / 4)
    expect(outcome).toMatchObject({ _tag: "Answered", text: "B", logprobs: null, promptTokens: 4, completionTokens: 1 })
  })

  it("sends a base URL's credentials as Basic auth, without them in the URL or the outcome", async () => {
    const server = await start({ script: [{ status: 500 }] })
    const url = server.baseUrl.replace("http://", "http://alice:s3cr3t-pw@")
    const { outcome } = await chatOnce(server, { baseUrls: [url], maxRetries: 0 })
    expect(server.requests[0]!.authorization).toBe(`Basic ${Buffer.from("alice:s3cr3t-pw").toString("base64")}`)
    expect(JSON.stringify(outcome)).not.toMatch(/alice|s3cr3t/)
    expect(failed(outcome).reason).toContain(server.baseUrl)
  })
})

describe("retries", () => {
  it("retries 500s and answers: four requests, three retries counted", async () => {
    const server = await start({ script: [{ status: 500 }, { status: 502 }, { status: 503 }, { answer: "2" }] })
    const { outcome, usage } = await chatOnce(server)
    expect(outcome).toMatchObject({ _tag: "Answered", text: "2" })
    expect(server.requests).toHaveLength(4)
    expect(usage).toMatchObject({ requests: 4, retries: 3, failures: 0 })
  })

  it("gives up after maxRetries with the last status and body, as data", async () => {
    const server = await start({ script: () => ({ status: 500, body: '{"error":"overloaded"}' }) })
    const { outcome, usage } = await chatOnce(server, { maxRetries: 2 })
    expect(server.requests).toHaveLength(3)
    const f = failed(outcome)
    expect(f.reason).toBe(`HTTP 500 from ${server.baseUrl} after 2 retries (maxRetries 2)`)
    expect(f).toMatchObject({ status: 500, raw: '{"error":"overloaded"}', skipped: false })
    expect(usage).toMatchObject({ requests: 3, retries: 2, failures: 1 })
  })

  it("does not retry a 4xx other than 408/429", async () => {
    const server = await start({ script: [{ status: 401, body: "bad key" }, { answer: "1" }] })
    const { outcome } = await chatOnce(server)
    expect(server.requests).toHaveLength(1)
    const f = failed(outcome)
    expect(f.status).toBe(401)
    expect(f.reason).toContain("HTTP 401")
    expect(f.reason).toContain("check the API key's environment variable")
    expect(f.reason).toContain("not retried")
  })

  it("retries a connection reset and a malformed body", async () => {
    const server = await start({ script: [{ reset: true }, { malformed: true }, { answer: "2" }] })
    const { outcome, usage } = await chatOnce(server)
    expect(outcome).toMatchObject({ _tag: "Answered", text: "2" })
    expect(usage).toMatchObject({ requests: 3, retries: 2 })
  })

  it("reports a body that never parses with the raw text", async () => {
    const server = await start({ script: () => ({ malformed: true }) })
    const { outcome } = await chatOnce(server, { maxRetries: 1 })
    const f = failed(outcome)
    expect(f.reason).toMatch(/^the response body is not JSON \(from http:\/\/127\.0\.0\.1:\d+\/v1\) after 1 retry/)
    expect(f.raw).toBe('{"choices": [{"message": {"content": "1"')
    expect(f.status).toBe(200)
  })

  it("reports a connection reset in words", async () => {
    const server = await start({ script: () => ({ reset: true }) })
    const { outcome } = await chatOnce(server, { maxRetries: 1 })
    expect(failed(outcome).reason).toBe(
      `connection reset by ${server.baseUrl} before it answered after 1 retry (maxRetries 1)`
    )
  })

  it("honours Retry-After in seconds", async () => {
    const server = await start({ script: [{ status: 429, retryAfter: "1" }, { answer: "1" }] })
    const { outcome } = await chatOnce(server)
    expect(outcome._tag).toBe("Answered")
    const gap = server.requests[1]!.at - server.requests[0]!.at
    expect(gap).toBeGreaterThanOrEqual(990)
    expect(gap).toBeLessThan(2500)
  })

  it("honours Retry-After as an HTTP date", async () => {
    // HTTP dates have whole seconds: 2 s ahead is between 1 and 2 s away
    const server = await start({
      script: (r) =>
        r.index === 0 ? { status: 503, retryAfter: new Date(Date.now() + 2000).toUTCString() } : { answer: "1" }
    })
    const { outcome } = await chatOnce(server)
    expect(outcome._tag).toBe("Answered")
    const gap = server.requests[1]!.at - server.requests[0]!.at
    expect(gap).toBeGreaterThanOrEqual(900)
    expect(gap).toBeLessThan(3000)
  })

  it("fails without waiting when Retry-After is longer than wb waits", async () => {
    const server = await start({ script: [{ status: 429, retryAfter: "86400" }] })
    const started = Date.now()
    const { outcome } = await chatOnce(server)
    expect(Date.now() - started).toBeLessThan(2000)
    expect(failed(outcome).reason).toContain("it asked to wait 86400 s (Retry-After)")
  })
})

describe("timeouts", () => {
  it("times out a slow answer, retries it, and fails as data", async () => {
    const server = await start({ script: () => ({ answer: "1", delayMs: 3000 }) })
    const started = Date.now()
    const { outcome, usage } = await chatOnce(server, { timeoutMs: 200, maxRetries: 1 })
    const elapsed = Date.now() - started
    expect(elapsed).toBeGreaterThanOrEqual(400)
    expect(elapsed).toBeLessThan(2000)
    expect(usage.requests).toBe(2)
    expect(failed(outcome)).toMatchObject({
      reason: `no answer from ${server.baseUrl} within 0.2 s (timeoutMs 200) after 1 retry (maxRetries 1)`,
      status: null,
      raw: null
    })
  })

  it("answers when a retry comes back in time", async () => {
    const server = await start({ script: [{ answer: "1", delayMs: 2000 }, { answer: "2" }] })
    const { outcome } = await chatOnce(server, { timeoutMs: 200 })
    expect(outcome).toMatchObject({ _tag: "Answered", text: "2" })
  })
})

describe("configs no request could satisfy", () => {
  const open = (config: ReturnType<typeof httpConfig>) =>
    Effect.runPromiseExit(
      Effect.scoped(Effect.flatMap(Effect.service(Llm), (llm) => llm.open(config, 'node "judge"'))).pipe(
        Effect.provide(LlmLive(tempWorkspace()))
      )
    )
  const message = async (config: ReturnType<typeof httpConfig>) => {
    const exit = await open(config)
    if (Exit.isSuccess(exit)) throw new Error("expected the config to be refused")
    return String(exit.cause)
  }

  it("refuses a base URL that is not http(s), without showing its credentials", async () => {
    const text = await message(httpConfig("ftp://bob:hunter2@example.com/v1"))
    expect(text).toContain('node "judge": base URL "ftp://example.com/v1" uses ftp, not http or https')
    expect(text).not.toContain("hunter2")
  })

  it("refuses an empty pool and a zero concurrency", async () => {
    expect(await message(httpConfig([]))).toContain("no base URL was given")
    expect(await message(httpConfig("http://127.0.0.1:1/v1", { concurrency: 0 }))).toContain("concurrency is 0")
  })

  it("says so when a GGUF model file is missing", async () => {
    const exit = await Effect.runPromiseExit(
      Effect.scoped(
        Effect.flatMap(Effect.service(Llm), (llm) =>
          llm.open(
            { provider: "gguf", modelPath: "/nonexistent/m.gguf", threads: 1, contextSize: 256, concurrency: 1 },
            'node "judge"'
          )
        )
      ).pipe(Effect.provide(LlmLive(tempWorkspace())))
    )
    expect(Exit.isFailure(exit) && String(exit.cause)).toContain("the model file /nonexistent/m.gguf could not be read")
  })
})
