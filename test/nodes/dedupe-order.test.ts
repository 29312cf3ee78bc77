/**
 * Step order and the kept-twin invariant: decontamination runs before any merge, and a removed row's
 * kept_pair_id always names a pair that is in the output, whichever checks are on.
 */
import { describe, expect, it } from "vitest"
import { dedupe } from "../../nodes/dedupe/index.js"
import {
  PANDALM_SQL,
  pairsTable,
  runDedupe,
  runDedupeEach,
  votesTable,
  type DedupeResult,
  type Row
} from "./dedupe-helpers.js"

const words = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `w${from + i}`).join(" ")
// word-shingle (3) Jaccard: A-eval 38/42 = 0.90, B-A 42/50 = 0.84, B-eval 38/50 = 0.76
const A = words(1, 44),
  B = words(1, 52),
  EVAL = words(1, 40)
const FOX = "The quick brown fox jumps over the lazy dog near the river bank today"

const evalTable = (prompts: ReadonlyArray<string | null>) =>
  `CREATE TABLE e AS SELECT * FROM (VALUES ${prompts.map((p) => (p === null ? "(NULL)" : `('${p}')`)).join(", ")}) t(prompt);`

describe("decontamination runs before the merges", () => {
  it("a clean pair near a contaminated one stays (B near A, A near an eval prompt, B not)", async () => {
    const setup =
      pairsTable("p", [
        [A, "a1", "b1", null, null, "s", 0],
        [B, "a2", "b2", null, null, "s", 1]
      ]) + evalTable([EVAL])
    const r = await runDedupe(dedupe.pairs, { near: { enabled: true, on: "prompt" } }, setup, {
      pairs: "p",
      against: "e"
    })
    expect(r.pairs.map((x) => x["source_row"])).toEqual([1])
    expect(r.removed.map((x) => [x["source_row"], x["reason"], x["kept_pair_id"]])).toEqual([
      [0, "contaminated-near", null]
    ])
    expect(r.report).toEqual([
      { check: "contaminated", groups: 1, rows_found_in_input: 1, rows_removed: 1 },
      { check: "exact", groups: 0, rows_found_in_input: 0, rows_removed: 0 },
      { check: "mirrored", groups: 0, rows_found_in_input: 0, rows_removed: 0 },
      { check: "empty-side", groups: 0, rows_found_in_input: 0, rows_removed: 0 },
      { check: "identical-sides", groups: 0, rows_found_in_input: 0, rows_removed: 0 },
      { check: "near-duplicate", groups: 0, rows_found_in_input: 2, rows_removed: 0 }
    ])
    // the same as decontamination alone
    const alone = await runDedupe(dedupe.decontaminate, {}, setup, { pairs: "p", against: "e" })
    expect(alone.pairs.map((x) => x["source_row"])).toEqual([1])
  })

  it("a near-duplicate of an eval prompt is contaminated, not a near-duplicate of a removed row", async () => {
    const setup =
      pairsTable("p", [
        ["Hi", "a", "b", null, null, "s", 0],
        ["hi!", "c", "d", null, null, "s", 1]
      ]) + evalTable(["Hi"])
    const r = await runDedupe(dedupe.pairs, { near: { enabled: true, on: "prompt" } }, setup, {
      pairs: "p",
      against: "e"
    })
    expect(r.removed.map((x) => [x["source_row"], x["reason"], x["kept_pair_id"]])).toEqual([
      [0, "contaminated", null],
      [1, "contaminated-near", null]
    ])
  })

  it("exact twins of a contaminated row are contaminated themselves, with no kept twin", async () => {
    const setup =
      pairsTable("p", [
        ["Hi", "a", "b", null, null, "s", 0],
        ["Hi", "a", "b", null, null, "s", 1],
        ["ok", "a", "b", null, null, "s", 2]
      ]) + evalTable(["hi"])
    const r = await runDedupe(dedupe.pairs, { normalize: "case" }, setup, { pairs: "p", against: "e" })
    expect(r.removed.map((x) => [x["source_row"], x["reason"], x["kept_pair_id"]])).toEqual([
      [0, "contaminated", null],
      [1, "contaminated", null]
    ])
    expect(r.stats).toMatchObject({ contaminated: 2, exact_removed: 0 })
  })
})

