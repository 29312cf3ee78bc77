/**
 * The in-process GGUF provider (judge.gguf's client) on a real model: the tiny random-weight GGUF the
 * suite writes itself (workbench/io/llm/tiny-gguf.ts), loaded through the live `Llm` service exactly as
 * a run opens it. Random weights: these tests assert the protocol, determinism, grammar-forced choices,
 * logprobs, the cache and the budget stop — never answer quality. Threads pinned to 1.
 */
import { Cause, Effect, Exit, Scope } from "effect"
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { DataError } from "../../workbench/core/errors.js"
import {
  type ChatAnswer,
  type ChatOutcome,
  type ChatRequest,
  type GgufModelConfig,
  Llm,
  type LlmClient
} from "../../workbench/core/llm.js"
import { openGgufClient } from "../../workbench/io/llm/gguf.js"
import { LlmLive } from "../../workbench/io/llm/live.js"
import { openResponseCache } from "../../workbench/io/llm/response-cache.js"
import { buildTinyGguf, writeTinyGguf } from "../../workbench/io/llm/tiny-gguf.js"

const dir = mkdtempSync(join(tmpdir(), "wb-gguf-"))
const modelPath = join(dir, "tiny.gguf")
const config = (overrides: Partial<GgufModelConfig> = {}): GgufModelConfig => ({
  provider: "gguf",
  modelPath,
  threads: 1,
  contextSize: 512,
  concurrency: 2,
  ...overrides
})
const ask = (prompt: string, overrides: Partial<ChatRequest> = {}): ChatRequest => ({
  messages: [
    { role: "system", content: "You compare two answers. Reply with 1 or 2 only." },
    { role: "user", content: prompt }
  ],
  temperature: 0,
  maxTokens: 8,
  sample: 0,
  ...overrides
})
const verdict = (i: number, overrides: Partial<ChatRequest> = {}) =>
  ask(`Question ${i}: which is better?\nAnswer 1: ${"yes ".repeat(i % 5)}\nAnswer 2: no ${i}`, {
    choices: ["1", "2"],
    topLogprobs: 2,
    maxTokens: 4,
    ...overrides
  })

/** Open a client on `workspace`, held until `close` (the model loads once per client). */
async function openClient(workspace: string, cfg = config()) {
  const scope = Effect.runSync(Scope.make())
  const client = await Effect.runPromise(
    Effect.gen(function* () {
      const llm = yield* Llm
      return yield* llm.open(cfg, 'node "judge"')
    }).pipe(Scope.provide(scope), Effect.provide(LlmLive(workspace)))
  )
  return { client, close: () => Effect.runPromise(Scope.close(scope, Exit.void)) }
}
const chat = (client: LlmClient, r: ChatRequest) => Effect.runPromise(client.chat(r))
const chatAll = (client: LlmClient, rs: ReadonlyArray<ChatRequest>) =>
  Effect.runPromise(Effect.forEach(rs, (r) => client.chat(r), { concurrency: 4 }))
function answered(o: ChatOutcome): ChatAnswer {
  if (o._tag !== "Answered") throw new Error(`expected an answer, got: ${o.reason}`)
  return o
}

let workspace: string
let main: Awaited<ReturnType<typeof openClient>>

beforeAll(async () => {
  writeTinyGguf(modelPath, { seed: 42 })
  workspace = mkdtempSync(join(dir, "ws-"))
  main = await openClient(workspace)
})
afterAll(async () => {
  await main?.close()
})

describe("tiny GGUF writer", () => {
  it("writes the same 157,920 bytes for a seed, other weights for another seed", () => {
    const a = buildTinyGguf({ seed: 42 })
    expect(a.length).toBe(157_920)
    expect(a.subarray(0, 4).toString("ascii")).toBe("GGUF")
    expect(a.readUInt32LE(4)).toBe(3)
    expect(readFileSync(modelPath).equals(a)).toBe(true)
    const b = buildTinyGguf({ seed: 7 })
    expect(b.length).toBe(a.length)
    expect(b.equals(a)).toBe(false)
  })
})

