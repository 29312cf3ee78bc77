/**
 * judge.llm's other templates in a real pipeline against the fake OpenAI server: reference-guided
 * (the judge's own answer first, then the comparison with it in view), UltraFeedback aspects (ratings,
 * no votes), and user template files (slots filled, JSON verdicts with rationale, slot mistakes
 * refused before any request).
 */
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { type FakeRequest, type FakeServer, startFakeOpenAi } from "../support/fake-openai.js"
import { fakeJudge, metaOf, PAIRS, project, type Row, runJudge, shown } from "./judge-llm-helpers.js"

let server: FakeServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

const tagOf = (prompt: string) => /p\d/.exec(prompt)![0]
const tags = (pairs: ReadonlyArray<Row>) => new Map(pairs.map((p) => [String(p.pair_id), String(p.prompt).slice(0, 2)]))
const isReferenceRequest = (r: FakeRequest) => r.prompt.startsWith("Answer the following instruction")

describe("template: reference", () => {
  it("asks for the judge's own answer once per pair, then compares with it in view; a failed one leaves its pair unasked", async () => {
    server = await startFakeOpenAi({
      script: (r) =>
        isReferenceRequest(r)
          ? tagOf(r.prompt) === "p2"
            ? { status: 500 }
            : { answer: `my own answer to ${tagOf(r.prompt)}` }
          : { answer: fakeJudge(r) }
    })
    const run = await runJudge(project(), { baseUrl: server.baseUrl, model: "m", template: "reference", maxRetries: 0 })
    const refs = server.requests.filter(isReferenceRequest)
    const verdicts = server.requests.filter((r) => !isReferenceRequest(r))
    expect(refs.map((r) => tagOf(r.prompt)).sort()).toEqual(["p1", "p2", "p3"])
    // p2's reference failed: its two comparisons were not asked
    expect(verdicts.length).toBe(4)
    expect(
      verdicts.every(
        (r) => r.prompt.includes(`## Reference answer`) && r.prompt.includes(`my own answer to ${tagOf(r.prompt)}`)
      )
    ).toBe(true)
    // the reference answer is written before any comparison is asked
    expect(Math.max(...refs.map((r) => r.index))).toBeLessThan(Math.min(...verdicts.map((r) => r.index)))
    const t = tags(await run.tables("pairs"))
    const votes = await run.tables("votes")
    expect(votes.map((v) => [t.get(String(v.pair_id)), v.order, v.vote, metaOf(v).reference])).toEqual([
      ["p1", "ab", "a", "my own answer to p1"],
      ["p1", "ba", "a", "my own answer to p1"],
      ["p3", "ab", "a", "my own answer to p3"],
      ["p3", "ba", "b", "my own answer to p3"]
    ])
    const failures = await run.tables("failures")
    expect(failures.map((f) => [t.get(String(f.pair_id)), f.stage, f.order, f.status, f.retryable])).toEqual([
      ["p2", "reference", null, 500, true],
      ["p2", "judge", "ab", null, true],
      ["p2", "judge", "ba", null, true]
    ])
    expect(failures[1]!.reason).toBe("not asked: the reference answer failed")
    expect(run.judge.stats).toMatchObject({ requests_planned: 9, retryable: 3 })
  })
})

