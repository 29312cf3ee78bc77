/**
 * judge.llm's spending and its failed requests, in a real pipeline against the fake OpenAI server:
 * maxRequests and maxCost stop the node cleanly and keep what was paid for, tokens and cost add up,
 * and `--retry-failed` (runPipeline's `retryFailed`) asks exactly the failed requests again while the
 * answered ones come from the response cache.
 */
import { afterEach, describe, expect, it } from "vitest"
import { type FakeServer, startFakeOpenAi } from "../support/fake-openai.js"
import { fakeJudge, project, runJudge, shown } from "./judge-llm-helpers.js"

let server: FakeServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

const USAGE = { prompt_tokens: 1000, completion_tokens: 10 }
const PRICES = { pricePromptPer1M: 2, priceCompletionPer1M: 8 }
/** What one request costs at PRICES, worked out by hand: 1000 x 2 / 1M + 10 x 8 / 1M. */
const ONE = 0.002 + 0.00008

describe("judge.llm budgets", () => {
  it("maxRequests stops after that many requests; the rest are retryable failures 'budget: …'", async () => {
    server = await startFakeOpenAi({ answer: fakeJudge })
    // concurrency 1: one request in flight, so the stop is exact
    const run = await runJudge(project(), { baseUrl: server.baseUrl, model: "m", concurrency: 1, maxRequests: 2 })
    expect(run.judge.status).toBe("ran")
    expect(server.requests.length).toBe(2)
    expect((await run.tables("votes")).length).toBe(2)
    const failures = await run.tables("failures")
    expect(failures.map((f) => [f.reason, f.status, f.retryable])).toEqual(
      Array(4).fill(["budget: maxRequests 2 reached", null, true])
    )
    expect(run.judge.stats).toMatchObject({ requests: 2, votes: 2, failures: 4, budget_skipped: 4, retryable: 4 })
  })

  it("tokens and cost add up per request made, and maxCost keeps what was paid for", async () => {
    server = await startFakeOpenAi({ script: (r) => ({ answer: fakeJudge(r), usage: USAGE }) })
    const root = project()
    const all = await runJudge(root, { baseUrl: server.baseUrl, model: "m", ...PRICES })
    expect(all.judge.stats).toMatchObject({ requests: 6, prompt_tokens: 6000, completion_tokens: 60 })
    expect(all.judge.stats.cost).toBeCloseTo(6 * ONE, 12)

    // a budget of 2.4 requests' worth: the third request crosses it, and nothing after it is sent
    server.requests.length = 0
    const capped = await runJudge(project(), {
      baseUrl: server.baseUrl,
      model: "m",
      concurrency: 1,
      maxCost: 2.4 * ONE,
      ...PRICES
    })
    expect(server.requests.length).toBe(3)
    expect(capped.judge.stats).toMatchObject({ requests: 3, votes: 3, budget_skipped: 3, prompt_tokens: 3000 })
    expect(capped.judge.stats.cost).toBeCloseTo(3 * ONE, 12)
    const reasons = (await capped.tables("failures")).map((f) => String(f.reason))
    expect(reasons).toEqual(Array(3).fill(`budget: maxCost ${2.4 * ONE} reached (spent ${(3 * ONE).toFixed(6)})`))
    // the votes paid for are there, oriented as always
    expect((await capped.tables("votes")).map((v) => [v.order, v.vote])).toEqual([
      ["ab", "a"],
      ["ba", "a"],
      ["ab", "b"]
    ])
  })
})

describe("wb run --retry-failed", () => {
  it("runs a node whose artifact reports retryable failures again: exactly the failed requests are made", async () => {
    // three requests fail with 500 beyond their one retry while `failing`; then the server recovers
    let failing = true
    const failed = new Set(["GOOD Paris.", "5.", "Blue."]) // p1 a-first, p2 a-first, p3 b-first
    server = await startFakeOpenAi({
      script: (r) => (failing && failed.has(shown(r.prompt)[0]) ? { status: 500 } : { answer: fakeJudge(r) })
    })
    const root = project()
    const params = { baseUrl: server.baseUrl, model: "m", maxRetries: 1 }
    const first = await runJudge(root, params)
    expect(first.status).toBe("ok")
    const failures = await first.tables("failures")
    expect(failures.map((f) => [f.status, f.retryable])).toEqual(Array(3).fill([500, true]))
    expect(String(failures[0]!.reason)).toMatch(/500/)
    expect(first.judge.stats).toMatchObject({ votes: 3, failures: 3, retryable: 3 })
    expect(server.requests.length).toBe(3 + 3 * 2) // the answered ones, and each failure tried twice

    // a plain run keeps the cached artifact, failures included
    const plain = await runJudge(root, params)
    expect([plain.judge.status, plain.count]).toEqual(["cached", "cached"])
    expect(server.requests.length).toBe(9)

    failing = false
    const retried = await runJudge(root, params, { retryFailed: true })
    expect(server.requests.length).toBe(9 + 3)
    expect(retried.judge.status).toBe("ran")
    expect(retried.judge.stats).toMatchObject({ votes: 6, failures: 0, retryable: 0, requests: 3, cache_hits: 3 })
    expect(await retried.tables("failures")).toEqual([])
    // below it, cache keys decide: the votes changed, so the count re-ran
    expect(retried.count).toBe("ran")
    expect(
      retried.events.some((e) => e._tag === "NodeNote" && e.node === "judge" && e.text.includes("3 retryable failures"))
    ).toBe(true)

    // nothing left to retry: cached, no request
    const again = await runJudge(root, params, { retryFailed: true })
    expect([again.judge.status, again.count]).toEqual(["cached", "cached"])
    expect(server.requests.length).toBe(12)
  })
})