describe("openGgufClient", () => {
  it("answers a chat request: text, token counts, the file as server, not cached", async () => {
    const o = answered(await chat(main.client, ask("Say hi", { maxTokens: 6 })))
    expect(o.cached).toBe(false)
    expect(o.server).toBe("tiny.gguf")
    expect(o.promptTokens).toBeGreaterThan(10)
    // a random model never stops by itself within 6 tokens: the limit holds
    expect(o.completionTokens).toBe(6)
    expect(o.text.length).toBeGreaterThan(0)
    expect(o.logprobs).toBeNull()
  })

  it("is deterministic at temperature 0: another sample index is computed again and is identical", async () => {
    const before = main.client.usage().requests
    const [a, b] = (await chatAll(main.client, [ask("Be brief", { sample: 0 }), ask("Be brief", { sample: 1 })])).map(
      answered
    )
    expect(main.client.usage().requests - before).toBe(2)
    expect(a!.cached || b!.cached).toBe(false)
    expect(b!.text).toBe(a!.text)
  })

  it("forces every verdict into the choices with a grammar", async () => {
    const outs = (
      await chatAll(
        main.client,
        Array.from({ length: 12 }, (_, i) => verdict(i))
      )
    ).map(answered)
    expect(outs.every((o) => o.text === "1" || o.text === "2")).toBe(true)
    const three = (
      await chatAll(
        main.client,
        [0, 1, 2, 3].map((i) => verdict(i, { choices: ["A", "B", "tie"] }))
      )
    ).map(answered)
    expect(three.every((o) => ["A", "B", "tie"].includes(o.text))).toBe(true)
  })

  it("returns the verdict token's logprobs over the choices, summing to 1", async () => {
    // topLogprobs 0: a choices request still gets one logprob per choice (p_a needs them)
    for (const r of [verdict(20), verdict(21, { topLogprobs: 0 }), verdict(22, { topLogprobs: 5 })]) {
      const o = answered(await chat(main.client, r))
      const first = o.logprobs![0]!
      expect(first.token).toBe(o.text)
      expect(first.top.map((t) => t.token).sort()).toEqual(["1", "2"])
      const total = first.top.reduce((s, t) => s + Math.exp(t.logprob), 0)
      expect(total).toBeCloseTo(1, 6)
      expect(first.logprob).toBe(Math.max(...first.top.map((t) => t.logprob)))
    }
  })

  it("serves a repeated request from the cache, and a new client on the same workspace too", async () => {
    const r = verdict(30)
    const first = answered(await chat(main.client, r))
    const requests = main.client.usage().requests
    const again = answered(await chat(main.client, r))
    expect(again.cached).toBe(true)
    expect(again.text).toBe(first.text)
    expect(again.logprobs).toEqual(first.logprobs)
    expect(main.client.usage().requests).toBe(requests)

    const second = await openClient(workspace)
    try {
      const hit = answered(await chat(second.client, r))
      expect(hit).toMatchObject({ cached: true, text: first.text })
      expect(second.client.usage()).toMatchObject({ requests: 0, cacheHits: 1 })
      expect(second.client.cacheKey(r)).toBe(main.client.cacheKey(r))
    } finally {
      await second.close()
    }
    const files = readdirSync(join(workspace, "llm-cache"))
    expect(files).toHaveLength(1)
    expect(files[0]).toMatch(/^gguf-tiny\.gguf/)
  })

  it("samples at temperature > 0 from a seed of the request: samples differ, a fresh workspace draws the same", async () => {
    const rs = [0, 1, 2].map((sample) => ask("Write something", { temperature: 1, sample, maxTokens: 12 }))
    const texts = (await chatAll(main.client, rs)).map((o) => answered(o).text)
    expect(new Set(texts).size).toBeGreaterThan(1)
    const fresh = await openClient(mkdtempSync(join(dir, "ws-")))
    try {
      const again = (await chatAll(fresh.client, rs)).map(answered)
      expect(again.every((o) => !o.cached)).toBe(true)
      expect(again.map((o) => o.text)).toEqual(texts)
    } finally {
      await fresh.close()
    }
  })

  it("refuses a prompt longer than the context as a failure, with the numbers", async () => {
    const o = await chat(main.client, ask("x".repeat(600)))
    expect(o).toMatchObject({ _tag: "Failed", skipped: false, status: null })
    expect((o as { reason: string }).reason).toMatch(/^the prompt is \d+ tokens; the context holds 512/)
  })

  it("stops: later requests the cache cannot answer are skipped, cached ones still answered", async () => {
    const cachedReq = verdict(30)
    main.client.stop("budget: maxRequests 5 reached")
    const skipped = await chat(main.client, verdict(99))
    expect(skipped).toEqual({
      _tag: "Failed",
      reason: "budget: maxRequests 5 reached",
      status: null,
      raw: null,
      skipped: true
    })
    expect(answered(await chat(main.client, cachedReq)).cached).toBe(true)
  })
})

describe("opening a GGUF model", () => {
  const failure = async (cfg: GgufModelConfig, direct = false): Promise<DataError> => {
    const ws = mkdtempSync(join(dir, "ws-"))
    const where = 'node "judge"'
    const open = direct
      ? Effect.flatMap(openResponseCache(ws, { provider: "gguf", model: "t" }, where), (cache) =>
          openGgufClient(cfg, where, cache)
        )
      : Effect.gen(function* () {
          const llm = yield* Llm
          return yield* llm.open(cfg, where)
        }).pipe(Effect.provide(LlmLive(ws)))
    const exit = await Effect.runPromiseExit(Effect.scoped(open))
    if (Exit.isSuccess(exit)) throw new Error("expected the model not to open")
    return Cause.squash(exit.cause) as DataError
  }

  it("names a missing file and how to make a test model", async () => {
    const missing = join(dir, "nope.gguf")
    const e = await failure(config({ modelPath: missing }), true)
    expect(e._tag).toBe("DataError")
    expect(e.message).toBe(
      `node "judge": no model file at ${missing}\n` +
        "  expected: the path of a .gguf model file\n" +
        "  fix: correct the path; for an offline test model run `wb llm tiny-model models/tiny.gguf`"
    )
  })

  it("says a file that is not a GGUF model could not be loaded, through the live service", async () => {
    const bad = join(dir, "bad.gguf")
    const bytes = buildTinyGguf()
    bytes.write("NOPE", 0, "ascii")
    writeFileSync(bad, bytes)
    const e = await failure(config({ modelPath: bad }))
    expect(e._tag).toBe("DataError")
    expect(e.message).toContain(`node "judge": ${bad} could not be loaded as a model`)
    expect(e.message).toContain("fix: check the file is a complete .gguf")
  })
})
