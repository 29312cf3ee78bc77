/**
 * `npm run bench:train` (not in CI): training pairs/s of the train.reward-model node against a
 * hand-written loop over the same model class in the same process, on each backend available here,
 * doing the node's exact work: the pairs the node reads (same reader, same featurized Parquet), the
 * same seeded shuffled batch order (validation off, 1 epoch, batch 256, adam lr 0.01), the same init.
 * Two clocks, counted the same way on both sides:
 * - train: seconds inside the training steps only (the node's `pairs_per_s` stat; the hand loop's
 *   steps), so the ratio is the node's loop overhead (Effect per step, progress, history);
 * - wall: the node's whole run (reading its pairs out of DuckDB, training, writing the model table)
 *   against the hand loop's readPairs + steps (it writes nothing).
 * Node and hand runs alternate (BENCH_REPS rounds, default 3, the first side swapping each round, a
 * new seed each round so the node is not served from the cache); medians are printed. Scoring:
 * train.score's wall against the hand SparseModel/TfjsModel.scorePairs. The sparse trainer runs on all
 * 38,763 labelled AlpacaEval 2 pairs (2^18 × 64 bag, hidden 64; goal ≥ 5,000 pairs/s on 2 cores);
 * wasm on BENCH_TFJS_PAIRS (default 4096), cpu on BENCH_CPU_PAIRS (512). BENCH_BACKENDS picks
 * backends (default sparse,wasm,cpu).
 */
import { Effect } from "effect"
import { mkdtempSync } from "node:fs"
import { availableParallelism, tmpdir } from "node:os"
import { join } from "node:path"
import { featurize, load, train, transform } from "../nodes/index.js"
import { readPairs } from "../nodes/train/data.js"
import { Sql } from "../workbench/core/services.js"
import type { ModelConfig, PairSet } from "../workbench/core/trainer.js"
import { pipeline, runPipeline } from "../workbench/index.js"
import { resolveBackend } from "../workbench/io/train/backend.js"
import { splitIndices } from "../workbench/io/train/loop.js"
import { SparseModel } from "../workbench/io/train/sparse.js"
import { initWeights, mulberry32, shuffleInPlace } from "../workbench/io/train/weights.js"
import { inputTable, runWithSql } from "../test/support/sql.js"

type Backend = "sparse" | "wasm" | "cpu"
const DIR = process.env["WB_ALPACA_EVAL_2"] ?? "../shared/data/alpaca-eval-2-weighted"
const workspace = mkdtempSync(join(tmpdir(), "wb-bench-train-"))
const root = process.cwd()
const REPS = Number(process.env["BENCH_REPS"] ?? 3)
const LIMIT: Record<Backend, number | null> = {
  sparse: null,
  wasm: Number(process.env["BENCH_TFJS_PAIRS"] ?? 4096),
  cpu: Number(process.env["BENCH_CPU_PAIRS"] ?? 512)
}
const BACKENDS = (process.env["BENCH_BACKENDS"] ?? "sparse,wasm,cpu").split(",") as Backend[]
const common = { epochs: 1, batchSize: 256, dim: 64, hidden: 64, validationFraction: 0, patience: 0 }
const cfg: ModelConfig = {
  format: "wb-reward-model",
  version: 1,
  input: "bag",
  bucketsLog2: 18,
  dim: 64,
  hidden: 64,
  features: null
}

const bench = (backend: Backend, seed: number) =>
  pipeline(`bench-train-${backend}`, (p) => {
    const ae = p.node("ae", load.alpacaEval({ path: DIR }))
    const feats = p.node("feats", featurize.hash(), { pairs: ae })
    const limit = LIMIT[backend]
    const some =
      limit === null
        ? feats
        : p.node(
            "some",
            transform.sql({ sql: `SELECT * FROM pairs WHERE label IN ('a', 'b') ORDER BY pair_id LIMIT ${limit}` }),
            { pairs: feats }
          )
    const rm = p.node("rm", train.rewardModel({ ...common, seed, backend }), { pairs: some })
    p.node("scored", train.score({ backend }), { model: rm, pairs: some })
  })

/** The featurized pairs through the node's reader; `seconds`: the reader alone (the table is loaded first). */
async function pairsOf(file: string): Promise<{ pairs: PairSet; seconds: number }> {
  return runWithSql(
    Effect.gen(function* () {
      const sql = yield* Sql
      yield* sql.run(`CREATE TABLE t AS SELECT * FROM read_parquet('${file}')`)
      const input = yield* inputTable(sql, "t")
      const t0 = performance.now()
      const r = yield* readPairs(input, {
        features: "hash",
        mode: "train",
        ties: "skip",
        labelSmoothing: 0,
        where: "bench"
      })
      return { pairs: r.pairs, seconds: (performance.now() - t0) / 1000 }
    })
  )
}

