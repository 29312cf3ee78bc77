// judge.heuristic: named rules as baseline raters, through real pipeline runs (load.table on a small
// file the test writes; load.pandalm on the shipped test set for the length rule's agreement).
import { mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { describe, expect, it } from "vitest"
import { judge } from "../../nodes/judge/index.js"
import { load } from "../../nodes/load/index.js"
import { pipeline } from "../../workbench/core/pipeline.js"
import { runPipeline } from "../../workbench/run-pipeline.js"
import { readParquet } from "../support/sql.js"
import { writeJsonl } from "./load-helpers.js"

type Row = Record<string, unknown>
const PAIRS = [
  { prompt: "p1", response_a: "a long answer here", response_b: "short", label: "a" },
  { prompt: "p2", response_a: "two words", response_b: "three whole words", label: "a" },
  { prompt: "p3", response_a: "same", response_b: "size", label: "b" },
  { prompt: "p4", response_a: "I'm sorry, I cannot help.", response_b: "Sure: here it is.", label: "b" },
  { prompt: "p5", response_a: "SORRY!", response_b: "so sorry", label: "tie" }
]

const run = async (rules: Record<string, Parameters<typeof judge.heuristic>[0]>) => {
  const root = mkdtempSync(join(tmpdir(), "wb-heuristic-"))
  const path = writeJsonl(root, "pairs.jsonl", PAIRS)
  const def = pipeline("heuristic", (p) => {
    const pairs = p.node("pairs", load.table({ path }))
    for (const [name, params] of Object.entries(rules)) p.node(name, judge.heuristic(params), { pairs })
  })
  const res = await runPipeline(def, { root, workspace: join(root, ".wb"), threads: 2 })
  const read = (node: string, table: string) => readParquet(res.nodes[node]!.tables[table]!)
  return { res, read, stats: (node: string) => res.report.nodes.find((n) => n.name === node)!.stats }
}
const view = (v: Row) => [v["rater"], v["rater_kind"], v["vote"], v["p_a"], v["order"], v["sample"]]

describe("judge.heuristic", () => {
  it("prefers the longer (shorter) response, by characters or words, with ties when equal", async () => {
    const r = await run({
      longer: {},
      shorter: { rule: "prefer-shorter", measure: "words" },
      near: { rule: "prefer-longer", tieWithin: 4 }
    })
    expect(r.res.report.status).toBe("ok")
    const longer = await r.read("longer", "votes")
    expect(longer.map((v) => v["vote"])).toEqual(["a", "b", "tie", "a", "b"])
    expect(view(longer[0]!)).toEqual(["heuristic:prefer-longer", "heuristic", "a", null, null, null])
    expect(JSON.parse(String(longer[0]!["meta"]))).toEqual({ source_row: 0, a: 18, b: 5 })
    expect((await r.read("shorter", "votes")).map((v) => v["vote"])).toEqual(["b", "a", "tie", "b", "a"])
    expect((await r.read("near", "votes")).map((v) => v["vote"])).toEqual(["a", "b", "tie", "a", "tie"])
    // agreement with the labels: of the 4 pairs labelled a or b, prefer-longer votes the label on p1 only
    expect(r.stats("longer")).toMatchObject({
      votes: 5,
      vote_a: 2,
      vote_b: 2,
      vote_tie: 1,
      labelled: 4,
      agree: 1,
      agreement: 0.25
    })
    expect(await r.read("longer", "raters")).toEqual([
      {
        rater: "heuristic:prefer-longer",
        rater_kind: "heuristic",
        attributes: '{"rule":"prefer-longer","measure":"chars","tieWithin":0}'
      }
    ])
    expect((await r.read("longer", "pairs")).map((p) => p["prompt"])).toEqual(["p1", "p2", "p3", "p4", "p5"])
  })

  it("votes by a regular expression: against the response it matches with prefer: no-match", async () => {
    const r = await run({
      refusal: { rule: "match", pattern: "\\bsorry\\b", prefer: "no-match" },
      cased: { rule: "match", pattern: "SORRY", caseSensitive: true, rater: "shouts" }
    })
    const refusal = await r.read("refusal", "votes")
    expect(refusal.map((v) => [v["rater"], v["vote"]])).toEqual([
      ["heuristic:no-match:\\bsorry\\b", "tie"],
      ["heuristic:no-match:\\bsorry\\b", "tie"],
      ["heuristic:no-match:\\bsorry\\b", "tie"],
      ["heuristic:no-match:\\bsorry\\b", "b"],
      ["heuristic:no-match:\\bsorry\\b", "tie"]
    ])
    expect(JSON.parse(String(refusal[3]!["meta"]))).toEqual({ source_row: 3, a: true, b: false })
    expect((await r.read("cased", "votes")).map((v) => [v["rater"], v["vote"]])[4]).toEqual(["shouts", "a"])
  })

  it("refuses a pattern DuckDB cannot compile, quoting it", async () => {
    const r = await run({ bad: { rule: "match", pattern: "(unclosed" } })
    const bad = r.res.report.nodes.find((n) => n.name === "bad")!
    expect(bad.status).toBe("failed")
    expect(bad.error).toMatch(/^node "bad" \(judge\.heuristic\) param pattern: "\(unclosed": .*missing \)/)
    expect(bad.error).toContain("fix: set pattern to a valid regular expression")
  })

  it("on PandaLM, prefer-longer agrees with the human majority as often as counting lengths in the file says", async () => {
    const root = mkdtempSync(join(tmpdir(), "wb-heuristic-panda-"))
    const def = pipeline("longer", (p) => {
      const panda = p.node("panda", load.pandalm({ path: resolve("data/pandalm-testset"), maxRejectRate: 0.01 }))
      p.node("longer", judge.heuristic({}), { pairs: panda })
    })
    const res = await runPipeline(def, { root, workspace: join(root, ".wb"), threads: 2 })
    // independently: JavaScript string lengths (UTF-16 units) only differ from DuckDB's characters on
    // astral characters, so count code points
    const tests = JSON.parse(readFileSync("data/pandalm-testset/testset-v1.json", "utf8")) as Array<
      Record<string, unknown>
    >
    let labelled = 0
    let agree = 0
    for (const r of tests) {
      if (typeof r["response1"] !== "string" || typeof r["response2"] !== "string") continue
      const votes = [r["annotator1"], r["annotator2"], r["annotator3"]].map(Number)
      const human = [1, 2].find((k) => votes.filter((v) => v === k).length >= 2)
      if (human === undefined) continue
      labelled++
      const [la, lb] = [[...r["response1"]].length, [...r["response2"]].length]
      if ((la > lb && human === 1) || (lb > la && human === 2)) agree++
    }
    const stats = res.report.nodes.find((n) => n.name === "longer")!.stats!
    expect([stats["labelled"], stats["agree"]]).toEqual([labelled, agree])
    expect(stats["votes"]).toBe(993)
    expect([labelled, agree]).toEqual([888, 599]) // 67.5% of the decisive human labels (AlpacaEval measured 62.2%)
  })
})
