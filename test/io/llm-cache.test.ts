/**
 * The durable response cache behind the live client: a re-run asks nothing it already has (also
 * after a SIGKILL mid-run), failures are never cached, the key does not depend on the servers or the
 * API key, a torn last line is skipped, and no file under the workspace ever holds the key.
 */
import { Effect, Redacted } from "effect"
import { spawn } from "node:child_process"
import { appendFileSync, readdirSync, readFileSync, statSync } from "node:fs"
import { join, resolve } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { type FakeServer, startFakeOpenAi } from "../support/fake-openai.js"
import { chatAll, chatRequest, httpConfig, tempWorkspace, withLlmClient } from "../support/llm-client.js"

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

const prompts = (n: number) => Array.from({ length: n }, (_, i) => chatRequest(`prompt ${i}`))
const cacheFiles = (dir: string) => readdirSync(join(dir, "llm-cache")).map((f) => join(dir, "llm-cache", f))
const filesUnder = (dir: string): Array<string> =>
  readdirSync(dir).flatMap((name) => {
    const p = join(dir, name)
    return statSync(p).isDirectory() ? filesUnder(p) : [p]
  })

describe("re-runs", () => {
  it("a second run makes no request and returns the same answers, marked cached", async () => {
    const server = await start({ answer: (r) => `answer to ${r.prompt}` })
    const dir = tempWorkspace()
    const config = httpConfig(server.baseUrl)
    const first = await withLlmClient(dir, config, (c) => chatAll(c, prompts(10)))
    expect(server.requests).toHaveLength(10)
    const second = await withLlmClient(dir, config, (c) =>
      Effect.map(chatAll(c, prompts(10)), (outcomes) => ({ outcomes, usage: c.usage() }))
    )
    expect(server.requests).toHaveLength(10)
    expect(second.usage).toMatchObject({ requests: 0, cacheHits: 10, promptTokens: 0, failures: 0 })
    expect(second.outcomes.map((o) => o._tag === "Answered" && o.text)).toEqual(
      first.map((o) => o._tag === "Answered" && o.text)
    )
    expect(second.outcomes.every((o) => o._tag === "Answered" && o.cached)).toBe(true)
    expect(first.every((o) => o._tag === "Answered" && !o.cached)).toBe(true)
  })

  it("keeps the cache when the pool grows and the key changes", async () => {
    const server = await start()
    const other = await start()
    const dir = tempWorkspace()
    await withLlmClient(dir, httpConfig(server.baseUrl), (c) => chatAll(c, prompts(5)))
    const again = await withLlmClient(
      dir,
      httpConfig([other.baseUrl, server.baseUrl], { apiKey: Redacted.make("sk-new") }),
      (c) => chatAll(c, prompts(5))
    )
    expect(again.every((o) => o._tag === "Answered" && o.cached)).toBe(true)
    expect(server.requests.length + other.requests.length).toBe(5)
  })

  it("asks again for what failed: failures are never cached", async () => {
    const server = await start({ script: (r) => (r.prompt === "prompt 2" ? { status: 400 } : { answer: "1" }) })
    const dir = tempWorkspace()
    const first = await withLlmClient(dir, httpConfig(server.baseUrl), (c) => chatAll(c, prompts(4)))
    expect(first.map((o) => o._tag)).toEqual(["Answered", "Answered", "Failed", "Answered"])
    await withLlmClient(dir, httpConfig(server.baseUrl), (c) => chatAll(c, prompts(4)))
    expect(server.requests.map((r) => r.prompt).slice(4)).toEqual(["prompt 2"])
    expect(readFileSync(cacheFiles(dir)[0]!, "utf8").trim().split("\n")).toHaveLength(3)
  })

  it("keys on everything that changes an answer", async () => {
    const server = await start()
    const base = chatRequest("same prompt")
    const variants = [
      base,
      { ...base, temperature: 0.5 },
      { ...base, maxTokens: 5 },
      { ...base, sample: 1 },
      { ...base, seed: 7 },
      { ...base, topLogprobs: 2 },
      { ...base, choices: ["1", "2"] },
      { ...base, messages: [{ role: "system" as const, content: "same prompt" }] }
    ]
    const keys = await withLlmClient(tempWorkspace(), httpConfig(server.baseUrl), (c) =>
      Effect.as(
        chatAll(c, variants),
        variants.map((v) => c.cacheKey(v))
      )
    )
    expect(new Set(keys).size).toBe(variants.length)
    expect(keys.every((k) => /^[0-9a-f]{64}$/.test(k))).toBe(true)
    expect(server.requests).toHaveLength(variants.length)
    const otherModel = await withLlmClient(tempWorkspace(), httpConfig(server.baseUrl, { model: "other" }), (c) =>
      Effect.succeed(c.cacheKey(base))
    )
    expect(otherModel).not.toBe(keys[0])
  })

  it("asks once for identical requests in flight together", async () => {
    const server = await start({ script: () => ({ answer: "1", delayMs: 50 }) })
    const outcomes = await withLlmClient(tempWorkspace(), httpConfig(server.baseUrl), (c) =>
      chatAll(
        c,
        Array.from({ length: 5 }, () => chatRequest("twin")),
        5
      )
    )
    expect(server.requests).toHaveLength(1)
    expect(outcomes.every((o) => o._tag === "Answered" && o.text === "1")).toBe(true)
  })

  it("a request waiting on a twin whose caller gave up asks for itself", async () => {
    const server = await start({ script: () => ({ answer: "1", delayMs: 200 }) })
    const [first, second] = await withLlmClient(tempWorkspace(), httpConfig(server.baseUrl), (c) =>
      Effect.all([Effect.timeoutOption(c.chat(chatRequest("twin")), 50), c.chat(chatRequest("twin"))], {
        concurrency: 2
      })
    )
    expect(first).toMatchObject({ _tag: "None" })
    expect(second).toMatchObject({ _tag: "Answered", text: "1" })
    expect(server.requests).toHaveLength(2)
  })

  it("skips uncached requests after stop(), still answering from the cache", async () => {
    const server = await start()
    const dir = tempWorkspace()
    await withLlmClient(dir, httpConfig(server.baseUrl), (c) => c.chat(chatRequest("prompt 0")))
    const result = await withLlmClient(dir, httpConfig(server.baseUrl), (c) =>
      Effect.gen(function* () {
        c.stop("budget: maxRequests 0 reached")
        return { outcomes: yield* chatAll(c, prompts(2)), usage: c.usage() }
      })
    )
    expect(result.outcomes[0]).toMatchObject({ _tag: "Answered", cached: true })
    expect(result.outcomes[1]).toEqual({
      _tag: "Failed",
      reason: "budget: maxRequests 0 reached",
      status: null,
      raw: null,
      skipped: true
    })
    expect(server.requests).toHaveLength(1)
    expect(result.usage).toMatchObject({ requests: 0, failures: 1, cacheHits: 1 })
  })
})

