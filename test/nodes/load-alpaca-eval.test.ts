import { describe, expect, it } from "vitest"
import { load } from "../../nodes/load/index.js"
import { count, type LoadResult, runLoad } from "./load-helpers.js"

const DIR = "data/alpaca-eval-gpt-3.5-turbo-0301"
const JUDGES = ["alpaca_eval_cot_gpt4_turbo_fn", "alpaca_eval_gpt4_turbo_fn", "weighted_alpaca_eval_gpt4_turbo"]

describe("load.alpaca-eval on the shipped annotations", () => {
  let r: LoadResult

  it("loads 805 pairs with 3 judges' votes each", async () => {
    r = await runLoad(load.alpacaEval, { path: DIR })
    expect(r.pairs.length).toBe(805)
    expect(r.votes.length).toBe(3 * 805)
    expect(r.rejects.length).toBe(0)
    expect(r.out.rowsIn).toBe(3 * 805)
    expect(r.out.stats).toMatchObject({ files: 3, judges: 3, records: 2415, pairs: 805, votes: 2415, rejected: 0 })
    for (const j of JUDGES) expect(count(r.votes, (v) => v["rater"] === j)).toBe(805)
    const ids = new Set(r.pairs.map((p) => p["pair_id"]))
    expect(ids.size).toBe(805)
    expect(r.votes.every((v) => ids.has(v["pair_id"]) && v["rater_kind"] === "ai")).toBe(true)
    expect(r.pairs[0]).toMatchObject({
      source_row: 0, source: "alpaca-eval", generator_a: "gpt4_1106_preview", generator_b: "gpt-3.5-turbo-0301",
      dataset: "helpful_base", label_source: "ai"
    })
    expect(String(r.pairs[0]!["prompt"]).startsWith("What are the names of some famous actors")).toBe(true)
  })

  it("turns preferences into votes and p_a = 2 - preference", () => {
    const votesOf = (j: string) => r.votes.filter((v) => v["rater"] === j)
    const tally = (j: string) => ["a", "b", "tie"].map((x) => count(votesOf(j), (v) => v["vote"] === x))
    expect(tally(JUDGES[0]!)).toEqual([751, 53, 1])
    expect(tally(JUDGES[1]!)).toEqual([740, 64, 1])
    expect(tally(JUDGES[2]!)).toEqual([733, 71, 1])
    expect(votesOf(JUDGES[1]!).every((v) => v["p_a"] === 1 || v["p_a"] === 0 || v["p_a"] === 0.5)).toBe(true)
    const w = votesOf(JUDGES[2]!)[0]!
    const meta = JSON.parse(String(w["meta"])) as { preference: number; record: number }
    expect(meta.record).toBe(0)
    expect(w["p_a"]).toBeCloseTo(2 - meta.preference, 12)
    expect(meta.preference).toBeCloseTo(1.000012607, 9)
    expect(count(votesOf(JUDGES[2]!), (v) => Number(v["p_a"]) > 0 && Number(v["p_a"]) < 1)).toBeGreaterThan(700)
  })

  it("labels by the judges' majority; row 370 (identical outputs) is a tie for all", () => {
    expect(["a", "b", "tie"].map((x) => count(r.pairs, (p) => p["label"] === x))).toEqual([753, 51, 1])
    const tie = r.pairs.find((p) => p["source_row"] === 370)!
    expect(tie["label"]).toBe("tie")
    expect(tie["response_a"]).toBe(tie["response_b"])
    expect(r.votes.filter((v) => v["pair_id"] === tie["pair_id"]).map((v) => [v["vote"], v["p_a"]])).toEqual([["tie", 0.5], ["tie", 0.5], ["tie", 0.5]])
  })

  it("takes a single file or a list of files", async () => {
    const one = await runLoad(load.alpacaEval, { path: `${DIR}/${JUDGES[1]}.annotations.json.gz` })
    expect([one.pairs.length, one.votes.length]).toEqual([805, 805])
    expect(one.pairs.map((p) => p["pair_id"])).toEqual(r.pairs.map((p) => p["pair_id"]))
    const two = await runLoad(load.alpacaEval, { path: [`${DIR}/${JUDGES[0]}.annotations.json.gz`, `${DIR}/${JUDGES[2]}.annotations.json.gz`] })
    expect(two.votes.length).toBe(1610)
  })
})
