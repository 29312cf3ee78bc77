// featurize.embed through runPipeline (load.table -> featurize.embed) with the live Llm service,
// against `wb llm serve` (in process) on the generated tiny GGUF and in process: every text of every
// pair gets the vector the client gives that text, as list<float32> of one length, in input order;
// a shared prompt is embedded once; a re-run with other params makes zero requests and writes the same
// vectors; an overlong response lands in `failures` (its pair leaves the main table, no null vector);
// a pool of two models of different widths fails naming the text; no baseUrl is refused, with the fix.
import { Effect, Exit, Scope } from "effect"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { featurize, load } from "../../nodes/index.js"
import { pipeline, runPipeline } from "../../workbench/index.js"
import { openGgufEngine } from "../../workbench/io/llm/gguf-engine.js"
import { serveGguf } from "../../workbench/io/llm/serve.js"
import { writeTinyGguf } from "../../workbench/io/llm/tiny-gguf.js"
import { httpConfig, tempWorkspace, withLlmClient } from "../support/llm-client.js"
import { readParquet } from "../support/sql.js"

let scope: Scope.Closeable
const bases: Array<string> = []
let modelPath: string
const root = mkdtempSync(join(tmpdir(), "wb-embed-node-"))

beforeAll(async () => {
  modelPath = join(root, "tiny.gguf")
  writeTinyGguf(modelPath, { seed: 42 })
  const wide = join(root, "wide.gguf")
  writeTinyGguf(wide, { seed: 42, nEmbd: 48 })
  scope = Effect.runSync(Scope.make())
  for (const path of [modelPath, wide]) {
    const server = await Effect.runPromise(
      Effect.gen(function* () {
        const engine = yield* openGgufEngine({ modelPath: path, threads: 1, contextSize: 512, sequences: 1 }, "test")
        return yield* serveGguf(engine, { host: "127.0.0.1", port: 0, log: () => {} })
      }).pipe(Scope.provide(scope))
    )
    bases.push(`${server.url}/v1`)
  }
})
afterAll(async () => {
  if (scope) await Effect.runPromise(Scope.close(scope, Exit.void))
})

const PAIRS = [
  { prompt: "What is the capital of France?", chosen: "Paris.", rejected: "Rome." },
  { prompt: "What is the capital of France?", chosen: "It is Paris.", rejected: "Lyon, I think." },
  { prompt: "Name a colour.", chosen: "Red.", rejected: "Paris." }
]

const dataFile = (name: string, rows: ReadonlyArray<object>) => {
  writeFileSync(join(root, name), rows.map((r) => JSON.stringify(r)).join("\n"))
  return name
}

const run = (file: string, params: Record<string, unknown>, workspace = tempWorkspace()) =>
  runPipeline(
    pipeline("embed", (p) => {
      const pairs = p.node("pairs", load.table({ path: file }))
      p.node("embed", featurize.embed(params as never), { pairs })
    }),
    { workspace, root }
  )

const vec = (v: unknown) => Array.from(v as ArrayLike<number>)

describe("featurize.embed", () => {
  it("embeds every text once over HTTP, in input order; a re-run makes zero requests, same vectors", async () => {
    const file = dataFile("pairs.jsonl", PAIRS)
    const workspace = tempWorkspace()
    const first = await run(file, { baseUrl: bases[0], model: "tiny", batchSize: 2 }, workspace)
    const node = first.report.nodes.find((n) => n.name === "embed")!
    expect(node.status).toBe("ran")
    // 2 prompts + 6 responses, "Paris." twice: 7 distinct texts
    expect(node.stats).toMatchObject({ texts: 7, embedded: 7, failed_texts: 0, dimensions: 32, requests: 4 })
    const rows = await readParquet(first.table("embed").file)
    const source = await readParquet(first.table("pairs").file)
    expect(rows.map((r) => r["pair_id"])).toEqual(source.map((r) => r["pair_id"]))
    const texts = rows.flatMap((r) => [r["prompt"], r["response_a"], r["response_b"]] as Array<string>)
    const expected = await withLlmClient(tempWorkspace(), httpConfig(bases[0]!, { model: "tiny" }), (c) =>
      c.embed(texts)
    )
    if (expected._tag !== "Embedded") throw new Error(expected.reason)
    rows.forEach((r, i) => {
      ;(["prompt_embedding", "a_embedding", "b_embedding"] as const).forEach((c, k) => {
        const got = vec(r[c])
        expect(got).toHaveLength(32)
        got.forEach((x, j) => expect(x).toBeCloseTo(expected.vectors[3 * i + k]![j]!, 6))
      })
    })

    const again = await run(file, { baseUrl: bases[0], model: "tiny", batchSize: 3 }, workspace)
    const node2 = again.report.nodes.find((n) => n.name === "embed")!
    expect(node2.status).toBe("ran")
    expect(node2.stats).toMatchObject({ texts: 7, requests: 0, cache_hits: 7 })
    const rows2 = await readParquet(again.table("embed").file)
    expect(rows2.map((r) => vec(r["a_embedding"]))).toEqual(rows.map((r) => vec(r["a_embedding"])))
  })

  it("in process (gguf): the same vectors; an overlong text fails alone, into failures", async () => {
    const file = dataFile("long.jsonl", [
      ...PAIRS,
      { prompt: "Tell me more.", chosen: "x".repeat(900), rejected: "No." }
    ])
    const result = await run(file, {
      provider: "gguf",
      model: "tiny.gguf",
      batchSize: 4,
      contextSize: 512,
      maxFailureRate: 0.5
    })
    const node = result.report.nodes.find((n) => n.name === "embed")!
    expect(node.stats).toMatchObject({ texts: 10, embedded: 9, failed_texts: 1, failed_pairs: 1 })
    const rows = await readParquet(result.table("embed").file)
    expect(rows).toHaveLength(3)
    const failures = await readParquet(result.table("embed.failures").file)
    expect(failures).toHaveLength(1)
    expect(["response_a", "response_b"]).toContain(failures[0]!["field"])
    expect(failures[0]).toMatchObject({ reason: expect.stringMatching(/900 tokens; the context holds 512/), raw: null })
    expect(rows.map((r) => r["pair_id"])).not.toContain(failures[0]!["pair_id"])
    const http = await readParquet((await run("pairs.jsonl", { baseUrl: bases[0], model: "tiny" })).table("embed").file)
    vec(rows[0]!["prompt_embedding"]).forEach((x, j) => expect(x).toBeCloseTo(vec(http[0]!["prompt_embedding"])[j]!, 5))
  })

  it("fails naming the text when a pool mixes models of different widths", async () => {
    const file = dataFile("pairs.jsonl", PAIRS)
    const result = await run(file, { baseUrl: bases, model: "tiny", batchSize: 1, concurrency: 1 }).then(
      (r) => r.report.nodes.find((n) => n.name === "embed")!.error ?? "",
      (e: unknown) => String(e)
    )
    expect(result).toMatch(
      /the vector of text "[^"]+" has (32|48) dimensions[\s\S]*(48|32) dimensions, as the vector of/
    )
  })

  it("refuses provider openai without a baseUrl, saying what to set", async () => {
    const result = await run(dataFile("pairs.jsonl", PAIRS), { model: "tiny" }).then(
      (r) => r.report.nodes.find((n) => n.name === "embed")!.error ?? "",
      (e: unknown) => String(e)
    )
    expect(result).toMatch(/param baseUrl[\s\S]*no baseUrl[\s\S]*provider: "gguf"/)
  })
})
