/**
 * A pool of real servers behind one client: balancing (least outstanding), per-server concurrency,
 * a server that is down or failing rested and tried again later, and rate limits shared by the pool
 * (over a shortened window, so the test takes a second, not minutes).
 */
import { Effect } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import type { ChatOutcome } from "../../workbench/core/llm.js"
import { deadBaseUrl, type FakeServer, startFakeOpenAi } from "../support/fake-openai.js"
import { chatAll, chatRequest, fastTuning, httpConfig, tempWorkspace, withLlmClient } from "../support/llm-client.js"

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

const prompts = (n: number, prefix = "pair") => Array.from({ length: n }, (_, i) => chatRequest(`${prefix} ${i}`))
const answeredBy = (outcomes: ReadonlyArray<ChatOutcome>) =>
  outcomes.map((o) => (o._tag === "Answered" ? o.server : `failed: ${o.reason}`))

describe("balancing", () => {
  it("spreads work over two servers, never past each one's concurrency", async () => {
    const a = await start({ script: () => ({ answer: "1", delayMs: 30 }) })
    const b = await start({ script: () => ({ answer: "1", delayMs: 30 }) })
    const outcomes = await withLlmClient(tempWorkspace(), httpConfig([a.baseUrl, b.baseUrl], { concurrency: 3 }), (c) =>
      chatAll(c, prompts(40), 16)
    )
    expect(outcomes.every((o) => o._tag === "Answered")).toBe(true)
    expect(a.requests.length + b.requests.length).toBe(40)
    expect(a.requests.length).toBeGreaterThanOrEqual(15)
    expect(b.requests.length).toBeGreaterThanOrEqual(15)
    expect(a.maxOutstanding).toBe(3)
    expect(b.maxOutstanding).toBe(3)
  })

  it("sends more to the server that answers faster (least outstanding)", async () => {
    const slow = await start({ script: () => ({ answer: "1", delayMs: 300 }) })
    const fast = await start({ script: () => ({ answer: "1", delayMs: 5 }) })
    await withLlmClient(tempWorkspace(), httpConfig([slow.baseUrl, fast.baseUrl], { concurrency: 8 }), (c) =>
      chatAll(c, prompts(60), 8)
    )
    expect(slow.requests.length + fast.requests.length).toBe(60)
    expect(slow.requests.length).toBeGreaterThan(0)
    expect(fast.requests.length).toBeGreaterThan(3 * slow.requests.length)
  })
})