/** Rows that exercise every check and their chains: exact twins of degenerate or contaminated rows, near chains. */
const ROWS: ReadonlyArray<ReadonlyArray<string | number | null>> = [
  [A, "a1", "b1", null, null, "s", 0], // near an eval prompt
  [B, "a2", "b2", "a", "human", "s", 1], // near A, not near the eval prompt
  [A, "a1", "b1", null, null, "s", 2], // exact twin of 0
  [B, "a2", "b2", "a", "human", "s", 3], // exact twin of 1
  [B, "b2", "a2", "b", "human", "s", 4], // mirrored twin of 1
  ["p empty", "", "x", null, null, "s", 5], // empty side
  ["p empty", "", "x", null, null, "s", 6], // exact twin of an empty-sided row
  ["p empty", "x", "", null, null, "s", 7], // mirrored twin of an empty-sided row
  ["q", "z", "z", "tie", "human", "s", 8], // identical sides
  ["q", "z", "z", "tie", "human", "s", 9], // exact twin of an identical-sided row
  ["Hi", "a", "b", null, null, "s", 10], // an eval prompt
  ["hi!", "c", "d", null, null, "s", 11], // near the eval prompt and near row 10
  ["Hi", "a", "b", null, null, "s", 12], // exact twin of a contaminated row
  [FOX, "e", "f", "a", "human", "s", 13],
  [`${FOX}!`, "g", "h", "b", "human", "s", 14], // near 13
  [FOX, "e", "f", "a", "human", "s", 15], // exact twin of 13
  ["", "m", "n", null, null, "s", 16], // empty prompt (the eval set has one too: never a match)
  ["   ", "m2", "n2", null, null, "s", 17],
  ["r", "u", "v", "a", "human", "s", 18],
  ["r", "v", "u", "a", "human", "s", 19], // mirrored twin of 18 whose label disagrees
  ["t", "k", "l", "a", "human", "s", 20],
  ["t", "k", "l", "b", "human", "t", 21], // exact twin of 20 whose label disagrees (same pair_id)
  ["plain", "k1", "l1", "b", "human", "s", 22]
]
const SETUP =
  pairsTable("p", ROWS) +
  votesTable(
    "v",
    "p",
    ROWS.map(
      (r, i) =>
        [r[0], r[1], r[2], `h${i}`, "human", i % 3 === 0 ? "a" : i % 3 === 1 ? "b" : "tie", null] as [
          string,
          string,
          string,
          string,
          string,
          string,
          null
        ]
    )
  ) +
  evalTable([EVAL, "Hi", "", "   ", null])

const CHECKS = ["exact", "mirrored", "emptySide", "identical", "near", "decontaminate"] as const
const KEEPS = ["first", "longest", "most-votes"] as const
const POLICIES = ["merge", "drop-both", "keep-first", "keep-both"] as const
const REASONS: Record<(typeof CHECKS)[number], ReadonlyArray<string>> = {
  exact: ["exact-duplicate", "exact-conflict"],
  mirrored: ["mirrored-duplicate", "mirrored-conflict"],
  emptySide: ["empty-side"],
  identical: ["identical-sides"],
  near: ["near-duplicate"],
  decontaminate: ["contaminated", "contaminated-near"]
}

/** Every combination of checks on or off; keep and onConflict policies vary with it. */
const combos = Array.from({ length: 1 << CHECKS.length }, (_, m) => {
  const on = (c: (typeof CHECKS)[number]) => ((m >> CHECKS.indexOf(c)) & 1) === 1
  return {
    on: CHECKS.filter(on),
    params: {
      keep: KEEPS[m % 3]!,
      exact: { enabled: on("exact"), onConflict: POLICIES[m % 4]! },
      mirrored: { enabled: on("mirrored"), onConflict: POLICIES[(m + 1) % 4]! },
      degenerate: { emptySide: on("emptySide"), identical: on("identical") },
      // every mode comes up; the last combination (every check on) compares prompts, as the rows were written for
      near: { enabled: on("near"), on: (["prompt", "pair", "responses"] as const)[m % 3]! },
      decontaminate: { enabled: on("decontaminate") }
    }
  }
})

const blank = (x: unknown) => typeof x !== "string" || x.trim() === ""

