/** Known answers on real data (see the README of each data folder), near-dups and decontamination on real prompts. */
import { describe, expect, it } from "vitest"
import { dedupe } from "../../nodes/dedupe/index.js"
import { shingleSet } from "../../nodes/lib/minhash-kernel.js"
import { HH_SQL, PANDALM_SQL, runDedupe, type DedupeResult } from "./dedupe-helpers.js"

const exactJaccard = (a: string, b: string) => {
  const A = new Set(shingleSet(a, 3)),
    B = new Set(shingleSet(b, 3))
  let shared = 0
  for (const x of A) if (B.has(x)) shared++
  return shared / (A.size + B.size - shared)
}

const balanced = (r: DedupeResult) => expect(r.pairs.length + r.removed.length).toBe(r.rowsIn)

describe("PandaLM test set (993 pairs after the loader drops the 6 boolean rows)", () => {
  it("exact: 97 extra rows in 70 groups; mirrored: 35 groups after exact; 54 rows with an empty response", async () => {
    const r = await runDedupe(dedupe.pairs, { normalize: "none" }, PANDALM_SQL, { pairs: "p", votes: "v" })
    expect(r.rowsIn).toBe(993)
    expect(r.report).toEqual([
      { check: "exact", groups: 70, rows_found_in_input: 167, rows_removed: 97 },
      { check: "mirrored", groups: 35, rows_found_in_input: 96, rows_removed: 35 },
      { check: "empty-side", groups: 24, rows_found_in_input: 54, rows_removed: 24 },
      { check: "identical-sides", groups: 0, rows_found_in_input: 0, rows_removed: 0 }
    ])
    expect(r.stats).toMatchObject({
      exact_groups: 70,
      exact_removed: 97,
      mirrored_groups: 35,
      mirrored_conflicts: 0,
      empty_side: 24,
      identical: 0,
      rows_out: 837,
      removed: 156,
      votes_in: 2979
    })
    // 3 votes per input row, filed by pair_id: a pair_id with a kept row keeps them; otherwise they move
    // with an exact or mirrored twin to its kept pair, or go with the row (empty side)
    const kept = new Set(r.pairs.map((x) => x["pair_id"]))
    let moved = 0,
      dropped = 0
    for (const x of r.removed) {
      if (kept.has(x["pair_id"])) continue
      if (kept.has(x["kept_pair_id"]) && String(x["reason"]).endsWith("-duplicate")) moved += 3
      else dropped += 3
    }
    expect([r.stats["votes_moved"], r.stats["votes_dropped"], r.stats["votes_out"]]).toEqual([
      moved,
      dropped,
      2979 - dropped
    ])
    expect(r.stats["votes_flipped"]).toBeGreaterThanOrEqual(3 * 35)
    expect(r.votes.every((v) => kept.has(v["pair_id"]))).toBe(true)
    balanced(r)
  })

  it("normalize case finds one more exact group (99 rows in 71 groups, as the README counts with the 6 rows in)", async () => {
    const r = await runDedupe(dedupe.exact, { normalize: "case" }, PANDALM_SQL, { pairs: "p" })
    expect(r.stats).toMatchObject({ exact_groups: 71, exact_removed: 99 })
    balanced(r)
  })

  it("near-duplicates on the prompt collapse the pairs that share one of the 170 prompts", async () => {
    const r = await runDedupe(dedupe.nearDuplicates, { on: "prompt" }, PANDALM_SQL, { pairs: "p" })
    const prompts = new Set(r.pairs.map((x) => x["prompt"]))
    expect(prompts.size).toBe(r.pairs.length) // one row per cluster
    expect(r.pairs.length).toBeLessThanOrEqual(170)
    expect(r.pairs.length).toBeGreaterThan(150)
    expect(r.removed.every((x) => x["reason"] === "near-duplicate")).toBe(true)
    balanced(r)
  })
})

describe("HH-RLHF harmless-base test (2,312 pairs)", () => {
  it("has no exact duplicates, no mirrored pairs and no identical sides", async () => {
    const r = await runDedupe(dedupe.pairs, { normalize: "case", degenerate: { emptySide: false } }, HH_SQL, {
      pairs: "p"
    })
    expect(r.rowsIn).toBe(2312)
    expect(r.stats).toMatchObject({ exact_removed: 0, mirrored_groups: 0, identical: 0, rows_out: 2312, removed: 0 })
  })

  it("decontaminates against eval prompts given exactly (other case and spacing) or lightly edited", async () => {
    // rows 10 and 20 verbatim but upper-cased; the first prompt over 600 characters with its first word replaced
    const setup = `${HH_SQL}
      CREATE TABLE e AS
        SELECT upper(prompt) || '  ' AS prompt FROM p WHERE source_row IN (10, 20)
        UNION ALL SELECT regexp_replace(prompt, '[A-Za-z]+', 'Zebra') FROM p
          WHERE source_row = (SELECT min(source_row) FROM p WHERE length(prompt) > 600)
        UNION ALL SELECT 'an unrelated evaluation question about something else entirely';`
    const r = await runDedupe(dedupe.decontaminate, { normalize: "case" }, setup, { pairs: "p", against: "e" })
    expect(r.removed.map((x) => [x["source_row"], x["reason"]])).toEqual([
      [0, "contaminated-near"],
      [10, "contaminated"],
      [20, "contaminated"]
    ])
    expect(r.stats).toMatchObject({ contaminated: 3, contaminated_near: 1, rows_out: 2309 })
    expect(r.report).toEqual([{ check: "contaminated", groups: 3, rows_found_in_input: 3, rows_removed: 3 }])
    balanced(r)
  })

  it("near-duplicates on the whole pair: finds every lightly edited copy of 300 real pairs, and nothing else", async () => {
    const setup = `${HH_SQL}
      CREATE TABLE q AS SELECT * FROM p WHERE source_row < 300
        UNION ALL SELECT * REPLACE (regexp_replace(prompt, '[A-Za-z]+', 'Zebra') AS prompt, response_a || ' Indeed!' AS response_a,
          'zz-copy' AS source) FROM p WHERE source_row < 300;`
    const r = await runDedupe(dedupe.nearDuplicates, { on: "pair" }, setup, { pairs: "q" })
    // the truth: copies whose prompt and each response have exact shingle Jaccard >= 0.8 with the
    // original's (short texts fall below: one edited word is a large share of their shingles)
    const all = [...r.pairs, ...r.removed]
    const original = new Map(all.filter((x) => x["source"] === "hh-rlhf").map((x) => [x["source_row"], x]))
    const near = (x: Record<string, unknown>, o: Record<string, unknown>) =>
      ["prompt", "response_a", "response_b"].every((c) => exactJaccard(String(x[c]), String(o[c])) >= 0.8)
    const truth = all.filter((x) => x["source"] === "zz-copy" && near(x, original.get(x["source_row"])!))
    expect(truth.length).toBeGreaterThan(100)
    expect(r.removed.map((x) => x["source_row"]).sort()).toEqual(truth.map((x) => x["source_row"]).sort())
    expect(r.removed.every((x) => x["source"] === "zz-copy" && x["kept_source_row"] === x["source_row"])).toBe(true)
    expect(r.report).toEqual([
      {
        check: "near-duplicate",
        groups: truth.length,
        rows_found_in_input: 2 * truth.length,
        rows_removed: truth.length
      }
    ])
  })
})