/** The node's batches: loop.ts's split (validation 0) and its seeded shuffle for epoch 0. */
function batchesOf(n: number, seed: number, size: number): Int32Array[] {
  const order = shuffleInPlace(splitIndices(n, 0, seed).train.slice(), mulberry32(seed + 2))
  return Array.from({ length: Math.ceil(n / size) }, (_, b) => order.subarray(b * size, (b + 1) * size))
}

interface Figures {
  train: number
  wall: number
  score: number
}

async function hand(file: string, backend: Backend, seed: number): Promise<Figures> {
  const { pairs, seconds: readSeconds } = await pairsOf(file)
  const n = pairs.prompt.length,
    batches = batchesOf(n, seed, 256)
  let stepSeconds = 0,
    t0: number
  let scoreSeconds: number
  if (backend === "sparse") {
    // the node's thread count (live.ts: one per core, at most 4), so the ratio compares like with like
    const m = new SparseModel(
      cfg,
      initWeights(cfg, seed),
      { kind: "adam", lr: 0.01 },
      Math.min(4, availableParallelism())
    )
    for (const idx of batches) {
      t0 = performance.now()
      m.pairLoss(pairs, idx, true)
      m.step(0.01)
      stepSeconds += (performance.now() - t0) / 1000
    }
    t0 = performance.now()
    m.scorePairs(pairs)
    scoreSeconds = (performance.now() - t0) / 1000
    m.close()
  } else {
    await Effect.runPromise(resolveBackend(backend, "bench"))
    const { TfjsModel } = await import("../workbench/io/train/tfjs-model.js")
    const m = new TfjsModel(cfg, initWeights(cfg, seed), "adam", 0.01)
    for (const idx of batches) {
      t0 = performance.now()
      m.train(pairs, idx, 0.01)
      stepSeconds += (performance.now() - t0) / 1000
    }
    t0 = performance.now()
    m.scorePairs(pairs)
    scoreSeconds = (performance.now() - t0) / 1000
    m.free()
  }
  return { train: n / stepSeconds, wall: n / (readSeconds + stepSeconds), score: n / scoreSeconds }
}

async function node(backend: Backend, seed: number): Promise<Figures & { file: string; n: number; used: string }> {
  const r = await runPipeline(bench(backend, seed), { workspace, root })
  const rm = r.report.nodes.find((x) => x.name === "rm")!,
    sc = r.report.nodes.find((x) => x.name === "scored")!
  if (rm.status !== "ran" || sc.status !== "ran") throw new Error(`rm ${rm.status}, scored ${sc.status}`)
  const n = Number(rm.stats!["pairs"])
  return {
    file: r.table(LIMIT[backend] === null ? "feats" : "some").file,
    n,
    used: String(rm.stats!["backend"]),
    train: Number(rm.stats!["pairs_per_s"]),
    wall: n / (rm.seconds ?? Number.NaN),
    score: n / (sc.seconds ?? Number.NaN)
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}
const fmt = (x: number) => String(Math.round(x)).padStart(6)

const rows: string[] = []
for (const backend of BACKENDS) {
  // the featurized pairs (cached after the first run) and a warm-up of both sides
  const first = await node(backend, 1000)
  await hand(first.file, backend, 1000)
  const N: Figures[] = [],
    H: Figures[] = []
  for (let rep = 0; rep < REPS; rep++) {
    const seed = rep + 1
    if (rep % 2 === 0) N.push(await node(backend, seed))
    H.push(await hand(first.file, backend, seed))
    if (rep % 2 === 1) N.push(await node(backend, seed))
    console.log(
      `${backend} round ${rep + 1}: node train ${fmt(N.at(-1)!.train)} wall ${fmt(N.at(-1)!.wall)} | hand train ${fmt(H.at(-1)!.train)} wall ${fmt(H.at(-1)!.wall)} pairs/s`
    )
  }
  const m = (xs: Figures[], k: keyof Figures) => median(xs.map((x) => x[k]))
  rows.push(
    `${backend.padEnd(6)} ${String(first.n).padStart(6)} pairs | train: node ${fmt(m(N, "train"))} hand ${fmt(m(H, "train"))} ratio ${(m(N, "train") / m(H, "train")).toFixed(2)}` +
      ` | wall: node ${fmt(m(N, "wall"))} hand ${fmt(m(H, "wall"))} ratio ${(m(N, "wall") / m(H, "wall")).toFixed(2)}` +
      ` | score: node ${fmt(m(N, "score"))} (wall) hand ${fmt(m(H, "score"))}  [${first.used}]`
  )
  console.log(rows.at(-1))
}
console.log(
  `\nbench:train (medians of ${REPS} alternating rounds; pairs/s; 1 epoch, 2^18 x 64 bag, hidden 64, batch 256, adam lr 0.01)`
)
for (const r of rows) console.log(r)