describe("template: aspects", () => {
  it("rates both outputs on the four aspects in both orders, oriented to the pair's sides", async () => {
    server = await startFakeOpenAi({
      answer: (r) => {
        const m = /## Text 1\n\n([\s\S]*?)\n\n## Text 2\n\n([\s\S]*?)\n/.exec(r.prompt)!
        const score = (t: string) => (t.startsWith("GOOD") ? 5 : 2)
        return `### Output for Text 1\nRating: ${score(m[1]!)}\nRationale: about ${m[1]}\n\n### Output for Text 2\nRating: ${score(m[2]!)}\nRationale: about ${m[2]}`
      }
    })
    const run = await runJudge(project(), { baseUrl: server.baseUrl, model: "m", template: "aspects" })
    expect(server.requests.length).toBe(3 * 2 * 4)
    const ratings = await run.tables("ratings")
    expect(ratings.length).toBe(3 * 2 * 4 * 2)
    const t = tags(await run.tables("pairs"))
    // p1's a is GOOD in both orders: 5 for side a, 2 for side b, on every aspect, with its own rationale
    const p1 = ratings.filter((r) => t.get(String(r.pair_id)) === "p1")
    expect(new Set(p1.map((r) => `${r.side} ${r.score} ${r.rationale}`))).toEqual(
      new Set(["a 5 about GOOD Paris.", "b 2 about Lyon."])
    )
    expect(new Set(ratings.map((r) => r.aspect))).toEqual(
      new Set(["helpfulness", "honesty", "instruction_following", "truthfulness"])
    )
    expect(
      ratings.every((r) => r.scale_min === 1 && r.scale_max === 5 && r.rater === "m" && r.rater_kind === "ai")
    ).toBe(true)
    expect(new Set(ratings.map((r) => `${r.order} ${r.sample}`))).toEqual(new Set(["ab 0", "ba 0"]))
    expect([(await run.tables("votes")).length, (await run.tables("judgments")).length]).toEqual([0, 0])
    expect(run.judge.stats).toMatchObject({ ratings: 48, failures: 0 })
  })
})

describe("template: a file with slots", () => {
  it("fills the slots, keeps literal braces, and reads a JSON verdict with its rationale", async () => {
    server = await startFakeOpenAi({
      answer: (r) =>
        JSON.stringify({ verdict: r.prompt.includes("FIRST: GOOD") ? "1" : "2", rationale: "checked the facts" })
    })
    const root = project()
    writeFileSync(
      join(root, "judge.txt"),
      'Task: {prompt}\nFIRST: {response_1}\nSECOND: {response_2}\nReply as {"verdict": "1" or "2", "rationale": why}; {{prompt}} is literal.\n'
    )
    const run = await runJudge(root, { baseUrl: server.baseUrl, model: "m", template: "judge.txt", orders: "ab" })
    expect(server.requests[0]!.prompt).toBe(
      `Task: ${PAIRS[0]!.prompt}\nFIRST: GOOD Paris.\nSECOND: Lyon.\nReply as {"verdict": "1" or "2", "rationale": why}; {prompt} is literal.\n`
    )
    // a template file may ask for reasoning: no grammar restricts its answer
    expect(server.requests[0]!.body?.grammar).toBeUndefined()
    const votes = await run.tables("votes")
    expect(votes.map((v) => [v.vote, metaOf(v).rationale])).toEqual([
      ["a", "checked the facts"],
      ["b", "checked the facts"],
      ["b", "checked the facts"]
    ])
  })

  it("unknown and missing slots stop the node before any request, with did-you-mean", async () => {
    server = await startFakeOpenAi({ answer: () => "1" })
    const root = project()
    writeFileSync(join(root, "bad.txt"), "{prompt}\n{respone_1}\n{response_2}\n")
    const run = await runJudge(root, { baseUrl: server.baseUrl, model: "m", template: "bad.txt" })
    expect(run.judge.status).toBe("failed")
    expect(run.error).toContain(
      `template file ${join(root, "bad.txt")}: unknown slots {respone_1}; missing slots {response_1}`
    )
    expect(run.error).toContain("fix: rename {respone_1} to {response_1}; write {{ and }} for literal braces")
    const typo = await runJudge(root, { baseUrl: server.baseUrl, model: "m", template: "pairwize" })
    expect(typo.error).toContain('param template: "pairwize" is no built-in template')
    expect(typo.error).toContain('did you mean "pairwise"?')
    expect(server.requests.length).toBe(0)
  })
})

describe("the built-in pairwise request", () => {
  it("asks for 1 or 2 with a grammar, logprobs for p_a and a short answer; not to api.openai.com", async () => {
    server = await startFakeOpenAi({ answer: fakeJudge })
    await runJudge(project(), { baseUrl: server.baseUrl, model: "m", orders: "ab" })
    const body = server.requests[0]!.body!
    expect([body.grammar, body.logprobs, body.top_logprobs, body.max_tokens, body.temperature]).toEqual([
      'root ::= "1" | "2"',
      true,
      5,
      16,
      0
    ])
    expect(shown(server.requests[0]!.prompt)).toEqual(["GOOD Paris.", "Lyon."])
  })
})
