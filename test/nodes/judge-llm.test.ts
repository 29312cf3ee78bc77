/**
 * judge.llm in a real pipeline, with the live LLM layer, against a real local server (the
 * fault-injecting fake OpenAI server): both orders judged and oriented back to the pair, position
 * consistency and the inconsistent policies, unparseable answers kept as failures with their raw
 * text, the response cache serving a re-run, and the API key kept out of every file under .wb/.
 */
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { type FakeServer, startFakeOpenAi } from "../support/fake-openai.js"
import {
  byPair,
  fakeJudge,
  filesContaining,
  metaOf,
  PAIRS,
  project,
  type Row,
  runJudge,
  shown
} from "./judge-llm-helpers.js"

let server: FakeServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

/** pair_id -> "p1" | "p2" | … from the pairs table. */
const pairTags = (pairs: ReadonlyArray<Row>) =>
  new Map(pairs.map((p) => [String(p.pair_id), String(p.prompt).slice(0, 2)]))

describe("judge.llm: both orders", () => {
  it("judges every pair a-first and b-first, orients each verdict to the pair, and folds them per pair", async () => {
    server = await startFakeOpenAi({ answer: fakeJudge })
    const root = project()
    const run = await runJudge(root, { baseUrl: server.baseUrl, model: "fake-judge", concurrency: 2 })
    expect(run.status).toBe("ok")
    const tags = pairTags(await run.tables("pairs"))
    const votes = byPair(await run.tables("votes"), tags)

    // 3 pairs x 2 orders, each request showing the outputs in its order
    expect(server.requests.length).toBe(6)
    const shownFirst = server.requests.map((r) => shown(r.prompt)[0]).sort()
    expect(shownFirst).toEqual([...PAIRS.flatMap((p) => [p.response_a, p.response_b])].sort())

    // p1: a is GOOD: "1" when a is first, "2" when b is first, both a vote for a
    expect([...votes.keys()].sort()).toEqual(["p1 ab", "p1 ba", "p2 ab", "p2 ba", "p3 ab", "p3 ba"])
    const summary = (k: string) => {
      const v = votes.get(k)!
      return [v.vote, metaOf(v).verdict, v.sample, v.rater, v.rater_kind]
    }
    expect(summary("p1 ab")).toEqual(["a", "1", 0, "fake-judge", "ai"])
    expect(summary("p1 ba")).toEqual(["a", "2", 0, "fake-judge", "ai"])
    expect(summary("p2 ab")).toEqual(["b", "2", 0, "fake-judge", "ai"])
    expect(summary("p2 ba")).toEqual(["b", "1", 0, "fake-judge", "ai"])
    // p3: neither GOOD, the judge takes the first shown: a, then b
    expect(summary("p3 ab")[0]).toBe("a")
    expect(summary("p3 ba")[0]).toBe("b")

    // p_a from the verdict token's top logprobs (the fake gives the answer -0.1, the other digit -2.4),
    // oriented to a: the same in both orders of p1
    const sure = 1 / (1 + Math.exp(-2.3))
    expect(votes.get("p1 ab")!.p_a).toBeCloseTo(sure, 12)
    expect(votes.get("p1 ba")!.p_a).toBeCloseTo(sure, 12)
    expect(votes.get("p2 ab")!.p_a).toBeCloseTo(1 - sure, 12)
    const meta = metaOf(votes.get("p1 ab")!)
    expect(meta).toEqual({ verdict: "1", rationale: null, server: server.baseUrl })

    const judgments = byPair(await run.tables("judgments"), tags)
    const j = (k: string) => {
      const r = judgments.get(k)!
      return [r.vote, r.position_consistent, r.n, r.confidence]
    }
    expect(j("p1")).toEqual(["a", true, 2, 1])
    expect(j("p2")).toEqual(["b", true, 2, 1])
    // inconsistent: a tie, and no vote says tie
    expect(j("p3")).toEqual(["tie", false, 2, 0])
    expect(run.judge.stats).toMatchObject({
      pairs: 3,
      requests_planned: 6,
      votes: 6,
      judgments: 3,
      position_consistent: 2,
      position_inconsistent: 1,
      failures: 0,
      retryable: 0,
      requests: 6,
      cache_hits: 0
    })
    expect(await run.tables("failures")).toEqual([])
    expect(
      (await run.tables("raters")).map((r) => [r.rater, r.rater_kind, JSON.parse(String(r.attributes)).orders])
    ).toEqual([["fake-judge", "ai", "both"]])
    // the pairs pass through unchanged
    expect((await run.tables("pairs")).map((p) => p.response_a)).toEqual(PAIRS.map((p) => p.response_a))
    // progress was reported in requests
    expect(run.events.some((e) => e._tag === "NodeProgress" && e.node === "judge")).toBe(true)
  })

  it("inconsistent: drop leaves the pair out, keep-first keeps the a-first verdict; both from the cache", async () => {
    server = await startFakeOpenAi({ answer: fakeJudge })
    const root = project()
    await runJudge(root, { baseUrl: server.baseUrl, model: "fake-judge" })
    const made = server.requests.length
    const dropped = await runJudge(root, { baseUrl: server.baseUrl, model: "fake-judge", inconsistent: "drop" })
    const tags = pairTags(await dropped.tables("pairs"))
    expect([...byPair(await dropped.tables("judgments"), tags).keys()].sort()).toEqual(["p1", "p2"])
    const first = await runJudge(root, { baseUrl: server.baseUrl, model: "fake-judge", inconsistent: "keep-first" })
    expect(byPair(await first.tables("judgments"), tags).get("p3")).toMatchObject({
      vote: "a",
      position_consistent: false
    })
    // other params, same requests: every answer came from the response cache
    expect(server.requests.length).toBe(made)
    expect(first.judge.stats).toMatchObject({ requests: 0, cache_hits: 6 })
    // a vote from the cache names the server that first answered, and nothing says it was cached
    expect(metaOf((await first.tables("votes"))[0]!)).toEqual({ verdict: "1", rationale: null, server: server.baseUrl })
  })

  it("orders: ab asks once per pair; position_consistent is then NULL", async () => {
    server = await startFakeOpenAi({ answer: fakeJudge })
    const run = await runJudge(project(), { baseUrl: server.baseUrl, model: "fake-judge", orders: "ab" })
    expect(server.requests.length).toBe(3)
    const judgments = await run.tables("judgments")
    expect(judgments.map((j) => [j.vote, j.position_consistent])).toEqual([
      ["a", null],
      ["b", null],
      ["a", null]
    ])
  })

  it("an answer that is no verdict is a failures row with the raw text, never a vote", async () => {
    server = await startFakeOpenAi({ answer: fakeJudge })
    const root = project([...PAIRS, { prompt: "p4: hmm?", response_a: "UNSURE one", response_b: "two" }])
    const run = await runJudge(root, { baseUrl: server.baseUrl, model: "fake-judge" })
    const tags = pairTags(await run.tables("pairs"))
    const failures = await run.tables("failures")
    expect(failures.map((f) => [tags.get(String(f.pair_id)), f.order, f.stage, f.raw, f.retryable, f.status])).toEqual([
      ["p4", "ab", "judge", "I cannot decide between them.", false, null],
      ["p4", "ba", "judge", "I cannot decide between them.", false, null]
    ])
    expect(String(failures[0]!.reason)).toMatch(/^unparseable answer: expected "1" \/ "2".*found "I cannot decide/)
    expect((await run.tables("votes")).filter((v) => tags.get(String(v.pair_id)) === "p4")).toEqual([])
    expect([...byPair(await run.tables("judgments"), tags).keys()]).not.toContain("p4")
    expect(run.judge.stats).toMatchObject({ failures: 2, unparseable: 2, retryable: 0, votes: 6 })
  })
})

describe("judge.llm: failures past maxFailureRate", () => {
  it("fail the node, quoting the first failures", async () => {
    server = await startFakeOpenAi({ answer: fakeJudge })
    const root = project([...PAIRS, { prompt: "p4: hmm?", response_a: "UNSURE one", response_b: "two" }])
    const run = await runJudge(root, { baseUrl: server.baseUrl, model: "fake-judge", maxFailureRate: 0.2 })
    expect(run.judge.status).toBe("failed")
    expect(run.error).toContain(
      'node "judge": 2 of 8 judge requests gave no vote\n  expected: at most 20% of them (maxFailureRate)'
    )
    expect(run.error).toMatch(/e\.g\. pair [0-9a-f]{16} \(judge, ab\): unparseable answer/)
  })
})

describe("judge.llm: the API key", () => {
  it("is sent as a bearer token and appears in no file under .wb/, no event and no failure", async () => {
    const key = `sk-test-${Math.random().toString(36).slice(2)}${Date.now()}`
    process.env.WB_TEST_JUDGE_KEY = key
    // p3's b-first request is refused with a body that echoes the key, as some gateways do
    server = await startFakeOpenAi({
      script: (r) =>
        shown(r.prompt)[0] === "Blue."
          ? { status: 401, body: (req) => `{"error": "bad key ${req.authorization}"}` }
          : { answer: fakeJudge(r) }
    })
    const root = project()
    const run = await runJudge(root, { baseUrl: server.baseUrl, model: "fake-judge", apiKeyEnv: "WB_TEST_JUDGE_KEY" })
    delete process.env.WB_TEST_JUDGE_KEY
    expect(server.requests.map((r) => r.authorization)).toContain(`Bearer ${key}`)
    const failures = await run.tables("failures")
    expect(failures.map((f) => [f.status, f.retryable])).toEqual([[401, true]])
    expect(filesContaining(join(root, ".wb"), key)).toEqual([])
    expect(JSON.stringify(run.events)).not.toContain(key)
    expect(JSON.stringify(failures)).not.toContain(key)
  })

  it("an unset key variable stops the node before any request, naming the variable", async () => {
    server = await startFakeOpenAi({ answer: fakeJudge })
    delete process.env.WB_TEST_NO_SUCH_KEY
    const run = await runJudge(project(), { baseUrl: server.baseUrl, model: "m", apiKeyEnv: "WB_TEST_NO_SUCH_KEY" })
    expect(run.judge.status).toBe("failed")
    expect(run.error).toContain(
      'node "judge" (judge.llm), param apiKeyEnv: the environment variable WB_TEST_NO_SUCH_KEY is not set'
    )
    expect(run.error).toContain("fix: export WB_TEST_NO_SUCH_KEY=")
    expect(server.requests.length).toBe(0)
  })
})
