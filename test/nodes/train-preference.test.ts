// train.preference-model through a real pipeline run on the shipped HH-RLHF harmless-base split: load →
// featurize.hash → split by prompt → train.preference-model → train.score, judge.reward-model and
// evaluate.accuracy on the held-out pairs. The model table is read back from Parquet (head preference,
// w1 [3·dim, hidden]) and p_a is recomputed here, by hand, from its tensors and hashText: σ(g(p,a,b) −
// g(p,b,a)), with g(p,b,a) giving exactly 1 − p_a; score_a / score_b are NULL; the votes and
// evaluate.accuracy (auto: p_a on rows without scores) agree with p_a; a rerun is served from the cache.
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { evaluate, featurize, load, split, train } from "../../nodes/index.js"
import { pipeline, runPipeline } from "../../workbench/index.js"
import { readParquet } from "../support/sql.js"
import { floats, forwardByHand } from "../support/train.js"

type Row = Record<string, unknown>
const DIM = 8,
  HIDDEN = 8

const pmPipeline = pipeline("pm-hh-small", (p) => {
  const hh = p.node("hh", load.hhRlhf({ path: "data/hh-rlhf-harmless-base/test.jsonl.gz" }))
  const feats = p.node("feats", featurize.hash(), { pairs: hh })
  const parts = p.node("parts", split.hash({ fractions: { train: 0.8, test: 0.2 } }), { pairs: feats })
  const pm = p.node("pm", train.preferenceModel({ epochs: 2, dim: DIM, hidden: HIDDEN }), { pairs: parts.train })
  const scored = p.node("scored", train.score(), { model: pm, pairs: parts.test })
  p.node("pm-votes", train.judgeRewardModel(), { model: pm, pairs: parts.test })
  p.node("acc", evaluate.accuracy({ resamples: 50 }), { pairs: scored })
})

/** g(p, x, y): the forward pass over [p; x; y], written out again. */
const gByHand = (m: Record<string, Float32Array>, prompt: string, x: string, y: string) =>
  forwardByHand(m, DIM, HIDDEN, [prompt, x, y])

const σ = (x: number) => 1 / (1 + Math.exp(-x))

describe("train.preference-model on HH-RLHF harmless-base", () => {
  it("trains, scores p_a (antisymmetric, checked by hand), votes and evaluates; cached on rerun", async () => {
    const workspace = mkdtempSync(join(tmpdir(), "wb-pm-"))
    const result = await runPipeline(pmPipeline, { workspace, root: process.cwd() })
    const node = (n: string) => result.report.nodes.find((x) => x.name === n)!
    for (const n of ["pm", "scored", "pm-votes", "acc"]) expect(node(n).status).toBe("ran")
    expect(node("pm").stats).toMatchObject({
      backend: "sparse",
      params: 2 ** 18 * DIM + 3 * DIM * HIDDEN + 2 * HIDDEN + 1
    })
    expect(node("scored").stats).toMatchObject({ head: "preference" })

    const model = (await readParquet(result.table("pm").file)) as Row[]
    expect(model.map((r) => JSON.parse(r["shape"] as string))).toEqual([
      [2 ** 18, DIM],
      [3 * DIM, HIDDEN],
      [HIDDEN],
      [HIDDEN, 1],
      [1]
    ])
    expect(JSON.parse(model[0]!["config"] as string)).toMatchObject({ format: "wb-reward-model", head: "preference" })
    const w = Object.fromEntries(model.map((r) => [r["tensor"] as string, floats(r["data"])]))

    const scored = (await readParquet(result.table("scored").file)) as Row[]
    const test = (await readParquet(result.table("parts.test").file)) as Row[]
    expect(scored.map((r) => r["pair_id"])).toEqual(test.map((r) => r["pair_id"]))
    for (const r of scored) {
      expect(r["score_a"]).toBeNull()
      expect(r["score_b"]).toBeNull()
    }
    const spread = scored.map((r) => Number(r["p_a"]))
    expect(Math.max(...spread) - Math.min(...spread)).toBeGreaterThan(0.01)
    for (const r of scored.slice(0, 20)) {
      const [p, a, b] = [r["prompt"], r["response_a"], r["response_b"]] as string[]
      const gab = gByHand(w, p!, a!, b!),
        gba = gByHand(w, p!, b!, a!)
      expect(Number(r["p_a"])).toBeCloseTo(σ(gab - gba), 5)
      expect(σ(gab - gba) + σ(gba - gab)).toBeCloseTo(1, 12) // P(b ≻ a) = 1 − P(a ≻ b)
    }

    const votes = (await readParquet(result.table("pm-votes.votes").file)) as Row[]
    expect(votes.length).toBe(scored.length)
    votes.forEach((v, i) => {
      const pa = Number(scored[i]!["p_a"])
      expect(Number(v["p_a"])).toBeCloseTo(pa, 12)
      expect(σ(Number(v["margin"]))).toBeCloseTo(pa, 6)
      expect(v["vote"]).toBe(pa > 0.5 ? "a" : pa < 0.5 ? "b" : "tie")
      expect(JSON.parse(v["meta"] as string)).toMatchObject({ score_a: null, score_b: null })
    })

    const labelled = scored.filter((r) => r["label"] === "a" || r["label"] === "b")
    const right = labelled.filter((r) => (r["label"] === "a" ? Number(r["p_a"]) > 0.5 : Number(r["p_a"]) < 0.5)).length
    const metrics = (await readParquet(result.table("acc").file)) as Row[]
    const overall = metrics.find((m) => m["metric"] === "accuracy" && m["slice_by"] === "(all)")!
    expect(Number(overall["n"])).toBe(labelled.length)
    expect(Number(overall["value"])).toBeCloseTo(right / labelled.length, 12)
    expect(node("acc").stats).toMatchObject({ counted: labelled.length, no_score: 0 })
    console.log(
      `held-out accuracy of a 2-epoch preference model on HH harmless-base: ${(right / labelled.length).toFixed(3)}`
    )

    const again = await runPipeline(pmPipeline, { workspace, root: process.cwd() })
    for (const n of ["pm", "scored", "acc"]) expect(again.report.nodes.find((x) => x.name === n)!.status).toBe("cached")
  }, 300_000)
})
