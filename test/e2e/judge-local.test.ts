/**
 * pipelines/judge-local.ts end to end, offline: `wb llm tiny-model` writes a tiny random-weight GGUF,
 * two `wb llm serve` processes serve it on free ports (threads 1), and `wb run` judges a slice of real
 * PandaLM pairs (deduplicated, so every request is distinct) with judge.llm over that pool of two, in
 * both orders. Random weights: this proves the
 * real path (CLI, HTTP, grammar-forced verdicts, logprobs → p_a, both-order bookkeeping, balancing,
 * cache, determinism), not label quality.
 */
import type { ChildProcess } from "node:child_process"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { REPO, startWb, tempDir, type WbResult, wb } from "./cli-spawn.js"

const PIPELINE = join(REPO, "pipelines", "judge-local.ts")
const URL_LINE = /^wb llm serve: (http:\/\/127\.0\.0\.1:\d+\/v1) /m
const CHAT_LINE = /^POST \/v1\/chat\/completions 200 /gm

interface Server {
  readonly url: string
  readonly child: ChildProcess
  readonly done: Promise<WbResult>
  readonly output: () => string
}

async function startServer(modelPath: string, cwd: string): Promise<Server> {
  const s = startWb(["llm", "serve", "--model", modelPath, "--port", "0", "--threads", "1", "--parallel", "1"], { cwd })
  const deadline = Date.now() + 60_000
  let exited: WbResult | undefined
  s.done.then((r) => (exited = r))
  while (Date.now() < deadline) {
    const m = URL_LINE.exec(s.output())
    if (m) return { url: m[1]!, child: s.child, done: s.done, output: s.output }
    if (exited) throw new Error(`wb llm serve exited (${exited.code}): ${exited.stderr}`)
    await new Promise((r) => setTimeout(r, 50))
  }
  s.child.kill("SIGKILL")
  throw new Error(`wb llm serve printed no URL within 60 s: ${s.output()}`)
}

const chatCount = (s: Server) => s.output().match(CHAT_LINE)?.length ?? 0

/** Rows of a query over the artifacts of the run made with `set` (the params the node ran with), as JSON. */
async function query(cwd: string, sql: string, set = setUrls): Promise<Array<Record<string, unknown>>> {
  const r = await wb(["sql", PIPELINE, sql, "--set", set, "--json"], { cwd })
  if (r.code !== 0) throw new Error(`wb sql failed (${r.code}): ${r.stderr}`)
  return JSON.parse(r.stdout) as Array<Record<string, unknown>>
}

const VOTES = `select pair_id, "order", sample, vote, p_a, meta->>'verdict' as verdict, meta->>'server' as server
  from "judge.votes" order by pair_id, "order", sample`

/**
 * Votes equal but for the server that answered (the pool decides). Each server evaluates one sequence at
 * a time (`--parallel 1`): with two sequences batched in one context, llama.cpp's kernels see a batch
 * whose make-up depends on timing, and p_a moved by up to 1.7e-3 between runs under load. One sequence
 * per server and one thread make each evaluation the same arithmetic, so p_a is held exactly.
 */
function expectSameVotes(actual: Array<Record<string, unknown>>, expected: Array<Record<string, unknown>>) {
  const strip = (vs: Array<Record<string, unknown>>) => vs.map(({ server: _, ...v }) => v)
  expect(strip(actual)).toEqual(strip(expected))
}

const COUNTS = `select (select count(*) from "slice")::int as pairs,
  (select count(*) from "judge.judgments")::int as judgments,
  (select count(*) from "judge.judgments" where n = 2 and position_consistent is not null)::int as both_orders,
  (select count(*) from "judge.failures")::int as failures`

let dir: string
let servers: Array<Server> = []
let setUrls: string
const run = (cwd: string, set = setUrls) => wb(["run", PIPELINE, "--set", set], { cwd })

beforeAll(async () => {
  dir = tempDir("wb-judge-local-")
  const model = join(dir, "tiny.gguf")
  const made = await wb(["llm", "tiny-model", model, "--context-length", "2048"], { cwd: dir })
  expect(made.code, made.stderr).toBe(0)
  expect(made.stdout).toContain("157,920 bytes")
  servers = await Promise.all([startServer(model, dir), startServer(model, dir)])
  setUrls = `judge.baseUrl=${JSON.stringify(servers.map((s) => s.url))}`
}, 120_000)

