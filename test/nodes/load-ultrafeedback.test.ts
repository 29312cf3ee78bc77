import { describe, expect, it } from "vitest"
import { load } from "../../nodes/load/index.js"
import { runLoad, runLoadError, type Row } from "./load-helpers.js"

const PATH = "test/fixtures/data/ultrafeedback.jsonl"
/** [record, chosen model, rejected model, chosen score, rejected score] */
const view = (p: Row) => {
  const aWins = p["label"] === "a"
  return [
    p["source_row"],
    aWins ? p["model_a"] : p["model_b"],
    aWins ? p["model_b"] : p["model_a"],
    aWins ? p["score_a"] : p["score_b"],
    aWins ? p["score_b"] : p["score_a"]
  ]
}

describe("load.ultrafeedback", () => {
  it("pairs the best completion with each lower one; ties and repeated texts never pair", async () => {
    const r = await runLoad(load.ultrafeedback, { path: PATH, pairing: "best-vs-each", maxRejectRate: 0.34 })
    // record 1: alpaca-7b and gpt-4 tie at 5 (the first is best); record 2: all tie; record 3: llama repeats gpt-4's text
    expect(r.pairs.map(view)).toEqual([
      [0, "gpt-4", "alpaca-7b", 5, 2.5],
      [0, "gpt-4", "llama-2-13b-chat", 5, 4.5],
      [0, "gpt-4", "wizardlm-7b", 5, 1.5],
      [1, "alpaca-7b", "llama-2-13b-chat", 5, 2.5],
      [1, "alpaca-7b", "wizardlm-7b", 5, 4.5],
      [3, "gpt-4", "alpaca-7b", 5, 2]
    ])
    for (const p of r.pairs) {
      expect(p["response_a"]).not.toBe(p["response_b"])
      expect(p["score_a"]).not.toBe(p["score_b"])
    }
    expect(r.pairs[0]).toMatchObject({
      prompt: "Explain photosynthesis in one sentence.",
      label_source: "ai",
      source: "ultrafeedback",
      src_source: "evol_instruct"
    })
    expect(r.rejects.map((x) => [x["line"], x["reason"]])).toEqual([
      [5, "completions[1].response: expected a string, got null"],
      [6, "instruction: missing"]
    ])
    // rows in count a record once per pair it gives (6 pairs), or once when rejected (2) or pairless (1)
    expect(r.out.rowsIn).toBe(9)
    expect(r.out.stats).toMatchObject({
      records: 6,
      pairs: 6,
      rejected: 2,
      removed: 1,
      completions: 13,
      records_without_pair: 1
    })
    expect(r.removed.map((x) => [x["source_row"], x["reason"], x["response_a"], x["kept_pair_id"]])).toEqual([
      [2, "no-pair", null, null]
    ])
  })

  it("best-vs-random draws one lower completion per record, by seed", async () => {
    const r = await runLoad(load.ultrafeedback, { path: PATH, maxRejectRate: 0.34 })
    expect(r.pairs.map((p) => p["source_row"])).toEqual([0, 1, 3])
    expect(r.pairs.map((p) => view(p)[1])).toEqual(["gpt-4", "alpaca-7b", "gpt-4"])
    const drawn = new Set<string>()
    for (const seed of [1, 2, 3, 4]) {
      const s = await runLoad(load.ultrafeedback, { path: PATH, seed, maxRejectRate: 0.34 })
      drawn.add(String(view(s.pairs[0]!)[2]))
    }
    expect(drawn.size).toBeGreaterThan(1)
  })

  it("ranks by overall_score when asked", async () => {
    const r = await runLoad(load.ultrafeedback, {
      path: PATH,
      score: "overall",
      pairing: "best-vs-each",
      maxRejectRate: 0.34
    })
    expect(r.pairs.filter((p) => p["source_row"] === 1).map(view)).toEqual([
      [1, "alpaca-7b", "llama-2-13b-chat", 9, 5],
      [1, "alpaca-7b", "wizardlm-7b", 9, 7]
    ])
    expect(r.pairs.filter((p) => p["source_row"] === 3).map(view)).toEqual([[3, "gpt-4", "alpaca-7b", 9.5, 3]])
  })

  it("fails on the malformed records by default", async () => {
    const e = await runLoadError(load.ultrafeedback, { path: PATH })
    expect(e.message.split("\n")[0]).toBe(
      `node "n" (load.ultrafeedback) file ${PATH}: 2 of 6 records rejected (33.3%): ` +
        `line 5: completions[1].response: expected a string, got null; line 6: instruction: missing`
    )
  })
})