describe("on disk", () => {
  it("writes each answer while the client is still open", async () => {
    const server = await start()
    const dir = tempWorkspace()
    const seen = await withLlmClient(dir, httpConfig(server.baseUrl), (c) =>
      Effect.gen(function* () {
        yield* c.chat(chatRequest("prompt 0"))
        yield* Effect.sleep(50)
        return readFileSync(cacheFiles(dir)[0]!, "utf8")
      })
    )
    expect(seen).toContain('"t":"1"')
  })

  it("skips a torn last line and keeps appending after it", async () => {
    const server = await start()
    const dir = tempWorkspace()
    const config = httpConfig(server.baseUrl)
    await withLlmClient(dir, config, (c) => chatAll(c, prompts(3)))
    const file = cacheFiles(dir)[0]!
    appendFileSync(file, '{"k":"0123","t":"half an ans')
    const more = [...prompts(5)]
    const second = await withLlmClient(dir, config, (c) => chatAll(c, more))
    expect(second.map((o) => o._tag === "Answered" && o.cached)).toEqual([true, true, true, false, false])
    await withLlmClient(dir, config, (c) => chatAll(c, more))
    expect(server.requests).toHaveLength(5)
  })

  it("never writes the API key or URL credentials, and never shows them", async () => {
    const key = "sk-live-SECRET-abc123"
    // a misbehaving proxy that echoes the request's headers back in its error body
    const server = await start({
      script: (r) =>
        r.prompt.endsWith("3")
          ? { status: 500, body: (req) => `bad gateway; you sent ${req.authorization}` }
          : { answer: "1" }
    })
    const dir = tempWorkspace()
    const url = server.baseUrl.replace("http://", "http://admin:pw-xyz-987@")
    const outcomes = await withLlmClient(dir, httpConfig([url], { apiKey: Redacted.make(key), maxRetries: 1 }), (c) =>
      chatAll(c, prompts(5))
    )
    expect(server.requests.every((r) => r.authorization === `Bearer ${key}`)).toBe(true)
    const failure = outcomes[3]!
    expect(failure).toMatchObject({ _tag: "Failed", raw: "bad gateway; you sent Bearer [redacted]" })
    const shown = JSON.stringify(outcomes)
    for (const secret of [key, "pw-xyz-987", "admin:"]) expect(shown).not.toContain(secret)
    const files = filesUnder(dir)
    expect(files.length).toBeGreaterThan(0)
    for (const f of files) {
      const text = readFileSync(f, "utf8")
      expect(text).not.toContain(key)
      expect(text).not.toContain("pw-xyz-987")
    }
  })
})

describe("a run killed mid-way", () => {
  it("resumes asking only for what it had not been answered", async () => {
    // the 9th request hangs: the child is stuck there, with 8 answers, when it is killed
    const server = await start({ script: (r) => (r.index === 8 ? { hang: true } : { answer: `a${r.index}` }) })
    const dir = tempWorkspace()
    const child = spawn(
      process.execPath,
      ["--import", "tsx", resolve(import.meta.dirname, "../fixtures/llm-chat-child.ts"), dir, server.baseUrl, "20"],
      { stdio: ["ignore", "pipe", "pipe"] }
    )
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d))
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d))
    const exited = new Promise<NodeJS.Signals | null>((res) => child.on("close", (_code, signal) => res(signal)))
    const deadline = Date.now() + 30_000
    while (server.requests.length < 9 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    expect(stdout.trim().split("\n"), stderr).toHaveLength(8)
    // the cache promises answers on disk within a second of arriving, even with no fsync
    await new Promise((r) => setTimeout(r, 1100))
    child.kill("SIGKILL")
    expect(await exited).toBe("SIGKILL")

    const rerun = await startFakeOpenAi()
    servers.push(rerun)
    const outcomes = await withLlmClient(dir, httpConfig(rerun.baseUrl), (c) => chatAll(c, prompts(20), 1))
    expect(rerun.requests.map((r) => r.prompt)).toEqual(Array.from({ length: 12 }, (_, i) => `prompt ${i + 8}`))
    expect(outcomes.slice(0, 8).map((o) => o._tag === "Answered" && o.text)).toEqual(
      Array.from({ length: 8 }, (_, i) => `a${i}`)
    )
  })
})
