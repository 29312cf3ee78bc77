import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { load } from "../../nodes/load/index.js"
import { count, type LoadResult, runLoad, type Row } from "./load-helpers.js"

const PATH = "data/oasst-en-100-trees/en_100_tree.jsonl"
interface Message {
  message_id: string
  role: string
  text: string
  rank?: number
  replies: Array<Message>
  [k: string]: unknown
}

/** Reference: walk the trees in JS, listing (group, better, worse, conversation) for every ranked pair. */
function expectedPairs(lines: ReadonlyArray<string>) {
  const out: Array<{ group: string; better: string; worse: string; conv: Array<{ role: string; content: string }> }> =
    []
  const walk = (m: Message, path: Array<{ role: string; content: string }>) => {
    const conv = [...path, { role: m.role === "prompter" ? "user" : m.role, content: m.text }]
    const ranked = m.replies.filter((c) => c.role === "assistant" && typeof c.rank === "number")
    if (m.role === "prompter") {
      for (const x of ranked)
        for (const y of ranked)
          if (x.rank! < y.rank!) out.push({ group: m.message_id, better: x.message_id, worse: y.message_id, conv })
    }
    for (const c of m.replies) walk(c, conv)
  }
  for (const l of lines) walk((JSON.parse(l) as { prompt: Message }).prompt, [])
  return out
}
const key = (p: Row) => {
  const aWins = p["label"] === "a"
  return `${p["rank_group"]}|${aWins ? p["message_id_a"] : p["message_id_b"]}|${aWins ? p["message_id_b"] : p["message_id_a"]}`
}

describe("load.oasst", () => {
  let r: LoadResult
  const lines = readFileSync(PATH, "utf8").trimEnd().split("\n")

  it("derives the 754 ranked pairs of the 100 shipped trees", async () => {
    r = await runLoad(load.oasst, { path: PATH })
    expect(r.pairs.length).toBe(754)
    expect(r.rejects.length).toBe(0)
    // every tree gives pairs: rows in = 754 pairs (a tree counts once per pair), none removed
    expect([r.out.rowsIn, r.removed.length]).toEqual([754, 0])
    expect(r.out.stats).toMatchObject({ records: 100, messages: 1167, rank_groups: 212, pairs: 754, layout: "tree" })
    const ref = expectedPairs(lines)
    expect(new Set(r.pairs.map(key))).toEqual(new Set(ref.map((x) => `${x.group}|${x.better}|${x.worse}`)))
    const a = count(r.pairs, (p) => p["label"] === "a")
    expect(a / 754).toBeGreaterThan(0.42)
    expect(a / 754).toBeLessThan(0.58)
  })

  it("labels by rank and renders the conversation to the parent as the prompt", () => {
    for (const p of r.pairs) {
      const [ra, rb] = [Number(p["rank_a"]), Number(p["rank_b"])]
      expect(p["label"]).toBe(ra < rb ? "a" : "b")
    }
    const ref = new Map(expectedPairs(lines).map((x) => [`${x.group}|${x.better}|${x.worse}`, x.conv]))
    for (const p of r.pairs) expect(JSON.parse(String(p["messages"]))).toEqual(ref.get(key(p)))
    const first = r.pairs.filter((p) => p["source_row"] === 0)
    expect(first.length).toBe(3)
    expect(first[0]!["prompt"]).toBe("How can I find the best 401k plan for my needs?")
    const deep = r.pairs.find((p) => JSON.parse(String(p["messages"])).length === 3)!
    expect(String(deep["prompt"])).toMatch(/^Human: .+\n\nAssistant: .+\n\nHuman: /s)
  })

  it("rejects a tree with a malformed message, naming the message", async () => {
    const t = await runLoad(load.oasst, { path: "test/fixtures/data/oasst-trees.jsonl", seed: 3, maxRejectRate: 1 })
    expect(t.rejects.map((x) => [x["line"], x["reason"]])).toEqual([
      [2, "message b1: text: expected a string, got null"],
      [3, "prompt: missing"]
    ])
    expect(t.pairs.map((p) => [key(p), p["prompt"]])).toEqual([
      ["p1|a2|a1", "What is a good name for a cat?"],
      ["p1|a2|a5", "What is a good name for a cat?"],
      ["p1|a1|a5", "What is a good name for a cat?"],
      [
        "p2|a3|a4",
        "Human: What is a good name for a cat?\n\nAssistant: Mittens is a classic choice.\n\nHuman: Why Mittens?"
      ]
    ])
    expect(t.pairs.every((p) => p["source_row"] === 0 && p["label_source"] === "human")).toBe(true)
  })

  it("reads the flat message export to the same pairs", async () => {
    const flat: Array<string> = []
    const walk = (m: Message, tree: string, parent: string | null) => {
      const { replies, ...rest } = m
      flat.push(JSON.stringify({ ...rest, parent_id: parent, message_tree_id: tree }))
      for (const c of replies) walk(c, tree, m.message_id)
    }
    lines.slice(0, 10).forEach((l, i) => walk((JSON.parse(l) as { prompt: Message }).prompt, `tree-${i}`, null))
    const dir = mkdtempSync(join(tmpdir(), "wb-oasst-"))
    writeFileSync(join(dir, "messages.jsonl"), flat.join("\n") + "\n")
    const f = await runLoad(load.oasst, { path: join(dir, "messages.jsonl") })
    const fromTrees = r.pairs.filter((p) => Number(p["source_row"]) < 10)
    expect(f.out.stats).toMatchObject({ layout: "flat", records: flat.length })
    expect(new Set(f.pairs.map((p) => `${key(p)}|${p["prompt"]}|${p["pair_id"]}`))).toEqual(
      new Set(fromTrees.map((p) => `${key(p)}|${p["prompt"]}|${p["pair_id"]}`))
    )
  })
})
