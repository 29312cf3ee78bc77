/**
 * `npm run bench:dedupe`: 1,000,000 pairs made by seeded resampling and light perturbation of the
 * shipped real pairs; wb's load + exact dedupe (real runner, Parquet artifacts) against the same steps
 * hand-written as DuckDB SQL, each in its own process (wall time and peak RSS), in the same run; then
 * MinHash recall/precision at Jaccard >= 0.8 against brute force on a 20,000-text sample, and docs/s.
 * The two sides alternate (wb, hand-written, then hand-written, wb, …) over BENCH_RUNS runs, so neither
 * always gets the warmer page cache, and the summary gives the median ratio and its spread: one run on a
 * shared machine can be off by more than the difference measured.
 * Prints figures, not pass/fail. Env: BENCH_ROWS (default 1000000), BENCH_RUNS (default 5),
 * BENCH_MINHASH=0 to skip the MinHash part (minutes of brute force).
 */
import { spawnSync } from "node:child_process"
import { join, resolve } from "node:path"
import { generatePairs } from "./generate-pairs.js"
import { minhashQuality } from "./minhash-quality.js"

const root = resolve(import.meta.dirname, "..")
const rows = Number(process.env["BENCH_ROWS"] ?? 1_000_000)
const runs = Number(process.env["BENCH_RUNS"] ?? process.env["BENCH_REPEAT"] ?? 5)
if (!Number.isInteger(runs) || runs < 1)
  throw new Error(`BENCH_RUNS: found ${process.env["BENCH_RUNS"]}; expected a whole number ≥ 1`)

interface SideResult {
  readonly seconds: number
  readonly peakRssMiB: number
  readonly removed: number
  readonly loadSeconds?: number
  readonly nodeSeconds?: { readonly load: number; readonly exact: number }
  readonly status?: string
  readonly error?: string
}

const side = (script: string, file: string) => {
  const r = spawnSync(process.execPath, ["--import", "tsx", join(root, "bench", script), file], {
    cwd: root,
    encoding: "utf8"
  })
  if (r.status !== 0) throw new Error(`${script} failed:\n${r.stderr}`)
  const result = JSON.parse(r.stdout.trim().split("\n").at(-1)!) as SideResult
  // a failed run is fast: timing it would print a flattering ratio
  if (result.status !== undefined && result.status !== "ok")
    throw new Error(`${script}: the run ${result.status}:\n${result.error}`)
  return result
}

console.log(`generating ${rows.toLocaleString()} pairs (cached in bench/.data)…`)
const t0 = performance.now()
const { path, planted } = await generatePairs(join(root, `bench/.data/pairs-${rows}.jsonl`), { rows })
console.log(
  `  ${path} · planted ${planted.exact.toLocaleString()} exact and ${planted.mirrored.toLocaleString()} mirrored copies · ${((performance.now() - t0) / 1000).toFixed(1)} s`
)

const median = (xs: ReadonlyArray<number>) => {
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

const ratios: Array<number> = []
for (let i = 0; i < runs; i++) {
  // alternate the order so neither side always gets the warmer page cache
  const [first, second] = i % 2 === 0 ? ["dedupe-wb.ts", "dedupe-baseline.ts"] : ["dedupe-baseline.ts", "dedupe-wb.ts"]
  const a = side(first, path),
    b = side(second, path)
  const sql = first === "dedupe-baseline.ts" ? a : b
  const wb = first === "dedupe-wb.ts" ? a : b
  console.log(
    `\nload + exact dedupe of ${rows.toLocaleString()} pairs (JSONL → Parquet), run ${i + 1} of ${runs}` +
      ` (${first === "dedupe-wb.ts" ? "wb" : "hand-written"} first)`
  )
  console.log(
    `  hand-written DuckDB SQL : ${sql.seconds.toFixed(2)} s wall (load ${sql.loadSeconds?.toFixed(2)} s) · ` +
      `peak RSS ${Math.round(sql.peakRssMiB)} MiB · ${sql.removed.toLocaleString()} removed`
  )
  console.log(
    `  wb (load.trl → dedupe.exact) : ${wb.seconds.toFixed(2)} s wall (load ${wb.nodeSeconds?.load.toFixed(2)} s, ` +
      `dedupe ${wb.nodeSeconds?.exact.toFixed(2)} s) · peak RSS ${Math.round(wb.peakRssMiB)} MiB · ${wb.removed.toLocaleString()} removed`
  )
  console.log(`  ratio wb / hand-written : ${(wb.seconds / sql.seconds).toFixed(2)} (goal ≤ 1.3)`)
  ratios.push(wb.seconds / sql.seconds)
}
{
  const mid = median(ratios)
  const best = Math.min(...ratios)
  const worst = Math.max(...ratios)
  console.log(
    `\nratio wb / hand-written over ${runs} run${runs === 1 ? "" : "s"}: median ${mid.toFixed(2)} (goal ≤ 1.3) · ` +
      `spread ${best.toFixed(2)}–${worst.toFixed(2)} (${(((worst - best) / mid) * 100).toFixed(0)}% of the median)`
  )
}

if (process.env["BENCH_MINHASH"] === "0") process.exit(0)
console.log(`\nMinHash + LSH (128 permutations, 3-word shingles), threshold 0.8`)
const q = await minhashQuality({
  n: 20_000,
  threshold: 0.8,
  numPerm: 128,
  throughputDocs: 400_000,
  root,
  log: () => {}
})
console.log(`  20,000-text sample: ${q.truePairs} true pairs (brute force), LSH found ${q.foundPairs}`)
console.log(
  `  recall ${q.recall.toFixed(4)} (goal ≥ 0.95) · precision ${q.precision.toFixed(4)} · bands × rows ${q.bands} × ${q.rows}`
)
console.log(
  `  signatures, prompt-length texts (mean ${Math.round(q.meanCharsShort)} chars, the guide's size): ` +
    `${Math.round(q.docsPerSecondOneThreadShort).toLocaleString()} docs/s on one thread, ` +
    `${Math.round(q.docsPerSecondWorkersShort).toLocaleString()} docs/s with the worker pool (goal ≥ 150,000)`
)
console.log(
  `  signatures, mixed texts (mean ${Math.round(q.meanChars)} chars): ` +
    `${Math.round(q.docsPerSecondOneThread).toLocaleString()} docs/s on one thread, ` +
    `${Math.round(q.docsPerSecondWorkers).toLocaleString()} docs/s with the worker pool`
)