/** The invariants every dedupe output holds, whatever ran. */
function expectInvariants(r: DedupeResult, on: ReadonlyArray<(typeof CHECKS)[number]>, what: string) {
  expect(r.pairs.length + r.removed.length, `${what}: rows in = out + removed`).toBe(r.rowsIn)
  const keptRows = new Map<unknown, Array<unknown>>()
  for (const x of r.pairs) keptRows.set(x["pair_id"], [...(keptRows.get(x["pair_id"]) ?? []), x["source_row"]])
  const allowed = new Set(on.flatMap((c) => REASONS[c]))
  for (const x of r.removed) {
    const row = `${what}: removed row ${String(x["source_row"])} (${String(x["reason"])})`
    expect(allowed.has(String(x["reason"])), `${row}: reason of a check that ran`).toBe(true)
    if (x["kept_pair_id"] !== null) {
      expect(keptRows.get(x["kept_pair_id"]), `${row}: its kept twin is in the output`).toContain(x["kept_source_row"])
    } else if (x["reason"] === "near-duplicate") {
      expect.fail(`${row}: a near-duplicate without a kept twin`)
    } else if (String(x["reason"]).endsWith("-duplicate")) {
      // a merged row's group went whole: its kept row had an empty side or identical sides (all its twins do too)
      const degenerate =
        (on.includes("emptySide") && (blank(x["response_a"]) || blank(x["response_b"]))) ||
        (on.includes("identical") && x["response_a"] === x["response_b"])
      expect(degenerate, `${row}: a merged row without a kept twin is degenerate`).toBe(true)
    }
  }
  const kept = new Set(r.pairs.map((x) => x["pair_id"]))
  expect(
    r.votes.filter((v) => !kept.has(v["pair_id"])),
    `${what}: every vote is on a kept pair`
  ).toEqual([])
}

describe("every removed row's kept twin is in the output", () => {
  it("for every combination of checks (64), with keep and onConflict policies varied", async () => {
    const results = await runDedupeEach(
      dedupe.pairs,
      combos.map((c) => c.params),
      SETUP,
      { pairs: "p", votes: "v", against: "e" }
    )
    results.forEach((r, k) =>
      expectInvariants(r, combos[k]!.on, `checks [${combos[k]!.on.join(", ")}] ${JSON.stringify(combos[k]!.params)}`)
    )
    // the rows the combinations were written for do come up
    const all = results.at(-1)!
    const reasonOf = (i: number) => all.removed.find((x: Row) => x["source_row"] === i)?.["reason"] ?? null
    // (every check on: keep first, exact conflicts keep-both, mirrored conflicts merge)
    expect(ROWS.map((_, i) => reasonOf(i))).toEqual([
      "contaminated-near",
      null,
      "contaminated-near",
      "exact-duplicate",
      "mirrored-duplicate",
      "empty-side",
      "exact-duplicate",
      "mirrored-duplicate",
      "identical-sides",
      "exact-duplicate",
      "contaminated",
      "contaminated-near",
      "contaminated",
      null,
      "near-duplicate",
      "exact-duplicate",
      null,
      null,
      null,
      "mirrored-duplicate",
      null,
      "near-duplicate",
      null
    ])
  })

  it("on the PandaLM test set: the quickstart's settings, and every check on with an eval set of its own prompts", async () => {
    // eval prompts: 5 of PandaLM's own prompts, one with a word changed, plus an empty one
    const setup = `${PANDALM_SQL}
      CREATE TABLE e AS SELECT prompt FROM p WHERE source_row IN (3, 40, 77, 150)
        UNION ALL SELECT regexp_replace(prompt, '[A-Za-z]+', 'Zebra') FROM p WHERE source_row = 300
        UNION ALL SELECT '';`
    const [quick, every] = await runDedupeEach(
      dedupe.pairs,
      [{ normalize: "none" }, { normalize: "case", near: { enabled: true, on: "pair" } }],
      setup,
      { pairs: "p", votes: "v", against: "e" }
    )
    expectInvariants(quick!, ["exact", "mirrored", "emptySide", "identical", "decontaminate"], "quickstart")
    expectInvariants(every!, CHECKS, "every check")
    expect(every!.stats["contaminated"]).toBeGreaterThan(0)
  })
})
