/**
 * judge.gguf in a real pipeline: the same node code as judge.llm with the in-process GGUF provider, on
 * the tiny random-weight GGUF the suite writes itself (threads pinned to 1). Random weights: this
 * proves the protocol, both-order bookkeeping, grammar-forced verdicts, p_a's orientation and
 * determinism, never label quality.
 */
import { copyFileSync, mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { judge } from "../../nodes/judge/index.js"
import { writeTinyGguf } from "../../workbench/io/llm/tiny-gguf.js"
import { metaOf, project, type Row, runSpec } from "./judge-llm-helpers.js"

const modelDir = mkdtempSync(join(tmpdir(), "wb-judge-gguf-"))
const model = join(modelDir, "tiny.gguf")
// the byte vocabulary makes a character a token: the pairwise prompt needs more than the default 512
writeTinyGguf(model, { contextLength: 4096 })

const spec = (overrides: Partial<Parameters<typeof judge.gguf>[0]> = {}) =>
  judge.gguf({ model, threads: 1, contextSize: 4096, maxTokens: 4, ...overrides })

const summary = (votes: ReadonlyArray<Row>) => votes.map((v) => [v.pair_id, v.order, v.vote, v.p_a])

describe("judge.gguf", () => {
  it("judges both orders with grammar-forced verdicts, p_a oriented to a, the same on a fresh workspace", async () => {
    const root = project()
    const run = await runSpec(root, spec())
    expect(run.status).toBe("ok")
    const votes = await run.tables("votes")
    // every request gave a verdict: the grammar allows only "1" or "2"
    expect(await run.tables("failures")).toEqual([])
    expect(votes.map((v) => v.order)).toEqual(["ab", "ba", "ab", "ba", "ab", "ba"])
    expect(votes.every((v) => ["1", "2"].includes(String(metaOf(v).verdict)))).toBe(true)
    // at temperature 0 the verdict is the likelier label: a wins exactly when p_a > 0.5, in either order
    for (const v of votes) expect([v.vote, v.order, (v.p_a as number) > 0.5]).toEqual([v.vote, v.order, v.vote === "a"])
    expect(votes.every((v) => metaOf(v).server === "tiny.gguf")).toBe(true)
    expect(run.judge.stats).toMatchObject({ pairs: 3, votes: 6, requests: 6, cost: 0 })
    const judgments = await run.tables("judgments")
    expect(judgments.length).toBe(3)
    for (const j of judgments) {
      const mine = votes.filter((v) => v.pair_id === j.pair_id)
      expect(j.position_consistent).toBe(mine[0]!.vote === mine[1]!.vote)
    }
    expect((await run.tables("raters")).map((r) => [r.rater, JSON.parse(String(r.attributes)).provider])).toEqual([
      ["tiny", "gguf"]
    ])

    // another project, another workspace (no cache), the model file copied: the same votes
    const other = project()
    copyFileSync(model, join(other, "copy.gguf"))
    const again = await runSpec(other, spec({ model: "copy.gguf", rater: "tiny" }))
    expect(again.judge.stats).toMatchObject({ requests: 6, cache_hits: 0 })
    expect(summary(await again.tables("votes"))).toEqual(summary(votes))
  }, 120_000)
})
