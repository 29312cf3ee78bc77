/**
 * `npm run bench:train` (not in CI): training pairs/s of the train.reward-model node (its loop: Effect
 * per step, progress, validation off) against a hand-written loop over the same model class, same data,
 * same batch size, in the same process, on each backend available here; scoring pairs/s; and the
 * sparse trainer on the 39,437 AlpacaEval 2 pairs (2^18 × 64 bag, hidden 64, batch 256; goal ≥ 5,000
 * pairs/s on 2 cores). BENCH_TFJS_PAIRS (default 4096) pairs for wasm, BENCH_CPU_PAIRS (512) for cpu.
 */
import { Effect } from "effect"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { featurize, load, train, transform } from "../nodes/index.js"
import { readPairs } from "../nodes/train/data.js"
import { Sql } from "../workbench/core/services.js"
import type { ModelConfig, PairSet } from "../workbench/core/trainer.js"
import { pipeline, runPipeline } from "../workbench/index.js"
import { resolveBackend } from "../workbench/io/train/backend.js"
import { SparseModel } from "../workbench/io/train/sparse.js"
import { initWeights } from "../workbench/io/train/weights.js"
import { inputTable, runWithSql } from "../test/support/sql.js"

const DIR = process.env["WB_ALPACA_EVAL_2"] ?? "../shared/data/alpaca-eval-2-weighted"
const workspace = mkdtempSync(join(tmpdir(), "wb-bench-train-"))
const root = process.cwd()
const TFJS_PAIRS = Number(process.env["BENCH_TFJS_PAIRS"] ?? 4096)
const CPU_PAIRS = Number(process.env["BENCH_CPU_PAIRS"] ?? 512)
const common = { epochs: 1, batchSize: 256, dim: 64, hidden: 64, validationFraction: 0, patience: 0, seed: 1 }

const bench = (limit: number | null, backend: "sparse" | "wasm" | "cpu") =>
  pipeline(`bench-train-${backend}`, (p) => {
    const ae = p.node("ae", load.alpacaEval({ path: DIR }))
    const feats = p.node("feats", featurize.hash(), { pairs: ae })
    const some =
      limit === null
        ? feats
        : p.node(
            "some",
            transform.sql({ sql: `SELECT * FROM pairs WHERE label IN ('a', 'b') ORDER BY pair_id LIMIT ${limit}` }),
            { pairs: feats }
          )
    const rm = p.node("rm", train.rewardModel({ ...common, backend }), { pairs: some })
    p.node("scored", train.score({ backend: backend === "sparse" ? "sparse" : backend }), { model: rm, pairs: some })
  })

/** The featurized pairs as the node reads them (same reader), for the hand-written loop. */
async function pairsOf(file: string): Promise<PairSet> {
  return runWithSql(
    Effect.gen(function* () {
      const sql = yield* Sql
      yield* sql.run(`CREATE TABLE t AS SELECT * FROM read_parquet('${file}')`)
      const input = yield* inputTable(sql, "t")
      const r = yield* readPairs(input, {
        features: "hash",
        mode: "train",
        ties: "skip",
        labelSmoothing: 0,
        where: "bench"
      })
      return r.pairs
    })
  )
}

const cfg: ModelConfig = {
  format: "wb-reward-model",
  version: 1,
  input: "bag",
  bucketsLog2: 18,
  dim: 64,
  hidden: 64,
  features: null
}

async function handLoop(pairs: PairSet, backend: "sparse" | "wasm" | "cpu"): Promise<{ train: number; score: number }> {
  const n = pairs.prompt.length,
    order = Int32Array.from({ length: n }, (_, i) => i)
  const batches = Array.from({ length: Math.ceil(n / 256) }, (_, b) => order.subarray(b * 256, (b + 1) * 256))
  let t0 = performance.now()
  let scoreSeconds: number
  if (backend === "sparse") {
    const m = new SparseModel(cfg, initWeights(cfg, 1), { kind: "adam", lr: 0.01 })
    for (const idx of batches) {
      m.pairLoss(pairs, idx, true)
      m.step(0.01)
    }
    const trainSeconds = (performance.now() - t0) / 1000
    t0 = performance.now()
    m.scorePairs(pairs)
    scoreSeconds = (performance.now() - t0) / 1000
    return { train: n / trainSeconds, score: n / scoreSeconds }
  }
  await Effect.runPromise(resolveBackend(backend, "bench"))
  const { TfjsModel } = await import("../workbench/io/train/tfjs-model.js")
  const m = new TfjsModel(cfg, initWeights(cfg, 1), "adam", 0.01)
  for (const idx of batches) m.train(pairs, idx, 0.01)
  const trainSeconds = (performance.now() - t0) / 1000
  t0 = performance.now()
  m.scorePairs(pairs)
  scoreSeconds = (performance.now() - t0) / 1000
  m.free()
  return { train: n / trainSeconds, score: n / scoreSeconds }
}

const rows: string[] = []
for (const [backend, limit] of [
  ["sparse", null],
  ["wasm", TFJS_PAIRS],
  ["cpu", CPU_PAIRS]
] as const) {
  const t0 = performance.now()
  const r = await runPipeline(bench(limit, backend), { workspace, root })
  const rm = r.report.nodes.find((x) => x.name === "rm")!,
    sc = r.report.nodes.find((x) => x.name === "scored")!
  if (rm.status !== "ran") throw new Error(`rm ${rm.status}: ${JSON.stringify(rm)}`)
  const pairs = await pairsOf(r.table(limit === null ? "feats" : "some").file)
  const hand = await handLoop(pairs, backend)
  const node = Number(rm.stats!["pairs_per_s"])
  rows.push(
    `${backend.padEnd(7)} ${String(pairs.prompt.length).padStart(6)} pairs  node ${String(node).padStart(6)} pairs/s  hand ${String(Math.round(hand.train)).padStart(6)} pairs/s  ` +
      `ratio ${(node / hand.train).toFixed(2)}  node wall ${(rm.seconds ?? 0).toFixed(1)} s  | score: node ${Math.round(pairs.prompt.length / Math.max(1e-9, sc.seconds ?? 0))} pairs/s (wall, incl. reading the model), hand ${Math.round(hand.score)} pairs/s  [backend ${rm.stats!["backend"]}] (${((performance.now() - t0) / 1000).toFixed(0)} s)`
  )
  console.log(rows.at(-1))
}
console.log("\nbench:train (1 epoch, 2^18 x 64 bag, hidden 64, batch 256, adam lr 0.01)")
for (const r of rows) console.log(r)
