/**
 * `wb run --retry-failed` from the command line: a YAML pipeline judging pairs on a local fake OpenAI
 * server whose first answers to two requests are HTTP 500; a plain re-run keeps the cached failures,
 * `--retry-failed` makes exactly the two failed requests again and ends with none.
 */
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { type FakeServer, startFakeOpenAi } from "../support/fake-openai.js"
import { fakeJudge, PAIRS, shown } from "../nodes/judge-llm-helpers.js"
import { tempDir, wb } from "./cli-spawn.js"

let server: FakeServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

type NodeJson = { name: string; status: string; stats?: Record<string, number> }
const judgeNode = (stdout: string) =>
  (JSON.parse(stdout) as { nodes: Array<NodeJson> }).nodes.find((n) => n.name === "judge")!

describe("wb run --retry-failed", () => {
  it("re-runs the judge for its failed requests only", async () => {
    let failing = true
    server = await startFakeOpenAi({
      script: (r) =>
        failing && ["GOOD Paris.", "Blue."].includes(shown(r.prompt)[0]) ? { status: 500 } : { answer: fakeJudge(r) }
    })
    const cwd = tempDir()
    writeFileSync(join(cwd, "package.json"), "{}\n")
    writeFileSync(join(cwd, "pairs.jsonl"), `${PAIRS.map((p) => JSON.stringify(p)).join("\n")}\n`)
    writeFileSync(
      join(cwd, "judge.yaml"),
      `pipeline: judged
nodes:
  pairs: { use: load.table, with: { path: pairs.jsonl } }
  judge: { use: judge.llm, in: { pairs: pairs }, with: { baseUrl: "${server.baseUrl}", model: m, maxRetries: 0 } }
`
    )
    const first = await wb(["run", "judge.yaml", "--json"], { cwd })
    expect(first.code).toBe(0)
    expect(judgeNode(first.stdout).stats).toMatchObject({ failures: 2, retryable: 2, votes: 4 })
    expect(server.requests.length).toBe(6)

    // a plain run keeps the cached failures, and its summary says how to retry them
    const plain = await wb(["run", "judge.yaml"], { cwd })
    expect(plain.stdout).toMatch(/\n {2}judge +judge\.llm +3 → 3 +0 +0 +cached/)
    expect(plain.stdout).toContain("model usage\n  judge: 6 requests, 0 cache hits,")
    expect(plain.stdout).toContain('  wb run judge.yaml --retry-failed    # "judge" has 2 failures to retry\n')
    expect(server.requests.length).toBe(6)

    failing = false
    const retried = await wb(["run", "judge.yaml", "--retry-failed", "--json"], { cwd })
    expect(retried.code).toBe(0)
    expect(judgeNode(retried.stdout)).toMatchObject({
      status: "ran",
      stats: { failures: 0, retryable: 0, votes: 6, requests: 2 }
    })
    expect(server.requests.length).toBe(8)
  }, 60_000)
})
