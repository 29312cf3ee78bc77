// The train family through real pipeline runs on the shipped HH-RLHF harmless-base split: load →
// featurize.hash → split by prompt → train.reward-model → train.score / judge.reward-model on the
// held-out pairs, and train.ensemble. The model table is read back from Parquet and a held-out score
// is recomputed here, by hand, from its tensors and hashText (an independent forward pass); a second
// run is served from the cache; the same seed in a fresh workspace writes byte-identical weights.
import { createHash } from "node:crypto"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { featurize, load, split, train } from "../../nodes/index.js"
import { pipeline, runPipeline } from "../../workbench/index.js"
import { readParquet } from "../support/sql.js"
import { floats, forwardByHand } from "../support/train.js"

type Row = Record<string, unknown>

const rmPipeline = (seed: number) =>
  pipeline("rm-hh-small", (p) => {
    const hh = p.node("hh", load.hhRlhf({ path: "data/hh-rlhf-harmless-base/test.jsonl.gz" }))
    const feats = p.node("feats", featurize.hash(), { pairs: hh })
    const parts = p.node("parts", split.hash({ fractions: { train: 0.8, test: 0.2 } }), { pairs: feats })
    const rm = p.node("rm", train.rewardModel({ epochs: 2, dim: 16, hidden: 16, seed }), { pairs: parts.train })
    p.node("scored", train.score(), { model: rm, pairs: parts.test })
    p.node("rm-votes", train.judgeRewardModel(), { model: rm, pairs: parts.test })
    p.node("ens", train.ensemble({ members: 2, epochs: 1, dim: 8, hidden: 8, sampling: "bootstrap" }), {
      pairs: parts.train,
      score: parts.test
    })
  })

describe("train family on HH-RLHF harmless-base", () => {
  it("trains, scores, votes and ensembles through runPipeline; cached on rerun; deterministic per seed", async () => {
    const workspace = mkdtempSync(join(tmpdir(), "wb-train-"))
    const result = await runPipeline(rmPipeline(1), { workspace, root: process.cwd() })
    const node = (n: string) => result.report.nodes.find((x) => x.name === n)!
    for (const n of ["rm", "scored", "rm-votes", "ens"]) expect(node(n).status).toBe("ran")
    expect(node("rm").stats).toMatchObject({
      backend: "sparse",
      kernels: "wasm-simd",
      params: 2 ** 18 * 16 + 32 * 16 + 16 + 16 + 1
    })

    const model = (await readParquet(result.table("rm").file)) as Row[]
    expect(model.map((r) => r["tensor"])).toEqual(["emb", "w1", "b1", "w2", "b2"])
    expect(model.map((r) => JSON.parse(r["shape"] as string))).toEqual([[2 ** 18, 16], [32, 16], [16], [16, 1], [1]])
    const config = JSON.parse(model[0]!["config"] as string)
    expect(config).toMatchObject({ format: "wb-reward-model", input: "bag", bucketsLog2: 18, dim: 16, hidden: 16 })
    expect(config.features).toEqual({ bucketsLog2: 18, unigrams: true, bigrams: true, seed: 0, version: 1 })
    const w = Object.fromEntries(model.map((r) => [r["tensor"] as string, floats(r["data"])]))
    expect(w["emb"]!.length).toBe(2 ** 18 * 16)

    const history = (await readParquet(result.table("rm.history").file)) as Row[]
    expect(history.length).toBe(node("rm").stats!["epochs_run"])
    expect(Number(history[0]!["val_accuracy"])).toBeGreaterThan(0)

    const scored = (await readParquet(result.table("scored").file)) as Row[]
    const test = (await readParquet(result.table("parts.test").file)) as Row[]
    expect(scored.map((r) => r["pair_id"])).toEqual(test.map((r) => r["pair_id"]))
    for (const r of scored.slice(0, 20)) {
      const a = Number(r["score_a"]),
        b = Number(r["score_b"])
      expect(Number(r["p_a"])).toBeCloseTo(1 / (1 + Math.exp(b - a)), 12)
      expect(a).toBeCloseTo(forwardByHand(w, 16, 16, [r["prompt"] as string, r["response_a"] as string]), 4)
      expect(b).toBeCloseTo(forwardByHand(w, 16, 16, [r["prompt"] as string, r["response_b"] as string]), 4)
    }
    const labelled = scored.filter((r) => r["label"] === "a" || r["label"] === "b")
    const acc = labelled.filter((r) => (Number(r["p_a"]) > 0.5 ? "a" : "b") === r["label"]).length / labelled.length
    console.log(
      `held-out accuracy of a 2-epoch 2^18x16 bag on HH harmless-base: ${acc.toFixed(3)} (${labelled.length} pairs)`
    )
    expect(acc).toBeGreaterThan(0.5)

    const votes = (await readParquet(result.table("rm-votes.votes").file)) as Row[]
    expect(votes.length).toBe(scored.length)
    votes.slice(0, 50).forEach((v, i) => {
      expect(v).toMatchObject({
        pair_id: scored[i]!["pair_id"],
        rater: "reward-model:rm-votes",
        rater_kind: "reward-model"
      })
      expect(Number(v["p_a"])).toBeCloseTo(Number(scored[i]!["p_a"]), 12)
      expect(Number(v["margin"])).toBeCloseTo(Number(scored[i]!["score_a"]) - Number(scored[i]!["score_b"]), 6)
      expect(v["vote"]).toBe(Number(v["p_a"]) > 0.5 ? "a" : "b")
    })

    const ensVotes = (await readParquet(result.table("ens.votes").file)) as Row[]
    expect(ensVotes.length).toBe(2 * test.length)
    expect(new Set(ensVotes.map((v) => v["rater"]))).toEqual(new Set(["reward-model:ens#0", "reward-model:ens#1"]))
    const members = (await readParquet(result.table("ens").file)) as Row[]
    expect(members.map((r) => Number(r["member"]))).toEqual([0, 0, 0, 0, 0, 1, 1, 1, 1, 1])
    const h0 = createHash("sha256")
      .update(members[0]!["data"] as Uint8Array)
      .digest("hex")
    const h1 = createHash("sha256")
      .update(members[5]!["data"] as Uint8Array)
      .digest("hex")
    expect(h0).not.toBe(h1)

    const again = await runPipeline(rmPipeline(1), { workspace, root: process.cwd() })
    for (const n of ["rm", "scored", "ens"]) expect(again.report.nodes.find((x) => x.name === n)!.status).toBe("cached")

    const fresh = await runPipeline(rmPipeline(1), {
      workspace: mkdtempSync(join(tmpdir(), "wb-train-")),
      root: process.cwd()
    })
    const model2 = (await readParquet(fresh.table("rm").file)) as Row[]
    const digest = (rows: Row[]) =>
      rows.map((r) =>
        createHash("sha256")
          .update(r["data"] as Uint8Array)
          .digest("hex")
      )
    expect(digest(model2)).toEqual(digest(model))
  }, 300_000)
})
