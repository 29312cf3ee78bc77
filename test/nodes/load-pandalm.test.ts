import { describe, expect, it } from "vitest"
import { load } from "../../nodes/load/index.js"
import { count, type LoadResult, runLoad, runLoadError } from "./load-helpers.js"

const DIR = "data/pandalm-testset"

describe("load.pandalm on the shipped test set", () => {
  let r: LoadResult

  it("loads 993 pairs and rejects the 6 records holding a boolean response", async () => {
    r = await runLoad(load.pandalm, { path: DIR, maxRejectRate: 0.01 })
    expect(r.pairs.length).toBe(993)
    expect(r.out.rowsIn).toBe(999)
    const f = `${DIR}/testset-v1.json`
    // a JSON array: rejects name the element index
    expect(r.rejects.map((x) => [x["file"], x["index"], x["reason"]])).toEqual([
      [f, 157, "response1: expected a string, got a boolean"],
      [f, 158, "response1: expected a string, got a boolean"],
      [f, 159, "response1: expected a string, got a boolean"],
      [f, 161, "response2: expected a string, got a boolean"],
      [f, 162, "response2: expected a string, got a boolean"],
      [f, 164, "response1: expected a string, got a boolean"]
    ])
    expect(JSON.parse(String(r.rejects[0]!["raw"]))).toMatchObject({ idx: 157, response1: true })
    expect(r.pairs.some((p) => [157, 158, 159, 161, 162, 164].includes(Number(p["idx"])))).toBe(false)
  })

  it("keeps the 54 empty responses and joins instruction and input", () => {
    expect(count(r.pairs, (p) => p["response_a"] === "" || p["response_b"] === "")).toBe(54)
    expect(r.out.stats!["empty_responses"]).toBe(54)
    const first = r.pairs[0]!
    expect(String(first["prompt"]).startsWith("The sentence you are given might be too wordy")).toBe(true)
    expect(String(first["prompt"])).toContain("unnecessary words.\n\nIf you have any questions about my rate")
    expect(first).toMatchObject({
      idx: 0,
      cmp_key: "bloom-7b_llama-7b",
      motivation_app: "Grammarly",
      source: "pandalm",
      source_row: 0
    })
    expect(count(r.pairs, (p) => !String(p["prompt"]).includes("\n\n"))).toBeGreaterThan(100) // the rows with an empty input
  })

  it("labels each pair with the human majority", () => {
    expect(count(r.pairs, (p) => p["label"] === "a")).toBe(418)
    expect(count(r.pairs, (p) => p["label"] === "b")).toBe(470)
    expect(count(r.pairs, (p) => p["label"] === "tie")).toBe(105)
    expect(r.pairs.every((p) => p["label_source"] === "human")).toBe(true)
    expect(r.pairs[0]!["label"]).toBe("b") // idx 0: annotators 2, 2, 2
  })

  it("has 5 votes per pair: 3 human annotators and 2 AI judges, garbage as a null vote", () => {
    expect(r.votes.length).toBe(5 * 993)
    const by = (rater: string) => r.votes.filter((v) => v["rater"] === rater)
    for (const rater of ["annotator1", "annotator2", "annotator3"]) {
      expect(by(rater).length).toBe(993)
      expect(by(rater).every((v) => v["rater_kind"] === "human" && v["vote"] !== null)).toBe(true)
    }
    const gpt = by("gpt-3.5-turbo"),
      panda = by("pandalm-7b")
    expect([gpt.length, panda.length]).toEqual([993, 993])
    expect([
      count(gpt, (v) => v["vote"] === "a"),
      count(gpt, (v) => v["vote"] === "b"),
      count(gpt, (v) => v["vote"] === "tie"),
      count(gpt, (v) => v["vote"] === null)
    ]).toEqual([456, 475, 38, 24])
    expect([
      count(panda, (v) => v["vote"] === "a"),
      count(panda, (v) => v["vote"] === "b"),
      count(panda, (v) => v["vote"] === "tie")
    ]).toEqual([432, 459, 102])
    const garbage = gpt.find((v) => v["vote"] === null)!
    expect(JSON.parse(String(garbage["meta"]))).toMatchObject({ verdict: "garbage", error: "unparseable verdict" })
    expect(gpt.every((v) => v["rater_kind"] === "ai" && v["p_a"] === null)).toBe(true)
    const pairIds = new Set(r.pairs.map((p) => p["pair_id"]))
    expect(r.votes.every((v) => pairIds.has(v["pair_id"]))).toBe(true)
    expect(r.out.stats).toMatchObject({
      votes: 4965,
      votes_human: 2979,
      votes_ai: 1986,
      votes_unparseable: 24,
      judge_files: 2,
      judge_records_unused: 12
    })
  })

  it("keeps the judges' reasons as meta.rationale, leaves order and sample unknown, and lists the raters", () => {
    const by = (rater: string) => r.votes.filter((v) => v["rater"] === rater)
    expect(Object.keys(r.votes[0]!)).toEqual([
      "pair_id",
      "rater",
      "rater_kind",
      "vote",
      "p_a",
      "order",
      "sample",
      "meta"
    ])
    expect(r.votes.every((v) => v["order"] === null && v["sample"] === null)).toBe(true)
    const meta = (v: Record<string, unknown>) => JSON.parse(String(v["meta"])) as Record<string, unknown>
    const gpt0 = meta(by("gpt-3.5-turbo")[0]!)
    expect(String(gpt0["rationale"])).toMatch(/^Response 1 is better because/)
    expect(gpt0["reason"]).toBe(gpt0["rationale"])
    expect(String(meta(by("pandalm-7b")[0]!)["rationale"])).toMatch(/^Response 2 is better because/)
    // an empty gpt_reason is no rationale: the 24 garbage verdicts on loaded pairs, and 13 "1"/"2" verdicts (idx 119, 355, …)
    expect(count(by("gpt-3.5-turbo"), (v) => meta(v)["rationale"] === null)).toBe(37)
    expect(count(by("gpt-3.5-turbo"), (v) => meta(v)["rationale"] === null && v["vote"] !== null)).toBe(13)
    expect(by("annotator1").every((v) => meta(v)["rationale"] === undefined)).toBe(true)
    expect(r.tables["raters"]).toEqual([
      { rater: "annotator1", rater_kind: "human", attributes: "{}" },
      { rater: "annotator2", rater_kind: "human", attributes: "{}" },
      { rater: "annotator3", rater_kind: "human", attributes: "{}" },
      { rater: "gpt-3.5-turbo", rater_kind: "ai", attributes: '{"model":"gpt-3.5-turbo"}' },
      { rater: "pandalm-7b", rater_kind: "ai", attributes: '{"model":"WeOpenML/PandaLM-7B-v1"}' }
    ])
  })

  it("accepts the test set file itself, finding the judge files beside it", async () => {
    const same = await runLoad(load.pandalm, { path: `${DIR}/testset-v1.json`, maxRejectRate: 0.01 })
    expect(same.votes.length).toBe(4965)
    const explicit = await runLoad(load.pandalm, {
      path: `${DIR}/testset-v1.json`,
      gptFile: `${DIR}/gpt-3.5-turbo-testset-v1.json`,
      pandalmFile: `${DIR}/pandalm-7b-testset-v1.json`,
      maxRejectRate: 0.01
    })
    expect(explicit.votes).toEqual(same.votes)
  })

  it("fails by default, naming the rejects and the maxRejectRate that would pass", async () => {
    const e = await runLoadError(load.pandalm, { path: DIR })
    expect(e.message).toBe(
      `node "n" (load.pandalm) file ${DIR}/testset-v1.json: 6 of 999 records rejected (0.6%): ` +
        `index 157: response1: expected a string, got a boolean; index 158: response1: expected a string, got a boolean; ` +
        `index 159: response1: expected a string, got a boolean; … (3 more)\n` +
        `  expected: a reject rate of at most 0% (maxRejectRate: 0)\n` +
        `  fix: fix the file, or set maxRejectRate to 0.007 or more to load the other records; ` +
        `the rejects table then lists every rejected record with its reason`
    )
  })

  it("says what the directory holds when the test set is not there", async () => {
    const e = await runLoadError(load.pandalm, { path: "data/hh-rlhf-harmless-base" })
    expect(e.message).toContain("no such file: data/hh-rlhf-harmless-base/testset-v1.json")
    expect(e.message).toContain("data/hh-rlhf-harmless-base/ has: README.md, test.jsonl.gz")
  })
})
