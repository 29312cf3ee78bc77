// LlmClient.embed against `wb llm serve` (in process) on the generated tiny GGUF, and in process:
// vectors in input order, unit length, one per text (a repeated text sent once); a second client on
// the same workspace answers from the durable embedding cache with zero requests (counted at the
// server); HTTP and in-process give the same vectors; a torn cache file is cut and still read; an
// input longer than the context is a Failed outcome, not an error.
import { Effect, Exit, Scope } from "effect"
import { appendFileSync, mkdtempSync, readdirSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type GgufModelConfig, Llm, type LlmClient } from "../../workbench/core/llm.js"
import { openGgufEngine } from "../../workbench/io/llm/gguf-engine.js"
import { LlmLive } from "../../workbench/io/llm/live.js"
import { serveGguf } from "../../workbench/io/llm/serve.js"
import { writeTinyGguf } from "../../workbench/io/llm/tiny-gguf.js"
import { httpConfig, tempWorkspace, withLlmClient } from "../support/llm-client.js"

let scope: Scope.Closeable
let base: string
let modelPath: string
const lines: Array<string> = []
const embedRequests = () => lines.filter((l) => l.startsWith("POST /v1/embeddings")).length

beforeAll(async () => {
  modelPath = join(mkdtempSync(join(tmpdir(), "wb-embed-")), "tiny.gguf")
  writeTinyGguf(modelPath, { seed: 42 })
  scope = Effect.runSync(Scope.make())
  const server = await Effect.runPromise(
    Effect.gen(function* () {
      const engine = yield* openGgufEngine({ modelPath, threads: 1, contextSize: 512, sequences: 1 }, "test")
      return yield* serveGguf(engine, { host: "127.0.0.1", port: 0, log: (l) => lines.push(l) })
    }).pipe(Scope.provide(scope))
  )
  base = `${server.url}/v1`
})
afterAll(async () => {
  if (scope) await Effect.runPromise(Scope.close(scope, Exit.void))
})

const norm = (v: Float32Array) => Math.hypot(...v)
const TEXTS = ["The cat sat on the mat.", "Paris is the capital of France.", "The cat sat on the mat.", "zzz"]

const ggufConfig = (): GgufModelConfig => ({
  provider: "gguf",
  modelPath,
  threads: 1,
  contextSize: 512,
  concurrency: 1
})

const withGguf = <A>(dir: string, use: (c: LlmClient) => Effect.Effect<A>) =>
  Effect.runPromise(
    Effect.scoped(
      Effect.flatMap(
        Effect.flatMap(Llm, (l) => l.open(ggufConfig(), "test")),
        use
      )
    ).pipe(Effect.provide(LlmLive(dir)))
  )

describe("LlmClient.embed over HTTP (wb llm serve)", () => {
  it("embeds in order, unit length, each distinct text once; a second client is served by the cache", async () => {
    const dir = tempWorkspace()
    const before = embedRequests()
    const first = await withLlmClient(dir, httpConfig(base, { model: "tiny" }), (c) =>
      Effect.map(c.embed(TEXTS), (o) => ({ o, usage: c.usage() }))
    )
    expect(first.o._tag).toBe("Embedded")
    if (first.o._tag !== "Embedded") return
    expect(first.o.vectors.map((v) => v.length)).toEqual([32, 32, 32, 32])
    for (const v of first.o.vectors) expect(norm(v)).toBeCloseTo(1, 5)
    expect([...first.o.vectors[2]!]).toEqual([...first.o.vectors[0]!])
    expect([...first.o.vectors[1]!]).not.toEqual([...first.o.vectors[0]!])
    expect(first.o.cached).toBe(0)
    expect(embedRequests() - before).toBe(1)
    expect(first.usage.requests).toBe(1)

    const second = await withLlmClient(dir, httpConfig(base, { model: "tiny" }), (c) =>
      Effect.map(c.embed([...TEXTS].reverse()), (o) => ({ o, usage: c.usage() }))
    )
    expect(embedRequests() - before).toBe(1)
    expect(second.usage).toMatchObject({ requests: 0, cacheHits: 4 })
    expect(second.o).toMatchObject({ _tag: "Embedded", cached: 4, server: "cache" })
    if (second.o._tag !== "Embedded") return
    expect(second.o.vectors.map((v) => [...v])).toEqual([...first.o.vectors].reverse().map((v) => [...v]))
    // one binary cache file beside the chat cache: 3 records of 32 + 4 + 32 x 4 bytes
    const files = readdirSync(join(dir, "llm-cache")).filter((f) => f.startsWith("embed-"))
    expect(files).toHaveLength(1)
    expect(statSync(join(dir, "llm-cache", files[0]!)).size).toBe(3 * (36 + 128))
  })

  it("cuts a torn record off the cache file and asks only for what it lost", async () => {
    const dir = tempWorkspace()
    await withLlmClient(dir, httpConfig(base, { model: "tiny" }), (c) => c.embed(TEXTS.slice(0, 2)))
    const file = join(dir, "llm-cache", readdirSync(join(dir, "llm-cache")).find((f) => f.startsWith("embed-"))!)
    appendFileSync(file, Buffer.alloc(50, 7)) // a record killed mid-write
    const before = embedRequests()
    const again = await withLlmClient(dir, httpConfig(base, { model: "tiny" }), (c) =>
      Effect.map(c.embed(TEXTS), () => c.usage())
    )
    expect(again).toMatchObject({ requests: 1, cacheHits: 3 }) // cat, paris, cat; only zzz is asked for
    expect(embedRequests() - before).toBe(1)
    expect(statSync(file).size).toBe(3 * (36 + 128))
  })

  it("a batch with an input longer than the context is a Failed outcome with the server's words", async () => {
    const o = await withLlmClient(tempWorkspace(), httpConfig(base, { model: "tiny", maxRetries: 0 }), (c) =>
      c.embed(["short", "x".repeat(2000)])
    )
    expect(o).toMatchObject({ _tag: "Failed", skipped: false })
    if (o._tag === "Failed") expect(`${o.reason} ${o.raw}`).toMatch(/tokens/)
  })
})

describe("LlmClient.embed in process (gguf)", () => {
  it("gives the server's vectors, and reads them back from its cache", async () => {
    const dir = tempWorkspace()
    const http = await withLlmClient(tempWorkspace(), httpConfig(base, { model: "tiny" }), (c) => c.embed(TEXTS))
    const local = await withGguf(dir, (c) => Effect.map(c.embed(TEXTS), (o) => ({ o, usage: c.usage() })))
    expect(local.o._tag).toBe("Embedded")
    expect(local.usage.requests).toBe(1)
    if (local.o._tag !== "Embedded" || http._tag !== "Embedded") return
    local.o.vectors.forEach((v, i) => {
      for (let k = 0; k < v.length; k++) expect(v[k]).toBeCloseTo(http.vectors[i]![k]!, 5)
    })
    const cached = await withGguf(dir, (c) => Effect.map(c.embed(TEXTS), (o) => ({ o, usage: c.usage() })))
    expect(cached.usage).toMatchObject({ requests: 0, cacheHits: 4 })
    if (cached.o._tag === "Embedded")
      expect(cached.o.vectors.map((v) => [...v])).toEqual(local.o.vectors.map((v) => [...v]))
    const long = await withGguf(dir, (c) => c.embed(["x".repeat(2000)]))
    expect(long).toMatchObject({ _tag: "Failed", reason: expect.stringMatching(/2000 tokens; the context holds 512/) })
  })
})
