/**
 * dedupe.near's modes on the two shapes that fooled the concatenated-text rule: AlpacaEval-like pairs
 * (many models' answers against one long shared baseline answer per prompt) and OASST-like ranked
 * siblings (every pair of a rank group shares its prompt and one reply). Each field is compared with
 * its own counterpart, so neither shape loses a pair unless its prompt and both responses repeat.
 */
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { dedupe } from "../../nodes/dedupe/index.js"
import { load } from "../../nodes/load/index.js"
import { pipeline } from "../../workbench/core/pipeline.js"
import { runPipeline } from "../../workbench/run-pipeline.js"
import { shingleSet } from "../../nodes/lib/minhash-kernel.js"
import { pairsTable, runDedupe, runDedupeEach, runDedupeError, type DedupeResult, type Row } from "./dedupe-helpers.js"

/** Seeded words w0..w4999, so that texts share only what a fixture plants. */
function wordSource(seed: number) {
  let s = seed >>> 0
  const next = () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0
    return s
  }
  return (count: number) => Array.from({ length: count }, () => `w${next() % 5000}`).join(" ")
}

const jaccard = (x: unknown, y: unknown) => {
  const A = new Set(shingleSet(String(x), 3)),
    B = new Set(shingleSet(String(y), 3))
  let shared = 0
  for (const h of A) if (B.has(h)) shared++
  return A.size + B.size === 0 ? 0 : shared / (A.size + B.size - shared)
}

/** Every removed row names a kept pair, and its prompt and both responses (either orientation) are >= t. */
function expectHonest(r: DedupeResult, t = 0.8, fields: "pair" | "responses" | "prompt" = "pair") {
  expect(r.pairs.length + r.removed.length).toBe(r.rowsIn)
  const kept = new Map(r.pairs.map((x) => [`${String(x["pair_id"])}/${String(x["source_row"])}`, x]))
  for (const x of r.removed) {
    const twin = kept.get(`${String(x["kept_pair_id"])}/${String(x["kept_source_row"])}`)
    expect(twin, `removed row ${String(x["source_row"])} names a kept pair`).toBeDefined()
    if (fields !== "responses") expect(jaccard(x["prompt"], twin!["prompt"])).toBeGreaterThanOrEqual(t)
    if (fields === "prompt") continue
    const straight = Math.min(
      jaccard(x["response_a"], twin!["response_a"]),
      jaccard(x["response_b"], twin!["response_b"])
    )
    const mirrored = Math.min(
      jaccard(x["response_a"], twin!["response_b"]),
      jaccard(x["response_b"], twin!["response_a"])
    )
    expect(
      Math.max(straight, mirrored),
      `removed row ${String(x["source_row"])}: both responses near its twin's`
    ).toBeGreaterThanOrEqual(t)
  }
}

// 6 prompts x 10 models, each answer (30 words) against the prompt's one baseline answer (600 words):
// as one concatenated text two rows of a prompt are ~0.9 similar, though no two answers are alike
const words = wordSource(7)
const PROMPTS = Array.from({ length: 6 }, () => words(12))
const BASELINES = PROMPTS.map(() => words(600))
const ANSWERS = PROMPTS.map(() => Array.from({ length: 10 }, () => words(30)))
const ALPACA_ROWS: Array<Array<string | number | null>> = PROMPTS.flatMap((p, i) =>
  ANSWERS[i]!.map((a, m) => [p, a, BASELINES[i]!, null, null, `model-${m}`, i * 10 + m])
)
const planted: Array<Array<string | number | null>> = [
  // model 3's answer to prompt 0, last word changed: a real near-duplicate
  [PROMPTS[0]!, ANSWERS[0]![3]!.replace(/\S+$/, "zzz"), BASELINES[0]!, null, null, "model-x", 60],
  // model 5's answer to prompt 1, sides swapped and one word added: a mirrored near-duplicate
  [PROMPTS[1]!, BASELINES[1]!, `${ANSWERS[1]![5]!} indeed`, null, null, "model-y", 61],
  // model 1's answer and the baseline of prompt 2 under another prompt: the same responses only
  [words(12), ANSWERS[2]![1]!, BASELINES[2]!, null, null, "model-z", 62]
]
const ALPACA_SQL = pairsTable("p", [...ALPACA_ROWS, ...planted])

