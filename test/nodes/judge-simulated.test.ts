// judge.simulated: an AlpacaFarm-style pool on PandaLM's human labels, checked vote for vote against
// an independent JavaScript implementation of the documented draws (md5 over seed, pair_id, annotator, purpose).
import { createHash } from "node:crypto"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { judge } from "../../nodes/judge/index.js"
import { load } from "../../nodes/load/index.js"
import { pipeline } from "../../workbench/core/pipeline.js"
import { runPipeline } from "../../workbench/run-pipeline.js"
import { readParquet } from "../support/sql.js"

type Row = Record<string, unknown>
const DATA = resolve("data/pandalm-testset")

/** The draw judge.simulated documents: 13 hex digits of md5(seed, pair_id, annotator, purpose) / 2^52. */
const draw = (seed: number, pairId: string, i: number, purpose: string) =>
  Number.parseInt(createHash("md5").update([seed, pairId, i, purpose].join("\x1f")).digest("hex").slice(0, 13), 16) /
  2 ** 52

/** The votes the documented model gives for one labelled pair and annotator. */
function expectedVote(seed: number, pairId: string, label: string, i: number, flip: number, bias: number | null) {
  const order = draw(seed, pairId, i, "order") < 0.5 ? "ab" : "ba"
  const noisy = draw(seed, pairId, i, "noise") < flip
  const pick = draw(seed, pairId, i, "pick")
  const first = order === "ab" ? "a" : "b",
    second = order === "ab" ? "b" : "a"
  const flipped = label === "a" ? "b" : label === "b" ? "a" : pick < 0.5 ? "a" : "b"
  const vote = !noisy ? label : bias === null ? flipped : pick < bias ? first : second
  return { vote, order, noisy }
}

const runSim = (sims: Record<string, Parameters<typeof judge.simulated>[0]>, withVotes = false) => {
  const root = mkdtempSync(join(tmpdir(), "wb-simulated-"))
  const def = pipeline("simulated", (p) => {
    const panda = p.node("panda", load.pandalm({ path: DATA, maxRejectRate: 0.01 }))
    for (const [name, params] of Object.entries(sims))
      p.node(name, judge.simulated(params), withVotes ? { pairs: panda, votes: panda.votes } : { pairs: panda })
  })
  return runPipeline(def, { root, workspace: join(root, ".wb"), threads: 2 })
}

describe("judge.simulated on PandaLM's human-majority labels", () => {
  let res: Awaited<ReturnType<typeof runSim>>
  let pairs: ReadonlyArray<Row>
  const read = (node: string, table: string) => readParquet(res.nodes[node]!.tables[table]!)
  beforeAll(async () => {
    res = await runSim(
      {
        flips: { annotators: 3, flipRate: [0, 0.3, 1], seed: 7 },
        biased: { annotators: 2, flipRate: 0.5, positionBias: [1, 0.5], labelFrom: "votes", voterKind: "human" }
      },
      true
    )
    pairs = await readParquet(res.nodes["panda"]!.tables["pairs"]!)
  })

  it("gives every labelled pair one vote per annotator, exactly as the documented draws say", async () => {
    expect(res.report.status).toBe("ok")
    const votes = await read("flips", "votes")
    expect(votes.length).toBe(3 * 993)
    const expected = pairs.flatMap((p) =>
      [0, 0.3, 1].map((flip, k) => {
        const e = expectedVote(7, String(p["pair_id"]), String(p["label"]), k + 1, flip, null)
        return [p["pair_id"], `sim:${k + 1}`, "simulated", e.vote, e.order, p["source_row"], e.noisy]
      })
    )
    const meta = (v: Row) => JSON.parse(String(v["meta"])) as { source_row: number; noisy: boolean; label: string }
    expect(
      votes.map((v) => [
        v["pair_id"],
        v["rater"],
        v["rater_kind"],
        v["vote"],
        v["order"],
        meta(v).source_row,
        meta(v).noisy
      ])
    ).toEqual(expected)
    expect(votes.every((v) => v["p_a"] === null && v["sample"] === null)).toBe(true)
    const agree = (rater: string) => votes.filter((v) => v["rater"] === rater && v["vote"] === meta(v).label).length
    expect([agree("sim:1"), agree("sim:3")]).toEqual([993, 0])
    // about 30% of sim:2's votes are noisy, and about half the pairs are shown a first
    const noisy = votes.filter((v) => v["rater"] === "sim:2" && meta(v).noisy).length
    expect(Math.abs(noisy / 993 - 0.3)).toBeLessThan(0.04)
    expect(Math.abs(votes.filter((v) => v["order"] === "ab").length / votes.length - 0.5)).toBeLessThan(0.03)
    const stats = res.report.nodes.find((n) => n.name === "flips")!.stats!
    expect(stats).toMatchObject({ votes: 2979, unlabelled: 0, noisy: 993 + noisy })
    expect(stats["agreement"]).toBeCloseTo((993 + agree("sim:2")) / 2979, 12)
    expect(await read("flips", "raters")).toEqual(
      [0, 0.3, 1].map((flip, k) => ({
        rater: `sim:${k + 1}`,
        rater_kind: "simulated",
        attributes: JSON.stringify({ flipRate: flip, positionBias: null, seed: 7, labelFrom: "pairs" })
      }))
    )
  })

  it("starts from the human votes' majority per row, and a position-biased annotator picks the first shown when noisy", async () => {
    const votes = await read("biased", "votes")
    const expected = pairs.flatMap((p) =>
      [1, 0.5].map((bias, k) => {
        const e = expectedVote(0, String(p["pair_id"]), String(p["label"]), k + 1, 0.5, bias)
        return [p["pair_id"], `sim:${k + 1}`, e.vote, e.order]
      })
    )
    expect(votes.map((v) => [v["pair_id"], v["rater"], v["vote"], v["order"]])).toEqual(expected)
    const firstShown = votes.filter((v) => v["rater"] === "sim:1" && JSON.parse(String(v["meta"])).noisy)
    expect(firstShown.length).toBeGreaterThan(400)
    expect(firstShown.every((v) => v["vote"] === String(v["order"])[0])).toBe(true)
    expect(res.report.nodes.find((n) => n.name === "biased")!.stats!["first_shown"]).toBeGreaterThan(0.6)
  })

  it("draws another pool with another seed, and refuses lists that do not fit the pool before anything runs", async () => {
    const other = await runSim({ flips: { annotators: 3, flipRate: [0, 0.3, 1], seed: 8 } })
    const a = (await read("flips", "votes")).filter((v) => v["rater"] === "sim:2").map((v) => v["vote"])
    const b = (await readParquet(other.nodes["flips"]!.tables["votes"]!))
      .filter((v) => v["rater"] === "sim:2")
      .map((v) => v["vote"])
    expect(a).not.toEqual(b)
    await expect(runSim({ bad: { annotators: 3, flipRate: [0.1, 0.2] } })).rejects.toThrow(
      /node "bad" \(judge\.simulated\): flipRate lists 2 values for 3 annotators/
    )
    await expect(runSim({ bad: { labelFrom: "votes" } })).rejects.toThrow(
      /labelFrom is votes, and no votes input is connected/
    )
  })
})