afterAll(async () => {
  for (const s of servers) if (s.child.exitCode === null) s.child.kill("SIGKILL")
})

describe("pipelines/judge-local.ts against two `wb llm serve` servers", () => {
  let first: string
  let votes: Array<Record<string, unknown>>
  let pairs: number

  it("judges every pair of the slice in both orders, over both servers, with no failure", async () => {
    first = tempDir("wb-judge-local-run-")
    const r = await run(first)
    expect(r.code, r.stderr + r.stdout).toBe(0)
    const counts = (await query(first, COUNTS))[0]!
    pairs = Number(counts["pairs"])
    expect(pairs).toBeGreaterThan(5)
    // one judgment per pair, folded from its two votes; not one failure
    expect(counts).toEqual({ pairs, judgments: pairs, both_orders: pairs, failures: 0 })
    votes = await query(first, VOTES)
    // every pair judged once a-first and once b-first
    expect(votes).toHaveLength(2 * pairs)
    const orders = new Map<string, Array<unknown>>()
    for (const v of votes)
      orders.set(v["pair_id"] as string, [...(orders.get(v["pair_id"] as string) ?? []), v["order"]])
    expect(orders.size).toBe(pairs)
    for (const o of orders.values()) expect(o).toEqual(["ab", "ba"])
    expect(votes.every((v) => v["sample"] === 0)).toBe(true)
    // the grammar forces every verdict; the vote is the verdict oriented back to the pair's sides
    for (const v of votes) {
      expect(["1", "2"]).toContain(v["verdict"])
      const shownFirst = v["order"] === "ab" ? "a" : "b"
      const shownSecond = v["order"] === "ab" ? "b" : "a"
      expect(v["vote"]).toBe(v["verdict"] === "1" ? shownFirst : shownSecond)
      // the server's logprobs over "1"/"2" give p_a
      expect(typeof v["p_a"]).toBe("number")
      expect(v["p_a"] as number).toBeGreaterThan(0)
      expect(v["p_a"] as number).toBeLessThan(1)
    }
    // the pool balanced the requests over both servers, and none was asked twice
    expect(servers.map(chatCount).every((n) => n > 0)).toBe(true)
    expect(chatCount(servers[0]!) + chatCount(servers[1]!)).toBe(2 * pairs)
    expect(new Set(votes.map((v) => v["server"])).size).toBe(2)
  })

  it("gives identical votes at temperature 0 in a fresh workspace (asked again, not cached)", async () => {
    const before = chatCount(servers[0]!) + chatCount(servers[1]!)
    const second = tempDir("wb-judge-local-run-")
    const r = await run(second)
    expect(r.code, r.stderr).toBe(0)
    expect(chatCount(servers[0]!) + chatCount(servers[1]!) - before).toBe(2 * pairs)
    const again = await query(second, VOTES)
    expectSameVotes(again, votes)
  })

  it("re-runs from the response cache without a request when the node must run again", async () => {
    const before = chatCount(servers[0]!) + chatCount(servers[1]!)
    // other base URLs (the same servers, reversed): the node's params change, the model's cache does not
    const reversed = `judge.baseUrl=${JSON.stringify([...servers].reverse().map((s) => s.url))}`
    const r = await run(first, reversed)
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/judge: 0 requests, \d+ cache hits/)
    expect(chatCount(servers[0]!) + chatCount(servers[1]!)).toBe(before)
    // from the cache: the very same numbers
    const strip = (vs: Array<Record<string, unknown>>) => vs.map(({ server: _, ...v }) => v)
    expect(strip(await query(first, VOTES, reversed))).toEqual(strip(votes))
  })

  it("stops each server cleanly on SIGTERM", async () => {
    for (const s of servers) s.child.kill("SIGTERM")
    const results = await Promise.all(servers.map((s) => s.done))
    for (const r of results) {
      expect(r.stdout).toMatch(/wb llm serve: stopped\n$/)
      expect(r.stderr).toBe("")
      // an interrupted main fiber exits 130, as a shell reports a program stopped by a signal
      expect(r.code).toBe(130)
    }
  })
})