describe("dedupe.near on AlpacaEval-like pairs (one long baseline answer shared by every pair of a prompt)", () => {
  it("pair (the default): removes only the planted copies, each naming its original", async () => {
    const clean = await runDedupe(dedupe.nearDuplicates, {}, pairsTable("p", ALPACA_ROWS), { pairs: "p" })
    expect(clean.removed).toEqual([])
    expect(clean.pairs.length).toBe(60)
    const r = await runDedupe(dedupe.nearDuplicates, {}, ALPACA_SQL, { pairs: "p" })
    expect(r.removed.map((x) => [x["source_row"], x["reason"], x["kept_source_row"]])).toEqual([
      [60, "near-duplicate", 3],
      [61, "near-duplicate", 15]
    ])
    expect(r.report).toEqual([{ check: "near-duplicate", groups: 2, rows_found_in_input: 4, rows_removed: 2 }])
    expectHonest(r)
  })

  it("responses: also removes the same two answers under another prompt; prompt: one row per prompt, or maxPerPrompt", async () => {
    const [responses, prompt, three] = await runDedupeEach(
      dedupe.nearDuplicates,
      [{ on: "responses" }, { on: "prompt" }, { on: "prompt", maxPerPrompt: 3, keep: "longest" }],
      ALPACA_SQL,
      { pairs: "p" }
    )
    expect(responses!.removed.map((x) => [x["source_row"], x["kept_source_row"]])).toEqual([
      [60, 3],
      [61, 15],
      [62, 21]
    ])
    expectHonest(responses!, 0.8, "responses")
    // 7 distinct prompts (the planted third has its own): the first row of each stays
    expect(prompt!.pairs.map((x) => x["source_row"])).toEqual([0, 10, 20, 30, 40, 50, 62])
    expectHonest(prompt!, 0.8, "prompt")
    // up to 3 per prompt, the longest first (ties in source order)
    const byPrompt = new Map<unknown, Array<Row>>()
    for (const x of three!.pairs) byPrompt.set(x["prompt"], [...(byPrompt.get(x["prompt"]) ?? []), x])
    expect([...byPrompt.values()].map((g) => g.length)).toEqual([3, 3, 3, 3, 3, 3, 1])
    const len = (x: Row) => String(x["response_a"]).length + String(x["response_b"]).length
    for (const x of three!.removed) {
      const group = byPrompt.get(x["prompt"])!
      expect(
        group.every((k) => len(k) >= len(x)),
        `row ${String(x["source_row"])}: the kept rows are at least as long`
      ).toBe(true)
    }
  })

  it("maxPerPrompt outside prompt mode is refused, saying what to do", async () => {
    const e = await runDedupeError(dedupe.nearDuplicates, { maxPerPrompt: 2 }, ALPACA_SQL, { pairs: "p" })
    expect(e.message).toContain(`maxPerPrompt 2 with on: "pair"`)
    expect(e.message).toContain(`set on: "prompt", or leave maxPerPrompt out`)
  })
})

// OASST-like: under each prompt 4 ranked replies give 6 pairs, each sharing the prompt and one reply with others
const siblings = wordSource(11)
const OASST_ROWS = Array.from(
  { length: 5 },
  () => [siblings(20), ...Array.from({ length: 4 }, () => siblings(60))] as const
).flatMap(([prompt, ...replies], g) =>
  replies.flatMap((x, i) =>
    replies
      .slice(i + 1)
      .map((y, k) => [prompt, (g + i + k) % 2 === 0 ? x : y, (g + i + k) % 2 === 0 ? y : x, null, null, "oasst", g])
  )
)

describe("dedupe.near on OASST-like ranked siblings", () => {
  it("pair keeps all 30 sibling pairs; responses too; prompt keeps one per rank group", async () => {
    const [pair, responses, prompt] = await runDedupeEach(
      dedupe.nearDuplicates,
      [{}, { on: "responses" }, { on: "prompt" }],
      pairsTable("p", OASST_ROWS),
      { pairs: "p" }
    )
    expect([pair!.pairs.length, responses!.pairs.length, prompt!.pairs.length]).toEqual([30, 30, 5])
  })

  it("a sibling pair repeated with lightly edited replies (either side order) is removed", async () => {
    const [prompt, x, y] = [OASST_ROWS[0]![0]!, String(OASST_ROWS[0]![1]), String(OASST_ROWS[0]![2])]
    const r = await runDedupe(
      dedupe.nearDuplicates,
      {},
      pairsTable("p", [...OASST_ROWS, [prompt, `${y}, sure`, `${x}!`, null, null, "zz-copy", 99]]),
      { pairs: "p" }
    )
    expect(r.removed.map((z) => [z["source"], z["kept_source_row"]])).toEqual([["zz-copy", 0]])
    expectHonest(r)
  })
})

