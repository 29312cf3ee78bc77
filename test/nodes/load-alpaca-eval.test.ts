import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { gunzipSync } from "node:zlib"
import { tmpdir } from "node:os"
import { join } from "node:path"
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
    // the 2nd and 3rd judge's record of each pair add a vote, not a pair: removed as merged-into it
    expect(r.removed.length).toBe(2 * 805)
    expect(
      r.removed.every(
        (x) => x["reason"] === "merged-into" && ids.has(x["kept_pair_id"]) && x["kept_pair_id"] === x["pair_id"]
      )
    ).toBe(true)
    expect(r.votes.every((v) => ids.has(v["pair_id"]) && v["rater_kind"] === "ai")).toBe(true)
    expect(r.pairs[0]).toMatchObject({
      source_row: 0,
      source: "alpaca-eval",
      generator_a: "gpt4_1106_preview",
      generator_b: "gpt-3.5-turbo-0301",
      dataset: "helpful_base",
      label_source: "ai"
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

  it("reads which output each judge saw first from its annotation, and keeps the cot judge's explanation", () => {
    // independently, from the raw files: the templates name the first output "m" and the second "M"
    type Ann = {
      preference: number
      referenced_models?: Record<string, string> | null
      raw_completion: {
        ordered_models?: Array<{ model: string; rank: number }>
        logprobs?: { content: Array<{ top_logprobs: Array<{ token: string; logprob: number }> }> }
        concise_explanation?: string
      } | null
    }
    const read = (j: string) =>
      JSON.parse(gunzipSync(readFileSync(`${DIR}/${j}.annotations.json.gz`)).toString()) as Array<Ann>
    const winnerName = (a: Ann): string | undefined => {
      const ranked = a.raw_completion?.ordered_models?.find((m) => m.rank === 1)?.model
      if (ranked !== undefined) return ranked
      const top = a.raw_completion?.logprobs?.content[0]?.top_logprobs ?? []
      const lp = (t: string) => top.find((x) => x.token === t)?.logprob ?? -Infinity
      return lp("m") > lp("M") ? "m" : lp("M") > lp("m") ? "M" : undefined
    }
    const orderOf = (a: Ann): string | null => {
      const ref = a.referenced_models
      if (ref?.["m"] === "output_1" || ref?.["M"] === "output_2") return "ab"
      if (ref?.["m"] === "output_2" || ref?.["M"] === "output_1") return "ba"
      const w = winnerName(a)
      if (a.preference === 1.5 || w === undefined) return null
      return (w === "m") === a.preference < 1.5 ? "ab" : "ba"
    }
    const orders = JUDGES.map((j) => read(j).map(orderOf))
    for (const [k, j] of JUDGES.entries()) {
      expect(r.votes.filter((v) => v["rater"] === j).map((v) => v["order"])).toEqual(orders[k])
    }
    // the same seeded swap for all three judges: their orders agree on 801 pairs, and each is ~half 'ab'
    expect(orders[0]!.filter((o, i) => o !== null && o === orders[1]![i] && o === orders[2]![i]).length).toBe(801)
    expect(count(orders[2]!, (o) => o === "ab")).toBe(399)
    expect(r.votes.every((v) => v["sample"] === null)).toBe(true)
    const cot = r.votes.find((v) => v["rater"] === JUDGES[0])!
    expect(JSON.parse(String(cot["meta"])).rationale).toBe(read(JUDGES[0]!)[0]!.raw_completion!.concise_explanation)
  })

  it("labels by the judges' majority; row 370 (identical outputs) is a tie for all", () => {
    expect(["a", "b", "tie"].map((x) => count(r.pairs, (p) => p["label"] === x))).toEqual([753, 51, 1])
    const tie = r.pairs.find((p) => p["source_row"] === 370)!
    expect(tie["label"]).toBe("tie")
    expect(tie["response_a"]).toBe(tie["response_b"])
    expect(r.votes.filter((v) => v["pair_id"] === tie["pair_id"]).map((v) => [v["vote"], v["p_a"]])).toEqual([
      ["tie", 0.5],
      ["tie", 0.5],
      ["tie", 0.5]
    ])
  })

  it("takes a single file or a list of files", async () => {
    const one = await runLoad(load.alpacaEval, { path: `${DIR}/${JUDGES[1]}.annotations.json.gz` })
    expect([one.pairs.length, one.votes.length]).toEqual([805, 805])
    expect(one.pairs.map((p) => p["pair_id"])).toEqual(r.pairs.map((p) => p["pair_id"]))
    const two = await runLoad(load.alpacaEval, {
      path: [`${DIR}/${JUDGES[0]}.annotations.json.gz`, `${DIR}/${JUDGES[2]}.annotations.json.gz`]
    })
    expect(two.votes.length).toBe(1610)
  })
})

describe("load.alpaca-eval: records that repeat a pair (two models gave the same answer)", () => {
  // AlpacaEval 2's layout: one file per evaluated model, one judge, the baseline as output_1
  const record = (i: number, model: string, answer: string, preference: number) => ({
    instruction: `Question ${i}?`,
    output_1: `Baseline answer ${i}.`,
    generator_1: "gpt4_1106_preview",
    output_2: answer,
    generator_2: model,
    annotator: "weighted_alpaca_eval_gpt4_turbo",
    preference,
    dataset: "helpful_base"
  })
  const dir = mkdtempSync(join(tmpdir(), "wb-alpaca-merge-"))
  writeFileSync(
    join(dir, "m1.annotations.json"),
    JSON.stringify([0, 1, 2].map((i) => record(i, "m1", `m1 says ${i}.`, 1.9)))
  )
  // m2 answers question 1 exactly as m1 does, and judges it the other way
  writeFileSync(
    join(dir, "m2.annotations.json"),
    JSON.stringify([0, 1, 2].map((i) => record(i, "m2", i === 1 ? "m1 says 1." : `m2 says ${i}.`, i === 1 ? 1.2 : 1.7)))
  )

  it("lists the repeat in removed as merged-into its pair; its vote keeps its own generators", async () => {
    const r = await runLoad(load.alpacaEval, { path: dir })
    expect([r.out.rowsIn, r.pairs.length, r.rejects.length, r.removed.length, r.votes.length]).toEqual([6, 5, 0, 1, 6])
    const kept = r.pairs.find((p) => p["response_b"] === "m1 says 1.")!
    expect(kept).toMatchObject({ source_row: 1, generator_b: "m1" })
    expect(r.removed).toEqual([
      expect.objectContaining({
        pair_id: kept["pair_id"],
        response_b: "m1 says 1.",
        label: "a",
        source_row: 1,
        generator_a: "gpt4_1106_preview",
        generator_b: "m2",
        reason: "merged-into",
        kept_pair_id: kept["pair_id"],
        kept_source_row: 1,
        rater: "weighted_alpaca_eval_gpt4_turbo",
        file: join(dir, "m2.annotations.json")
      })
    ])
    const votes = r.votes
      .filter((v) => v["pair_id"] === kept["pair_id"])
      .map((v) => {
        const meta = JSON.parse(String(v["meta"])) as Record<string, unknown>
        return [v["rater"], v["vote"], meta["generator_b"], meta["file"]]
      })
    expect(votes).toEqual([
      ["weighted_alpaca_eval_gpt4_turbo", "b", "m1", join(dir, "m1.annotations.json")],
      ["weighted_alpaca_eval_gpt4_turbo", "a", "m2", join(dir, "m2.annotations.json")]
    ])
    expect(r.out.stats).toMatchObject({ records: 6, pairs: 5, removed: 1, votes: 6 })
  })
})
