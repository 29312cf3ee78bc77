/**
 * What judge.llm sends and writes across runs, in a real pipeline against real local servers (the fake
 * OpenAI server): a re-run answered wholly by the response cache writes the same bytes (so the nodes
 * below it stay cached), n samples carry n different seeds, and the verdict choices go out in every
 * server's own field except to api.openai.com.
 */
import { readFileSync } from "node:fs"
import { afterEach, describe, expect, it } from "vitest"
import { sendsChoices } from "../../nodes/judge/llm-params.js"
import { type FakeServer, startFakeOpenAi } from "../support/fake-openai.js"
import { fakeJudge, metaOf, project, runJudge, shown } from "./judge-llm-helpers.js"

let servers: Array<FakeServer> = []
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()))
  servers = []
})
const start = async () => {
  const server = await startFakeOpenAi({ answer: fakeJudge })
  servers.push(server)
  return server
}

describe("judge.llm: a re-run from the response cache", () => {
  it("writes byte-identical votes and judgments, naming the servers that first answered; below it stays cached", async () => {
    const [one, two] = [await start(), await start()]
    const root = project()
    const params = { baseUrl: [one.baseUrl, two.baseUrl], model: "m", concurrency: 1 }
    const first = await runJudge(root, params)
    expect(first.status).toBe("ok")
    // both servers answered (least outstanding, one request each at a time), so meta.server varies
    expect([one.requests.length, two.requests.length].every((n) => n > 0)).toBe(true)
    const servedBy = (await first.tables("votes")).map((v) => metaOf(v).server)
    expect(new Set(servedBy)).toEqual(new Set([one.baseUrl, two.baseUrl]))
    const bytes = (run: typeof first) => ["votes", "judgments"].map((t) => readFileSync(run.file(t)))
    const before = bytes(first)

    // --force: the judge runs again, every answer from the cache; the same bytes come out
    const forced = await runJudge(root, params, { force: true })
    expect(forced.judge.status).toBe("ran")
    expect(forced.judge.stats).toMatchObject({ requests: 0, cache_hits: 6, votes: 6 })
    expect(bytes(forced)).toEqual(before)
    expect((await forced.tables("votes")).map((v) => metaOf(v).server)).toEqual(servedBy)

    // --from judge: the judge re-runs, its outputs are the same, so the SQL node below it does not
    const from = await runJudge(root, params, { from: "judge" })
    expect([from.judge.status, from.count]).toEqual(["ran", "cached"])
    expect(one.requests.length + two.requests.length).toBe(6)
  })
})

describe("judge.llm: n samples", () => {
  it("sends each sample its own seed (seed + sample index), so a seed-honouring server answers each anew", async () => {
    const server = await start()
    const run = await runJudge(project(), {
      baseUrl: server.baseUrl,
      model: "m",
      orders: "ab",
      samples: 3,
      temperature: 0.7,
      seed: 7
    })
    expect(run.status).toBe("ok")
    expect(server.requests.length).toBe(9)
    const seedsByPrompt = new Map<string, Array<unknown>>()
    for (const r of server.requests) {
      const key = shown(r.prompt).join(" | ")
      seedsByPrompt.set(key, [...(seedsByPrompt.get(key) ?? []), r.body?.seed])
    }
    expect([...seedsByPrompt.values()].map((s) => [...s].sort())).toEqual([
      [7, 8, 9],
      [7, 8, 9],
      [7, 8, 9]
    ])
    // the votes keep their sample index; the raters table the user's seed
    expect((await run.tables("votes")).map((v) => v.sample).sort()).toEqual([0, 0, 0, 1, 1, 1, 2, 2, 2])
    expect(JSON.parse(String((await run.tables("raters"))[0]!.attributes)).seed).toBe(7)
  })
})

describe("judge.llm: the verdict choices on the wire", () => {
  it("go out as llama.cpp's grammar and vLLM's guided_choice and structured_outputs; none with grammar: false", async () => {
    const server = await start()
    await runJudge(project(), { baseUrl: server.baseUrl, model: "m", orders: "ab" })
    expect(server.requests[0]!.body).toMatchObject({
      grammar: 'root ::= "1" | "2"',
      guided_choice: ["1", "2"],
      structured_outputs: { choice: ["1", "2"] }
    })
    const plain = await start()
    const run = await runJudge(project(), { baseUrl: plain.baseUrl, model: "m", orders: "ab", grammar: false })
    expect(run.status).toBe("ok")
    expect(
      plain.requests.map((r) => Object.keys(r.body ?? {}).filter((k) => /grammar|guided|structured/.test(k)))
    ).toEqual([[], [], []])
  })

  it("are not sent by default to api.openai.com, which refuses fields it does not know", () => {
    expect(sendsChoices(null, ["http://127.0.0.1:8080/v1"])).toBe(true)
    expect(sendsChoices(null, ["https://api.openai.com/v1"])).toBe(false)
    // one OpenAI server in a pool is enough: a request may go to any of them
    expect(sendsChoices(null, ["http://10.0.0.1:8000/v1", "https://api.openai.com/v1"])).toBe(false)
    expect(sendsChoices(true, ["https://api.openai.com/v1"])).toBe(true)
    expect(sendsChoices(false, ["http://127.0.0.1:8080/v1"])).toBe(false)
  })
})
