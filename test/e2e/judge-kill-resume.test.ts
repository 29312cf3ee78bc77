/**
 * A judge run killed mid-judging resumes without repeating a request: a real `wb run` (a child
 * process) judges 12 pairs in both orders on a local fake OpenAI server started here, which answers
 * the first 10 requests, holds the next ones unanswered and, once the 10 answers are in the child's
 * response cache file (written as they arrive, never closed), has the child SIGKILLed; a second `wb run`
 * on the same workspace then asks only what was never answered (the server counts every request), and
 * its votes are complete.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { fakeJudge, shown } from "../nodes/judge-llm-helpers.js"
import { type FakeRequest, type FakeServer, startFakeOpenAi } from "../support/fake-openai.js"
import { startWb, tempDir, wb } from "./cli-spawn.js"

let server: FakeServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

const PAIRS = Array.from({ length: 12 }, (_, i) => ({
  prompt: `p${i}: question ${i}?`,
  response_a: i % 3 === 0 ? `GOOD answer ${i}` : `answer a${i}`,
  response_b: i % 3 === 1 ? `GOOD answer ${i}` : `answer b${i}`
}))
const PLANNED = PAIRS.length * 2
const ANSWERED_BEFORE_KILL = 10

/** A request as the judge means it: the two outputs in the order shown, and the sample's seed. */
const what = (r: FakeRequest) => `${shown(r.prompt).join(" | ")} #${String(r.body?.seed)}`

type NodeJson = { name: string; status: string; stats?: Record<string, number> }

describe("a judge run killed mid-judging", () => {
  it("resumes with zero repeated requests and complete votes", async () => {
    let phase: "first" | "second" = "first"
    const answered: Array<string> = []
    const arrived: Array<{ phase: string; what: string }> = []
    let kill: () => void = () => undefined
    server = await startFakeOpenAi({
      script: async (r) => {
        arrived.push({ phase, what: what(r) })
        if (phase === "first" && r.index >= ANSWERED_BEFORE_KILL) {
          // the run is mid-judging: kill it (once) while this request waits, never answered
          if (r.index === ANSWERED_BEFORE_KILL) void killOnceCommitted()
          return { hang: true }
        }
        // answered in arrival order; the judge's client has it once the body is sent
        answered.push(what(r))
        return { answer: fakeJudge(r) }
      }
    })
    const cwd = tempDir("wb-kill-judge-")
    // the answers the killed run received must be in its response cache before the kill, written as they
    // came (the process never closes the cache); wait for them (at most 10 s), as a loaded machine may lag
    const committed = () => {
      const dir = join(cwd, ".wb", "llm-cache")
      if (!existsSync(dir)) return 0
      return readdirSync(dir)
        .map(
          (f) =>
            readFileSync(join(dir, f), "utf8")
              .split("\n")
              .filter((l) => l !== "").length
        )
        .reduce((a, b) => a + b, 0)
    }
    const killOnceCommitted = async () => {
      const deadline = Date.now() + 10_000
      while (committed() < ANSWERED_BEFORE_KILL && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
      kill()
    }
    writeFileSync(join(cwd, "package.json"), "{}\n")
    writeFileSync(join(cwd, "pairs.jsonl"), `${PAIRS.map((p) => JSON.stringify(p)).join("\n")}\n`)
    writeFileSync(
      join(cwd, "judge.yaml"),
      `pipeline: judged
nodes:
  pairs: { use: load.table, with: { path: pairs.jsonl } }
  judge: { use: judge.llm, in: { pairs: pairs }, with: { baseUrl: "${server.baseUrl}", model: m, concurrency: 2, maxRetries: 0 } }
`
    )

    const first = startWb(["run", "judge.yaml"], { cwd })
    kill = () => first.child.kill("SIGKILL")
    const killed = await first.done
    expect(killed.signal).toBe("SIGKILL")
    const firstAnswered = new Set(answered)
    expect(firstAnswered.size).toBe(ANSWERED_BEFORE_KILL)
    // at most `concurrency` requests were in flight, unanswered, when it died
    const inFlight = arrived.filter((a) => !firstAnswered.has(a.what)).map((a) => a.what)
    expect(inFlight.length).toBeGreaterThan(0)
    expect(inFlight.length).toBeLessThanOrEqual(2)

    phase = "second"
    const second = await wb(["run", "judge.yaml", "--json"], { cwd })
    expect(second.code, second.stderr).toBe(0)
    const judge = (JSON.parse(second.stdout) as { nodes: Array<NodeJson> }).nodes.find((n) => n.name === "judge")!
    expect(judge.status).toBe("ran")
    // every answer the killed run received came from the cache; only the rest were asked
    expect(judge.stats).toMatchObject({
      requests_planned: PLANNED,
      cache_hits: ANSWERED_BEFORE_KILL,
      requests: PLANNED - ANSWERED_BEFORE_KILL,
      votes: PLANNED,
      failures: 0,
      judgments: PAIRS.length
    })
    const secondAsked = arrived.filter((a) => a.phase === "second").map((a) => a.what)
    expect(secondAsked.filter((w) => firstAnswered.has(w))).toEqual([])
    // over both runs, each pair in each order was answered exactly once
    expect(answered.length).toBe(PLANNED)
    expect(new Set(answered).size).toBe(PLANNED)
    // the only requests that arrived twice are the ones the killed run never got an answer to
    const twice = [...new Set(arrived.map((a) => a.what))].filter((w) => arrived.filter((a) => a.what === w).length > 1)
    expect(twice.sort()).toEqual([...inFlight].sort())

    // the votes as a user reads them: every pair in both orders (order is a SQL keyword; --columns takes it)
    const shownVotes = await wb(
      [
        "show",
        "judge.yaml",
        "judge",
        "--table",
        "votes",
        "--columns",
        "order,sample",
        "--format",
        "json",
        "--limit",
        "100"
      ],
      { cwd }
    )
    expect(shownVotes.code, shownVotes.stderr).toBe(0)
    const orders = (JSON.parse(shownVotes.stdout) as Array<{ order: string; sample: number }>).map(
      (v) => `${v.order}${v.sample}`
    )
    expect(orders.sort()).toEqual([...Array(PAIRS.length).fill("ab0"), ...Array(PAIRS.length).fill("ba0")])
  }, 60_000)
})