describe("dedupe.near on texts without a word", () => {
  it("pair: two empty responses are alike (a copy with an empty side goes); prompt: empty prompts never group", async () => {
    const [a, b] = [siblings(40), siblings(40)]
    const rows = [
      ["", a, "", null, null, "s", 0],
      ["", `${a} ok`, "", null, null, "s", 1], // the same pair, response b empty in both
      ["", b, "...", null, null, "s", 2], // empty prompt, different responses
      ["?", a, "x y z w", null, null, "s", 3] // wordless prompt like the others, but response b has words
    ]
    const [pair, prompt] = await runDedupeEach(dedupe.nearDuplicates, [{}, { on: "prompt" }], pairsTable("p", rows), {
      pairs: "p"
    })
    expect(pair!.removed.map((x) => [x["source_row"], x["kept_source_row"]])).toEqual([[1, 0]])
    expect(prompt!.removed).toEqual([])
  })

  // AlpacaEval's ASCII-art instructions: one prompt, the shared baseline as response a, and each model's
  // drawing as response b; no drawing has a word, so shingles (none) cannot tell two apart. Rows 1-3 were
  // removed as near-duplicates of row 0 although they draw something else.
  it("pair, responses: a response without a word matches only the same text (whitespace around it aside), not any other", async () => {
    const [prompt, baseline] = [siblings(12), siblings(60)]
    const house = "   /\\\n  /  \\\n /____\\\n |    |"
    const rows = [
      [prompt, baseline, house, null, null, "m0", 0],
      [prompt, baseline, " /\\_/\\\n( =.= )\n > ^ <", null, null, "m1", 1], // a cat: another drawing
      [prompt, baseline, ",\\", null, null, "m2", 2],
      [prompt, `${baseline} ok`, "", null, null, "m3", 3], // empty
      [prompt, `${baseline} ok`, `${house}\n\n`, null, null, "m4", 4], // the same house: removed, twin 0
      [prompt, house, `${baseline} ok`, null, null, "m5", 5] // the same house, sides swapped: removed, twin 0
    ]
    const [pair, responses] = await runDedupeEach(
      dedupe.nearDuplicates,
      [{}, { on: "responses" }],
      pairsTable("p", rows),
      {
        pairs: "p"
      }
    )
    for (const r of [pair!, responses!]) {
      expect(r.removed.map((x) => [x["source"], x["kept_source_row"]])).toEqual([
        ["m4", 0],
        ["m5", 0]
      ])
      expect(r.pairs.map((x) => x["source"])).toEqual(["m0", "m1", "m2", "m3"])
    }
  })
})

describe("dedupe.near on the shipped OASST trees (754 ranked sibling pairs)", () => {
  it("pair removes 28 (the concatenated rule removed 79), each a real near-copy of its kept twin; prompt keeps one per prompt", async () => {
    const root = mkdtempSync(join(tmpdir(), "wb-near-oasst-"))
    const def = pipeline("oasst", (p) => {
      p.node("oa", load.oasst({ path: join(process.cwd(), "data/oasst-en-100-trees/en_100_tree.jsonl") }))
    })
    const run = await runPipeline(def, { root, workspace: join(root, ".wb"), threads: 2 })
    const setup = `CREATE TABLE p AS SELECT * FROM '${run.nodes["oa"]!.tables["pairs"]}';`
    const [pair, prompt] = await runDedupeEach(dedupe.nearDuplicates, [{}, { on: "prompt" }], setup, { pairs: "p" })
    expect(pair!.removed.length).toBe(28)
    expectHonest(pair!)
    // a removed pair and its twin are two pairs of one rank group: one shared reply, and two near-copies
    expect(pair!.removed.every((x) => x["kept_source_row"] === x["source_row"])).toBe(true)
    expect(prompt!.pairs.length).toBe(new Set(prompt!.pairs.map((x) => x["prompt"])).size)
    expectHonest(prompt!, 0.8, "prompt")
  })
})
