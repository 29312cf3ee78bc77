// featurize.hash: hashText equals an independent re-implementation of the tfjs-training guide's
// featurize (string-built n-grams, FNV-1a) at seed 0, a seed moves ids, the node writes exactly
// hashText's ids per row in input order with the config column, and on the real HH-RLHF harmless-base
// split (load.hh-rlhf -> featurize.hash through runPipeline) every row's ids match; texts/s printed.
import { mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { gunzipSync } from "node:zlib"
import { describe, expect, it } from "vitest"
import { featurize, load } from "../../nodes/index.js"
import { DEFAULT_HASH_CONFIG, hashText } from "../../nodes/lib/text-hash.js"
import { pipeline, runPipeline } from "../../workbench/index.js"
import { readParquet } from "../support/sql.js"
import { runNode, runNodeError } from "./aggregate-helpers.js"

/** The guide's featurize, written out again (lib/data.ts): strings built, then hashed. */
function reference(text: string, bits = 18, unigrams = true, bigrams = true): Array<number> {
  const fnv = (s: string) => {
    let h = 0x811c9dc5
    for (let i = 0; i < s.length; i++) {
      h ^= s.charCodeAt(i)
      h = Math.imul(h, 0x01000193)
    }
    return h >>> 0
  }
  const mask = (1 << bits) - 1
  const toks = text
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((t) => t.length > 0)
  const out: Array<number> = []
  if (unigrams) for (const t of toks) out.push(fnv(`u\u0001${t}`) & mask)
  if (bigrams) for (let i = 0; i + 1 < toks.length; i++) out.push(fnv(`b\u0001${toks[i]}\u0001${toks[i + 1]}`) & mask)
  if (out.length === 0) out.push(fnv("<empty>") & mask)
  return out
}

const HH = gunzipSync(readFileSync("data/hh-rlhf-harmless-base/test.jsonl.gz"))
  .toString("utf8")
  .split("\n")
  .filter((l) => l.trim() !== "")
  .flatMap((l) => {
    const r = JSON.parse(l) as { chosen: string; rejected: string }
    return [r.chosen, r.rejected]
  })

describe("hashText", () => {
  it("equals the guide's featurize at seed 0 on real texts and edge cases", () => {
    const texts = [...HH.slice(0, 500), "", "  ...  ", "Ünïcödé ΣΊΣΥΦΟΣ 日本語 テキスト", "a", "A b", "x\u0001y"]
    for (const t of texts) expect([...hashText(t)]).toEqual(reference(t))
    for (const t of HH.slice(0, 50)) {
      const cfg = { ...DEFAULT_HASH_CONFIG, bucketsLog2: 20, bigrams: false }
      expect([...hashText(t, cfg)]).toEqual(reference(t, 20, true, false))
      expect([...hashText(t, { ...cfg, unigrams: false, bigrams: true })]).toEqual(reference(t, 20, false, true))
    }
  })

  it("a seed changes the ids; all ids are in range; the same seed gives the same ids", () => {
    const t = HH[0]!
    const s1 = hashText(t, { ...DEFAULT_HASH_CONFIG, seed: 1 })
    expect([...s1]).not.toEqual([...hashText(t)])
    expect([...s1]).toEqual([...hashText(t, { ...DEFAULT_HASH_CONFIG, seed: 1 })])
    for (const x of hashText(t, { ...DEFAULT_HASH_CONFIG, bucketsLog2: 19, seed: -5 })) {
      expect(x >= 0 && x < 2 ** 19).toBe(true)
    }
    expect(hashText(null).length).toBe(1)
  })
})

describe("featurize.hash", () => {
  const setup = `CREATE TABLE p AS SELECT * FROM (VALUES
    ('p1', 'Hello there, friend!', 'Hi.', NULL::VARCHAR, 'old'),
    ('p2', 'What is 2+2?', 'It is 4', '4, I think', 'old')) t(pair_id, prompt, response_a, response_b, prompt_hash)`

  it("adds hashText's ids per row, in input order, and the config; replaces a column of the same name", async () => {
    const r = await runNode(featurize.hash, setup, { pairs: "p" }, { bucketsLog2: 19, seed: 3 })
    const cfg = { bucketsLog2: 19, unigrams: true, bigrams: true, seed: 3, version: 1 }
    const rows = r.tables["pairs"]!
    expect(Object.keys(rows[0]!)).toEqual([
      "pair_id",
      "prompt",
      "response_a",
      "response_b",
      "prompt_hash",
      "a_hash",
      "b_hash",
      "hash_config"
    ])
    expect(rows.map((x) => x["pair_id"])).toEqual(["p1", "p2"])
    const texts = [
      ["Hello there, friend!", "Hi.", null],
      ["What is 2+2?", "It is 4", "4, I think"]
    ] as const
    rows.forEach((row, i) => {
      expect(row["prompt_hash"]).toEqual([...hashText(texts[i]![0], cfg)])
      expect(row["a_hash"]).toEqual([...hashText(texts[i]![1], cfg)])
      expect(row["b_hash"]).toEqual([...hashText(texts[i]![2], cfg)])
      expect(JSON.parse(row["hash_config"] as string)).toEqual(cfg)
    })
    // a null response: the one <empty> id, never an empty list or a null
    expect(rows[0]!["b_hash"]).toEqual([...hashText("", cfg)])
    expect((rows[0]!["b_hash"] as Array<number>).length).toBe(1)
    expect(r.stats).toMatchObject({ texts: 6 })
  })

  it("refuses neither unigrams nor bigrams, and buckets outside 2^18..2^20", async () => {
    await expect(
      runNodeError(featurize.hash, setup, { pairs: "p" }, { unigrams: false, bigrams: false })
    ).rejects.toThrow(/unigrams or bigrams/)
    await expect(runNode(featurize.hash, setup, { pairs: "p" }, { bucketsLog2: 17 })).rejects.toThrow(/18/)
  })

  it("hashes the real HH-RLHF harmless-base split through runPipeline, every row equal to hashText", async () => {
    const p = pipeline("hash-hh", (b) => {
      const pairs = b.node("pairs", load.hhRlhf({ path: "data/hh-rlhf-harmless-base/test.jsonl.gz" }))
      b.node("hash", featurize.hash(), { pairs })
    })
    const result = await runPipeline(p, { workspace: mkdtempSync(join(tmpdir(), "wb-hash-")), root: process.cwd() })
    const node = result.report.nodes.find((n) => n.name === "hash")!
    expect(node.status).toBe("ran")
    const rows = await readParquet(result.table("hash").file)
    expect(rows.length).toBe(node.rowsOut)
    expect(rows.length).toBeGreaterThan(2000)
    for (const row of rows) {
      expect(row["prompt_hash"]).toEqual([...hashText(row["prompt"] as string)])
      expect(row["a_hash"]).toEqual([...hashText(row["response_a"] as string)])
      expect(row["b_hash"]).toEqual([...hashText(row["response_b"] as string)])
    }
    // the hashing alone, on the same texts (for the README's figure; not asserted: machines differ)
    const texts = rows.flatMap((r) => [r["prompt"], r["response_a"], r["response_b"]] as Array<string>)
    const t0 = performance.now()
    for (let k = 0; k < 5; k++) for (const t of texts) hashText(t)
    const perSecond = Math.round((5 * texts.length) / ((performance.now() - t0) / 1000))
    console.log(
      `featurize.hash on HH harmless-base: node stats ${JSON.stringify(node.stats)}; hashText alone ${perSecond} texts/s`
    )
  })
})
