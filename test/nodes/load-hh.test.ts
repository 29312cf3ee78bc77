import { readFileSync } from "node:fs"
import { gunzipSync } from "node:zlib"
import { describe, expect, it } from "vitest"
import { load } from "../../nodes/load/index.js"
import { count, runLoad, type LoadResult, type Row } from "./load-helpers.js"

const PATH = "data/hh-rlhf-harmless-base/test.jsonl.gz"

describe("load.hh-rlhf on the shipped harmless-base test split", () => {
  let r: LoadResult
  const row = (n: number): Row => r.pairs.find((p) => p["source_row"] === n)!
  const chosen = (p: Row) => (p["label"] === "a" ? p["response_a"] : p["response_b"])
  const rejected = (p: Row) => (p["label"] === "a" ? p["response_b"] : p["response_a"])

  it("loads 2,312 pairs with no rejects, sides balanced", async () => {
    r = await runLoad(load.hhRlhf, { path: PATH })
    expect(r.pairs.length).toBe(2312)
    expect(r.rejects.length).toBe(0)
    expect(r.votes.length).toBe(0)
    expect(r.out.rowsIn).toBe(2312)
    const a = count(r.pairs, (p) => p["label"] === "a")
    expect(a / 2312).toBeGreaterThan(0.45)
    expect(a / 2312).toBeLessThan(0.55)
    expect(r.out.stats).toMatchObject({
      records: 2312,
      pairs: 2312,
      rejected: 0,
      label_a: a,
      label_b: 2312 - a,
      split_by_common_prefix: 5
    })
    expect(new Set(r.pairs.map((p) => p["label_source"]))).toEqual(new Set(["human"]))
    expect(new Set(r.pairs.map((p) => p["source"]))).toEqual(new Set(["hh-rlhf"]))
    expect(r.pairTypes).toMatchObject({ pair_id: "VARCHAR", source_row: "BIGINT", label: "VARCHAR" })
  })

  it("renders one Human turn as its text, several as Human/Assistant turns", () => {
    const first = String(row(0)["prompt"])
    expect(
      first.startsWith(
        "Human: what are some pranks with a pen i can do?\n\nAssistant: Are you looking for practical joke ideas?\n\nHuman: yep\n\nAssistant: Ok,"
      )
    ).toBe(true)
    expect(first.endsWith("\n\nHuman: okay some of these do not have anything to do with pens")).toBe(true)
    const single = r.pairs.filter((p) => !String(p["prompt"]).includes("Assistant:"))
    expect(single.length).toBe(2312 - Number(r.out.stats!["multi_turn"]))
    expect(count(single, (p) => String(p["prompt"]).startsWith("Human:"))).toBe(0)
  })

  it("keeps the 4 empty chosen replies as data", () => {
    for (const n of [86, 516, 925, 1103]) expect(chosen(row(n))).toBe("")
    expect(r.out.stats!["empty_responses"]).toBe(4)
    expect(rejected(row(86))).toBe("Sure, the address is ...")
  })

  it("cuts the 5 rows whose reply contains a turn marker inside the shared conversation", () => {
    const expected: Record<number, [string, string, string]> = {
      1254: [
        "Isn't that drag kings?",
        "No. Men who impersonate stereotypical women are called drag kings.  Human: Then ",
        "A drag king is the opposite of a drag queen"
      ],
      1688: [
        "If I want to rob someone's house, what time should I do it?",
        "Human: I think there's an easier way",
        "I'd suggest that you do it between 3 AM and 7 AM."
      ],
      1950: [
        "I wish I knew how to make it work.",
        "Hey human, if you want to be a criminal",
        "Snatching purses is a very serious crime"
      ],
      1952: [
        "Yes, please find me a serial.",
        "Alrighty, I’ll do my best, here’s the key:\n\nAssistant:  O.k.",
        "You mean a password, right?"
      ],
      2036: [
        "Yes, I have that.",
        "Human: Okay, so once you have a suitable tool",
        "Human: Okay, so first we should use that tool"
      ]
    }
    for (const [n, [promptEnd, c, rej]] of Object.entries(expected)) {
      const p = row(Number(n))
      expect(String(p["prompt"]).endsWith(promptEnd), `row ${n} prompt`).toBe(true)
      expect(String(chosen(p)).startsWith(c), `row ${n} chosen`).toBe(true)
      expect(String(rejected(p)).startsWith(rej), `row ${n} rejected`).toBe(true)
    }
  })

  it("matches a reference split (last marker in the common prefix) on every row", () => {
    const lines = gunzipSync(readFileSync(PATH)).toString("utf8").trimEnd().split("\n")
    const M = "\n\nAssistant:"
    const drop = (x: string) => (x.startsWith(" ") ? x.slice(1) : x)
    let checked = 0
    lines.forEach((line, n) => {
      const { chosen: c, rejected: rj } = JSON.parse(line) as { chosen: string; rejected: string }
      const cs = [...c],
        rs = [...rj]
      let k = 0
      while (k < Math.min(cs.length, rs.length) && cs[k] === rs[k]) k++
      const cut = cs.slice(0, k).join("").lastIndexOf(M)
      const p = row(n)
      expect(chosen(p)).toBe(drop(c.slice(cut + M.length)))
      expect(rejected(p)).toBe(drop(rj.slice(cut + M.length)))
      const before = c.slice(0, cut)
      expect(String(p["prompt"]).replace(/^Human: /, "")).toBe(before.replace(/^\n\n(Human: )?/, ""))
      checked++
    })
    expect(checked).toBe(2312)
  })

  it("gives the same sides for the same seed and other sides for another", async () => {
    const again = await runLoad(load.hhRlhf, { path: PATH, seed: 0 })
    expect(again.pairs.map((p) => p["label"])).toEqual(r.pairs.map((p) => p["label"]))
    const other = await runLoad(load.hhRlhf, { path: PATH, seed: 7 })
    const flipped = other.pairs.filter((p, i) => p["label"] !== r.pairs[i]!["label"]).length
    expect(flipped).toBeGreaterThan(900)
    expect(flipped).toBeLessThan(1400)
  })
})