describe("servers that fail", () => {
  it("answers everything from the other server when one of two is down", async () => {
    const live = await start()
    const dead = await deadBaseUrl()
    const outcomes = await withLlmClient(
      tempWorkspace(),
      httpConfig([dead, live.baseUrl], { concurrency: 4 }),
      (c) => chatAll(c, prompts(30), 8),
      { ...fastTuning, restMs: 10_000 }
    )
    expect(new Set(answeredBy(outcomes))).toEqual(new Set([live.baseUrl]))
    expect(live.requests.length).toBe(30)
  })

  it("rests a failing server after 3 faults in a row", async () => {
    const bad = await start({ script: () => ({ status: 500 }) })
    const good = await start()
    const config = httpConfig([bad.baseUrl, good.baseUrl], { concurrency: 2 })
    const dir = tempWorkspace()
    const outcomes = await withLlmClient(dir, config, (c) => chatAll(c, prompts(20, "first"), 2), {
      ...fastTuning,
      restMs: 10_000
    })
    expect(outcomes.every((o) => o._tag === "Answered")).toBe(true)
    // 3 faults rest it; requests already on their way there when it tipped over may add one or two
    const duringRest = bad.requests.length
    expect(duringRest).toBeGreaterThanOrEqual(3)
    expect(duringRest).toBeLessThanOrEqual(5)
    expect(good.requests.length).toBe(20)
  })

  it("tries a rested server again once its rest is over", async () => {
    const bad = await start({ script: (r) => (r.index < 3 ? { status: 500 } : { answer: "1" }) })
    const good = await start()
    const outcomes = await withLlmClient(
      tempWorkspace(),
      httpConfig([bad.baseUrl, good.baseUrl], { concurrency: 1 }),
      (c) =>
        Effect.gen(function* () {
          const first = yield* chatAll(c, prompts(10, "first"), 1)
          yield* Effect.sleep(500)
          return [...first, ...(yield* chatAll(c, prompts(6, "second"), 1))]
        }),
      { ...fastTuning, restMs: 300 }
    )
    expect(outcomes.every((o) => o._tag === "Answered")).toBe(true)
    // 3 faults, a rest, then it is back in the rotation and answers
    expect(bad.requests.length).toBeGreaterThan(3)
    expect(answeredBy(outcomes.slice(10))).toContain(bad.baseUrl)
  })

  it("waits for a resting server to come back when it is the only one", async () => {
    const server = await start({ script: [{ reset: true }, { reset: true }, { reset: true }, { answer: "2" }] })
    const outcomes = await withLlmClient(
      tempWorkspace(),
      httpConfig(server.baseUrl, { maxRetries: 5 }),
      (c) => chatAll(c, prompts(1), 1),
      { ...fastTuning, restMs: 500 }
    )
    expect(outcomes[0]).toMatchObject({ _tag: "Answered", text: "2" })
    const gap = server.requests[3]!.at - server.requests[2]!.at
    expect(gap).toBeGreaterThanOrEqual(480)
  })
})

describe("Retry-After in a pool", () => {
  it("keeps the server that asked out of rotation while the others take the work", async () => {
    const asked = await start({ script: (r) => (r.index === 0 ? { status: 429, retryAfter: "30" } : { answer: "1" }) })
    const other = await start()
    const started = Date.now()
    const outcomes = await withLlmClient(tempWorkspace(), httpConfig([asked.baseUrl, other.baseUrl]), (c) =>
      chatAll(c, prompts(6), 1)
    )
    expect(Date.now() - started).toBeLessThan(5000)
    expect(new Set(answeredBy(outcomes))).toEqual(new Set([other.baseUrl]))
    expect(asked.requests).toHaveLength(1)
  })
})

describe("rate limits shared by the pool", () => {
  it("keeps requests per window across two servers", async () => {
    const a = await start()
    const b = await start()
    const started = Date.now()
    await withLlmClient(
      tempWorkspace(),
      httpConfig([a.baseUrl, b.baseUrl], { requestsPerMinute: 5 }),
      (c) => chatAll(c, prompts(12), 12),
      { ...fastTuning, rateWindowMs: 400 }
    )
    const at = [...a.requests, ...b.requests].map((r) => r.at).sort((x, y) => x - y)
    expect(at).toHaveLength(12)
    // any 6 consecutive requests span at least a window (arrival at the server jitters a little)
    for (let i = 5; i < at.length; i++) expect(at[i]! - at[i - 5]!).toBeGreaterThanOrEqual(300)
    expect(Date.now() - started).toBeGreaterThanOrEqual(780)
  })

  it("keeps tokens per window, corrected by the server's usage", async () => {
    const server = await start({ script: () => ({ answer: "1", usage: { prompt_tokens: 40, completion_tokens: 5 } }) })
    await withLlmClient(
      tempWorkspace(),
      httpConfig(server.baseUrl, { tokensPerMinute: 100 }),
      (c) => chatAll(c, prompts(6, "x".repeat(140)), 6),
      { ...fastTuning, rateWindowMs: 400 }
    )
    // estimated 140/4 + 4 = 39 tokens each before sending, 45 once the server says so: two fit a
    // window of 100, a third waits for the window to move on
    const at = server.requests.map((r) => r.at)
    for (let i = 2; i < at.length; i++) expect(at[i]! - at[i - 2]!).toBeGreaterThanOrEqual(300)
  })
})
