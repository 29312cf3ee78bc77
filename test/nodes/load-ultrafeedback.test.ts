import { copyFileSync, mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
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

  it("emits each pair's two completions' aspect ratings (and overall) as a ratings table that joins the pairs", async () => {
    const r = await runLoad(load.ultrafeedback, { path: PATH, pairing: "best-vs-each", maxRejectRate: 0.34 })
    const ratings = r.tables["ratings"]!
    // 6 pairs x 2 sides x (4 aspects + overall)
    expect(ratings.length).toBe(6 * 2 * 5)
    expect(r.out.stats!["ratings"]).toBe(60)
    const pairIds = new Set(r.pairs.map((p) => p["pair_id"]))
    expect(ratings.every((x) => pairIds.has(x["pair_id"]) && x["rater"] === "gpt-4" && x["rater_kind"] === "ai")).toBe(
      true
    )
    // record 0's first pair: gpt-4 (chosen, 5 on every aspect) vs alpaca-7b (2, 3, 2, 3); overall 9 vs 4
    const first = r.pairs[0]!
    const chosen = first["label"] as "a" | "b"
    const of = (side: string) =>
      ratings
        .filter((x) => x["pair_id"] === first["pair_id"] && x["side"] === side)
        .map((x) => [x["aspect"], x["score"], x["scale_min"], x["scale_max"]])
    expect(of(chosen)).toEqual([
      ["helpfulness", 5, 1, 5],
      ["honesty", 5, 1, 5],
      ["instruction_following", 5, 1, 5],
      ["truthfulness", 5, 1, 5],
      ["overall", 9, 1, 10]
    ])
    expect(of(chosen === "a" ? "b" : "a").map((x) => x[1])).toEqual([2, 3, 2, 3, 4])
    const alpaca = ratings.find(
      (x) => x["pair_id"] === first["pair_id"] && x["side"] !== chosen && x["aspect"] === "helpfulness"
    )!
    expect(alpaca["rationale"]).toBe("Rated 2 for this aspect.")
    expect(
      ratings.find((x) => x["pair_id"] === first["pair_id"] && x["side"] !== chosen && x["aspect"] === "overall")![
        "rationale"
      ]
    ).toBe("Critique of alpaca-7b.")
    // record 3: honesty "N/A" is a NULL score, not a 0
    const r3 = r.pairs.find((p) => p["source_row"] === 3)!
    const honesty = ratings.filter((x) => x["pair_id"] === r3["pair_id"] && x["aspect"] === "honesty")
    expect(honesty.map((x) => x["score"])).toEqual([null, null])
    // the score_a / score_b the pairs carry are the mean of the side's aspect ratings
    for (const p of r.pairs) {
      for (const side of ["a", "b"]) {
        const xs = ratings
          .filter((x) => x["pair_id"] === p["pair_id"] && x["side"] === side && x["aspect"] !== "overall")
          .flatMap((x) => (x["score"] === null ? [] : [Number(x["score"])]))
        expect(xs.reduce((a, b) => a + b, 0) / xs.length).toBeCloseTo(Number(p[`score_${side}`]), 12)
      }
    }
    expect(r.tables["raters"]).toEqual([{ rater: "gpt-4", rater_kind: "ai", attributes: '{"model":"gpt-4"}' }])
  })

  it("stacks the ratings and raters of several files, as it stacks their pairs", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wb-uf-files-"))
    for (const name of ["one.jsonl", "two.jsonl"]) copyFileSync(PATH, join(dir, name))
    const r = await runLoad(load.ultrafeedback, {
      path: [join(dir, "one.jsonl"), join(dir, "two.jsonl")],
      pairing: "best-vs-each",
      maxRejectRate: 0.34
    })
    expect(r.pairs.length).toBe(12)
    expect(r.tables["ratings"]!.length).toBe(120)
    const ids = new Set(r.pairs.map((p) => p["pair_id"]))
    expect(r.tables["ratings"]!.every((x) => ids.has(x["pair_id"]))).toBe(true)
    expect(r.tables["raters"]).toEqual([{ rater: "gpt-4", rater_kind: "ai", attributes: '{"model":"gpt-4"}' }])
  })

  it("fails on the malformed records by default", async () => {
    const e = await runLoadError(load.ultrafeedback, { path: PATH })
    expect(e.message.split("\n")[0]).toBe(
      `node "n" (load.ultrafeedback) file ${PATH}: 2 of 6 records rejected (33.3%): ` +
        `line 5: completions[1].response: expected a string, got null; line 6: instruction: missing`
    )
  })
})
