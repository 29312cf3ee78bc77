/**
 * The OpenAI-compatible server of `wb llm serve`, in process, over the tiny random-weight GGUF the test
 * writes (threads 1): the response shapes an OpenAI client reads, grammar-forced verdicts with logprobs
 * over the allowed tokens, unit-length embeddings, and a 400 that says what is wrong with a bad body.
 */
import { Effect, Exit, Scope } from "effect"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { openGgufEngine } from "../../workbench/io/llm/gguf-engine.js"
import { serveGguf } from "../../workbench/io/llm/serve.js"
import { writeTinyGguf } from "../../workbench/io/llm/tiny-gguf.js"

let scope: Scope.Closeable
let base: string
const lines: Array<string> = []

beforeAll(async () => {
  const modelPath = join(mkdtempSync(join(tmpdir(), "wb-serve-")), "tiny.gguf")
  writeTinyGguf(modelPath, { seed: 42 })
  scope = Effect.runSync(Scope.make())
  const server = await Effect.runPromise(
    Effect.gen(function* () {
      const engine = yield* openGgufEngine({ modelPath, threads: 1, contextSize: 512, sequences: 2 }, "test")
      return yield* serveGguf(engine, { host: "127.0.0.1", port: 0, log: (l) => lines.push(l) })
    }).pipe(Scope.provide(scope))
  )
  base = `${server.url}/v1`
})
afterAll(async () => {
  if (scope) await Effect.runPromise(Scope.close(scope, Exit.void))
})

const post = async (path: string, body: unknown) => {
  const r = await fetch(base + path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body)
  })
  return { status: r.status, json: (await r.json()) as any }
}
const judge = {
  messages: [
    { role: "system", content: "Reply 1 or 2." },
    { role: "user", content: "Answer 1: Paris. Answer 2: Rome. Which is better?" }
  ],
  temperature: 0,
  max_tokens: 5,
  logprobs: true,
  top_logprobs: 5,
  grammar: 'root ::= "1" | "2"'
}

describe("wb llm serve (in process)", () => {
  it("answers /v1/chat/completions in the OpenAI shape", async () => {
    const { status, json } = await post("/chat/completions", {
      model: "whatever",
      messages: [{ role: "user", content: "Say hi" }],
      temperature: 0,
      max_tokens: 8
    })
    expect(status).toBe(200)
    expect(json).toMatchObject({
      object: "chat.completion",
      model: "tiny-random-llama",
      choices: [{ index: 0, message: { role: "assistant" }, logprobs: null, finish_reason: "length" }],
      usage: { completion_tokens: 8 }
    })
    expect(json.id).toMatch(/^chatcmpl-\d+$/)
    expect(typeof json.choices[0].message.content).toBe("string")
    expect(json.usage.total_tokens).toBe(json.usage.prompt_tokens + 8)
    const again = await post("/chat/completions", {
      messages: [{ role: "user", content: "Say hi" }],
      temperature: 0,
      max_tokens: 8
    })
    expect(again.json.choices[0].message.content).toBe(json.choices[0].message.content)
  })

  it("forces a verdict with a GBNF grammar and gives its logprobs over the allowed tokens", async () => {
    const { status, json } = await post("/chat/completions", judge)
    expect(status).toBe(200)
    const choice = json.choices[0]
    expect(["1", "2"]).toContain(choice.message.content)
    expect(choice.finish_reason).toBe("stop")
    const first = choice.logprobs.content[0]
    expect(first.token).toBe(choice.message.content)
    // only the two tokens the grammar allows, renormalised (tokens it forbids are not listed)
    expect(first.top_logprobs.map((t: { token: string }) => t.token).sort()).toEqual(["1", "2"])
    const total = first.top_logprobs.reduce((s: number, t: { logprob: number }) => s + Math.exp(t.logprob), 0)
    expect(total).toBeCloseTo(1, 6)
  })

  it("answers requests sent at once over its two sequences as it answers them one at a time", async () => {
    const asked = ["Paris or Rome", "tea or coffee", "cats or dogs", "red or blue", "sea or hills", "jazz or rock"].map(
      (q) => ({ ...judge, messages: [judge.messages[0]!, { role: "user", content: `Which is better: ${q}?` }] })
    )
    const verdict = (json: any) => {
      const top: Array<{ token: string; logprob: number }> = json.choices[0].logprobs.content[0].top_logprobs
      const p1 = Math.exp(top.find((t) => t.token === "1")?.logprob ?? Number.NEGATIVE_INFINITY)
      return { text: json.choices[0].message.content as string, p1 }
    }
    const alone: Array<{ text: string; p1: number }> = []
    for (const body of asked) alone.push(verdict((await post("/chat/completions", body)).json))
    const together = (await Promise.all(asked.map((body) => post("/chat/completions", body)))).map((r) => {
      expect(r.status).toBe(200)
      return verdict(r.json)
    })
    // two sequences in one batch take other llama.cpp kernel paths than one: the float32 logits move a
    // little (p by up to ~2e-3 seen), never the answer where the model is not near a coin toss
    together.forEach((t, i) => {
      expect(t.p1).toBeCloseTo(alone[i]!.p1, 2)
      if (Math.abs(alone[i]!.p1 - 0.5) > 0.05) expect(t.text).toBe(alone[i]!.text)
    })
  })

  it("answers /v1/embeddings with unit vectors, one per input", async () => {
    const { status, json } = await post("/embeddings", { input: ["hello", "world"] })
    expect(status).toBe(200)
    expect(json.data.map((d: { index: number }) => d.index)).toEqual([0, 1])
    for (const d of json.data) {
      expect(d.embedding).toHaveLength(32)
      expect(Math.hypot(...d.embedding)).toBeCloseTo(1, 9)
    }
    const one = await post("/embeddings", { input: "hello" })
    expect(one.json.data[0].embedding).toEqual(json.data[0].embedding)
  })

  it.each([
    ["nope", /^the body is not JSON: /],
    [{ messages: [] }, /^invalid chat completion request: .*messages/],
    [{ messages: [{ role: "robot", content: "hi" }] }, /^invalid chat completion request: .*role/],
    [{ messages: [{ role: "user", content: "hi" }], stream: true }, /^invalid chat completion request: .*stream/],
    [{ messages: [{ role: "user", content: "hi" }], grammar: "root ::= (" }, /^invalid GBNF grammar/],
    [{ messages: [{ role: "user", content: "x".repeat(600) }] }, /^the prompt is \d+ tokens; the context holds 512/]
  ])("refuses a bad chat body with 400 and a message: %j", async (body, message) => {
    const { status, json } = await post("/chat/completions", body)
    expect(status).toBe(400)
    expect(Object.keys(json)).toEqual(["error"])
    expect(json.error.message).toMatch(message)
  })

  it("lists the model, answers /health, and 404s other paths naming the ones it has", async () => {
    const models = (await (await fetch(`${base}/models`)).json()) as any
    expect(models.data[0].id).toBe("tiny-random-llama")
    expect(await (await fetch(base.replace(/\/v1$/, "/health"))).json()).toEqual({ status: "ok" })
    const r = await fetch(`${base}/completions`, { method: "POST", body: "{}" })
    expect(r.status).toBe(404)
    expect(((await r.json()) as any).error.message).toContain("POST /v1/chat/completions")
  })

  it("logs one line per request", () => {
    expect(lines.some((l) => /^POST \/v1\/chat\/completions 200 \d+ ms$/.test(l))).toBe(true)
    expect(lines.some((l) => /^POST \/v1\/chat\/completions 400 \d+ ms$/.test(l))).toBe(true)
  })
})
