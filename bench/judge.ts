/**
 * `npm run bench:judge` (not in CI): judgments per second through the LLM client (`client.chat`: pool,
 * rate limiter, retries, Schema decoding, durable cache writes) against a bare `fetch` loop at the same
 * concurrency, both against a local OpenAI-compatible server in another process that answers at once
 * (goal: client ≥ 0.9× fetch); then cache hits per second through `client.chat` (goal ≥ 100,000/s).
 * Runs alternate (fetch, client, fetch, client, …) BENCH_ROUNDS times (default 3); prints medians.
 * BENCH_N requests per run (default 4000), BENCH_CONCURRENCY (default 16).
 */
import { Effect } from "effect"
import { spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { createServer } from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { type ChatRequest, type HttpModelConfig, Llm, type LlmClient } from "../workbench/core/llm.js"
import { LlmLive } from "../workbench/io/llm/live.js"

if (process.argv[2] === "--serve") {
  // the server: one canned completion, no parsing beyond draining the body
  const body = JSON.stringify({
    id: "chatcmpl-bench",
    object: "chat.completion",
    choices: [{ index: 0, message: { role: "assistant", content: "1" }, logprobs: null, finish_reason: "stop" }],
    usage: { prompt_tokens: 30, completion_tokens: 1, total_tokens: 31 }
  })
  const server = createServer((req, res) => {
    req.resume()
    req.on("end", () => {
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) })
      res.end(body)
    })
  })
  server.keepAliveTimeout = 60_000
  server.listen(0, "127.0.0.1", () => process.stdout.write(`${(server.address() as { port: number }).port}\n`))
} else {
  await main()
}

async function main() {
  const rounds = Number(process.env["BENCH_ROUNDS"] ?? 3)
  const n = Number(process.env["BENCH_N"] ?? 4000)
  const concurrency = Number(process.env["BENCH_CONCURRENCY"] ?? 16)

  const serverProcess = spawn(process.execPath, ["--import", "tsx", import.meta.filename, "--serve"], {
    stdio: ["ignore", "pipe", "inherit"]
  })
  const port = await new Promise<number>((resolve) =>
    serverProcess.stdout.setEncoding("utf8").once("data", (d: string) => resolve(Number(d.trim())))
  )
  const baseUrl = `http://127.0.0.1:${port}/v1`
  const requests: Array<ChatRequest> = Array.from({ length: n }, (_, i) => ({
    messages: [
      { role: "system", content: "You are a careful judge of two responses." },
      { role: "user", content: `Prompt ${i}: which response is better, 1 or 2?\n1: a reply\n2: another reply` }
    ],
    temperature: 0,
    maxTokens: 1,
    sample: 0
  }))
  const config: HttpModelConfig = {
    provider: "openai",
    baseUrls: [baseUrl],
    model: "bench",
    concurrency,
    requestsPerMinute: null,
    tokensPerMinute: null,
    timeoutMs: 30_000,
    maxRetries: 3
  }

  /** The baseline: what a hand-written loop does per judgment (POST, parse, take the content). */
  const bareFetch = async () => {
    let next = 0
    const worker = async () => {
      while (next < n) {
        const r = requests[next++]!
        const res = await fetch(`${baseUrl}/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ model: "bench", messages: r.messages, temperature: 0, max_tokens: 1 })
        })
        const json = (await res.json()) as { choices: Array<{ message: { content: string } }> }
        if (json.choices[0]!.message.content !== "1") throw new Error("unexpected answer")
      }
    }
    const t0 = performance.now()
    await Promise.all(Array.from({ length: concurrency }, worker))
    return n / ((performance.now() - t0) / 1000)
  }

  const withClient = <A>(dir: string, use: (client: LlmClient) => Effect.Effect<A>) =>
    Effect.runPromise(
      Effect.scoped(Effect.flatMap(Effect.service(Llm), (llm) => Effect.flatMap(llm.open(config, "bench"), use))).pipe(
        Effect.provide(LlmLive(dir))
      )
    )

  const dirs: Array<string> = []
  const throughClient = () => {
    const dir = mkdtempSync(join(tmpdir(), "wb-bench-judge-"))
    dirs.push(dir)
    return withClient(dir, (client) =>
      Effect.gen(function* () {
        const t0 = performance.now()
        const outcomes = yield* Effect.forEach(requests, (r) => client.chat(r), { concurrency })
        const rate = n / ((performance.now() - t0) / 1000)
        if (outcomes.some((o) => o._tag !== "Answered" || o.cached)) throw new Error("expected fresh answers only")
        return rate
      })
    )
  }

  const hits = (dir: string) =>
    withClient(dir, (client) =>
      Effect.gen(function* () {
        const total = Math.max(200_000, n)
        const t0 = performance.now()
        for (let i = 0; i < total; i++) {
          const o = yield* client.chat(requests[i % n]!)
          if (o._tag !== "Answered" || !o.cached) throw new Error("expected a cache hit")
        }
        return total / ((performance.now() - t0) / 1000)
      })
    )

  const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
  const fmt = (x: number) => Math.round(x).toLocaleString("en-US")

  console.log(`${n} judgments per run, concurrency ${concurrency}, ${rounds} alternating rounds; server: ${baseUrl}`)
  await bareFetch() // warm both paths (JIT, connections) before measuring
  await throughClient()
  const fetchRates: Array<number> = []
  const clientRates: Array<number> = []
  const hitRates: Array<number> = []
  for (let round = 1; round <= rounds; round++) {
    fetchRates.push(await bareFetch())
    clientRates.push(await throughClient())
    hitRates.push(await hits(dirs.at(-1)!))
    console.log(
      `round ${round}: fetch ${fmt(fetchRates.at(-1)!)}/s  client.chat ${fmt(clientRates.at(-1)!)}/s  ` +
        `cache hits ${fmt(hitRates.at(-1)!)}/s`
    )
  }
  const ratio = median(clientRates) / median(fetchRates)
  // each round's two runs are back to back, so their ratio is steadier than the ratio of medians
  // when other work shares the machine
  const roundRatios = clientRates.map((c, i) => c / fetchRates[i]!)
  console.log(`median bare fetch:        ${fmt(median(fetchRates))} judgments/s`)
  console.log(
    `median client.chat:       ${fmt(median(clientRates))} judgments/s  (${ratio.toFixed(2)}x fetch; goal >= 0.9x)`
  )
  console.log(
    `per-round client/fetch:   median ${median(roundRatios).toFixed(2)}x  (${roundRatios.map((r) => r.toFixed(2)).join(", ")})`
  )
  console.log(`median cache hits:        ${fmt(median(hitRates))} hits/s  (goal >= 100,000/s)`)
  serverProcess.kill()
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
}
