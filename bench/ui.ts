/**
 * `npm run bench:ui`: server-side timings of `wb serve` on a 1,000,000-row artifact (not CI).
 * - first page (100 rows) in file order and sorted by a column (keyset), target < 300 ms;
 * - histogram of a 1M-row numeric column (summary?column=…), target < 1 s;
 * - SSE: a run writing 1,000 progress events/s for 5 s to the workspace's event log (as `wb run` in a
 *   terminal does), all received, with the lag from write to receipt.
 * Prints medians of 5 (after one warm-up).
 */
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { mkdtempSync } from "node:fs"
import { spawnSync } from "node:child_process"
import { encodeRunEventLine } from "../workbench/protocol/events.js"
import { startServer } from "../workbench/server/server.js"

const ROWS = Number(process.env["BENCH_ROWS"] ?? 1_000_000)
const root = mkdtempSync(join(tmpdir(), "wb-bench-ui-"))
mkdirSync(join(root, "pipelines"))
writeFileSync(join(root, "package.json"), '{ "name": "bench-ui", "type": "module" }\n')
writeFileSync(
  join(root, "pipelines", "big.yaml"),
  `pipeline: big
nodes:
  big:
    use: transform.sql
    with:
      sql: >-
        select md5(i::VARCHAR)[1:16] as pair_id, repeat('prompt ' || (i % 997)::VARCHAR || ' ', 20) as prompt,
        repeat('a', ((hash('a' || i::VARCHAR) >> 32) % 500)::BIGINT) as response_a, repeat('b', ((hash('b' || i::VARCHAR) >> 32) % 500)::BIGINT) as response_b,
        (((hash('a' || i::VARCHAR) >> 32) % 500)::INTEGER - ((hash('b' || i::VARCHAR) >> 32) % 500)::INTEGER) as len_diff,
        ['a', 'b', 'tie'][1 + (i % 3)::INTEGER] as label
        from range(${ROWS}) t(i)
`
)
const median = (xs: Array<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const t0 = performance.now()
const run = spawnSync(
  process.execPath,
  [join(import.meta.dirname, "..", "bin", "wb.js"), "run", "pipelines/big.yaml"],
  {
    cwd: root,
    env: { ...process.env, WB_WORKSPACE: join(root, ".wb") },
    encoding: "utf8"
  }
)
if (run.status !== 0) throw new Error(run.stderr)
console.log(
  `artifact: ${ROWS.toLocaleString("en")} rows written by wb run in ${((performance.now() - t0) / 1000).toFixed(1)} s`
)

const server = await startServer({ root, token: "bench" })
const id = encodeURIComponent("pipelines/big.yaml")
const time = async (path: string) => {
  const s = performance.now()
  const r = await fetch(server.origin + path, { headers: { authorization: "Bearer bench" } })
  const bytes = (await r.arrayBuffer()).byteLength
  if (r.status !== 200) throw new Error(`${path}: ${r.status}`)
  return { ms: performance.now() - s, bytes }
}
const bench = async (label: string, path: string, target: number) => {
  await time(path)
  const runs: Array<number> = []
  let bytes = 0
  for (let i = 0; i < 5; i++) {
    const r = await time(path)
    runs.push(r.ms)
    bytes = r.bytes
  }
  const m = median(runs)
  console.log(
    `${label.padEnd(44)} median ${m.toFixed(0).padStart(5)} ms (runs ${runs.map((x) => x.toFixed(0)).join(", ")}) ${bytes.toLocaleString("en")} B  ${m < target ? "ok" : "OVER"} < ${target} ms`
  )
}
const base = `/api/pipelines/${id}/nodes/big/tables/main`
await bench("first page, file order (100 rows)", `${base}/rows?limit=100`, 300)
await bench("first page, sorted by len_diff desc", `${base}/rows?limit=100&sort=len_diff&desc=1`, 300)
await bench(
  `histogram of len_diff (${ROWS.toLocaleString("en")} rows, 20 bins)`,
  `${base}/summary?column=len_diff&bins=20`,
  1000
)

// SSE: 1,000 events/s for 5 s appended to the event log, as a terminal `wb run` would
const ctl = new AbortController()
const res = await fetch(`${server.origin}/api/events?replay=0`, {
  headers: { authorization: "Bearer bench" },
  signal: ctl.signal
})
const reader = res.body!.getReader()
const N = 5000
let received = 0
let maxLag = 0
const lags: Array<number> = []
const reading = (async () => {
  let rest = ""
  while (received < N) {
    const { value, done } = await reader.read()
    if (done) break
    const now = Date.now()
    const lines = (rest + new TextDecoder().decode(value)).split("\n")
    rest = lines.pop() ?? ""
    for (const l of lines) {
      if (!l.startsWith("data: ")) continue
      const e = JSON.parse(l.slice(6)) as { time: string }
      const lag = now - Date.parse(e.time)
      lags.push(lag)
      maxLag = Math.max(maxLag, lag)
      received++
    }
  }
})()
const log = join(root, ".wb", "events", "bench-sse.ndjson")
const start = Date.now()
for (let sent = 0; sent < N; ) {
  await new Promise((r) => setTimeout(r, 10))
  const due = Math.min(N, Math.floor(((Date.now() - start) / 1000) * 1000))
  let chunk = ""
  for (; sent < due; sent++) {
    chunk += `${encodeRunEventLine({ _tag: "NodeProgress", runId: "bench-sse", seq: sent, time: new Date().toISOString(), node: "big", done: sent, unit: "rows" })}\n`
  }
  if (chunk) appendFileSync(log, chunk)
}
await Promise.race([reading, new Promise((r) => setTimeout(r, 5000))])
ctl.abort()
console.log(
  `SSE: ${received.toLocaleString("en")} / ${N.toLocaleString("en")} events at 1,000/s over ${((Date.now() - start) / 1000).toFixed(1)} s; lag median ${median(lags)} ms, max ${maxLag} ms  ${received === N ? "ok" : "MISSED"}`
)
await server.close()
