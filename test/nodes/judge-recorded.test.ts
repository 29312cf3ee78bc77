// judge.recorded on PandaLM's real judge files: votes joined to the loaded pairs on idx, garbage
// verdicts as failures with the raw value, unmatched records counted, the file in the cache key.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { judge } from "../../nodes/judge/index.js"
import { load } from "../../nodes/load/index.js"
import { pipeline } from "../../workbench/core/pipeline.js"
import { runPipeline } from "../../workbench/run-pipeline.js"
import { readParquet } from "../support/sql.js"

type Row = Record<string, unknown>
const DIR = resolve("data/pandalm-testset")
const REJECTED = [157, 158, 159, 161, 162, 164]
const readJson = (name: string) => JSON.parse(readFileSync(join(DIR, name), "utf8")) as Array<Record<string, unknown>>
const meta = (v: Row) => JSON.parse(String(v["meta"])) as Record<string, unknown>

const GPT = {
  path: join(DIR, "gpt-3.5-turbo-testset-v1.json"),
  idColumn: "idx",
  pairColumn: "idx",
  verdictColumn: "gpt_result",
  rationaleColumn: "gpt_reason",
  rater: "gpt-3.5-turbo",
  model: "gpt-3.5-turbo"
}
const PANDA = {
  path: join(DIR, "pandalm-7b-testset-v1.json"),
  idColumn: "idx",
  pairColumn: "idx",
  verdictColumn: "pandalm_result",
  rationaleColumn: "pandalm_reason",
  rater: "pandalm-7b",
  model: "WeOpenML/PandaLM-7B-v1"
}

const runJudges = async (root: string, gpt: Record<string, unknown> = GPT) => {
  const def = pipeline("recorded", (p) => {
    const panda = p.node("panda", load.pandalm({ path: DIR, maxRejectRate: 0.01 }))
    p.node("gpt", judge.recorded(gpt as typeof GPT), { pairs: panda })
    p.node("p7b", judge.recorded(PANDA), { pairs: panda })
  })
  return runPipeline(def, { root, workspace: join(root, ".wb"), threads: 2 })
}

describe("judge.recorded on PandaLM's gpt-3.5-turbo and PandaLM-7B files", () => {
  let res: Awaited<ReturnType<typeof runJudges>>
  let t: (node: string, table: string) => Promise<ReadonlyArray<Row>>
  beforeAll(async () => {
    res = await runJudges(mkdtempSync(join(tmpdir(), "wb-recorded-")))
    t = (node, table) => readParquet(res.nodes[node]!.tables[table]!)
  })

  it("gives one vote per matched record and makes the 24 garbage verdicts failures, never NULL votes", async () => {
    expect(res.report.status).toBe("ok")
    const gpt = res.report.nodes.find((n) => n.name === "gpt")!
    expect(gpt.stats).toMatchObject({
      records: 999,
      records_matched: 993,
      records_unmatched: 6, // the judgments of the 6 records load.pandalm rejects
      pairs_unjudged: 0,
      votes: 969,
      failures: 24,
      vote_a: 456,
      vote_b: 475,
      vote_tie: 38
    })
    const votes = await t("gpt", "votes")
    expect(votes.every((v) => v["vote"] !== null && v["rater"] === "gpt-3.5-turbo" && v["rater_kind"] === "ai")).toBe(
      true
    )
    const failures = await t("gpt", "failures")
    expect(failures.length).toBe(24)
    expect(failures[0]).toMatchObject({
      reason: 'unparseable verdict "garbage" (verdicts maps: 0, 1, 2, a, b, tie)',
      raw: "garbage",
      stage: "judge",
      retryable: false,
      file: GPT.path,
      id: String(failures[0]!["record"])
    })
    expect(failures.every((f) => f["raw"] === "garbage")).toBe(true)
    expect(await t("gpt", "raters")).toEqual([
      {
        rater: "gpt-3.5-turbo",
        rater_kind: "ai",
        attributes: JSON.stringify({ model: "gpt-3.5-turbo", file: GPT.path })
      }
    ])
    // the pairs pass through untouched
    expect((await t("gpt", "pairs")).length).toBe(993)
  })

  it("agrees vote for vote, row for row, with the votes load.pandalm reads from the same file", async () => {
    const mine = await t("gpt", "votes")
    const loaded = (await t("panda", "votes")).filter((v) => v["rater"] === "gpt-3.5-turbo" && v["vote"] !== null)
    const key = (v: Row) => `${String(v["pair_id"])}#${String(meta(v)["source_row"])}`
    expect(new Map(mine.map((v) => [key(v), v["vote"]]))).toEqual(new Map(loaded.map((v) => [key(v), v["vote"]])))
    const reasons = new Map(loaded.map((v) => [key(v), meta(v)["rationale"]]))
    expect(mine.every((v) => meta(v)["rationale"] === reasons.get(key(v)))).toBe(true)
    expect(meta(mine[0]!)).toMatchObject({ source_row: 0, record: 0, id: "0", verdict: "1" })
    const p7b = res.report.nodes.find((n) => n.name === "p7b")!
    expect(p7b.stats).toMatchObject({ votes: 993, failures: 0, vote_a: 432, vote_b: 459, vote_tie: 102 })
  })

  it("against the human majority: gpt-3.5-turbo agrees on the count an independent reading of the files gives", async () => {
    const tests = readJson("testset-v1.json")
    const verdict = (x: unknown) => ({ "1": "a", "2": "b", "0": "tie", tie: "tie" })[String(x).toLowerCase()]
    const majority = (r: Record<string, unknown>) => {
      const c: Record<string, number> = {}
      for (const k of ["annotator1", "annotator2", "annotator3"]) c[verdict(r[k])!] = (c[verdict(r[k])!] ?? 0) + 1
      return Object.entries(c).find(([, n]) => n >= 2)?.[0] ?? "tie" // no item has a three-way split
    }
    const human = new Map(tests.map((r) => [Number(r["idx"]), majority(r)]))
    const gptFile = readJson("gpt-3.5-turbo-testset-v1.json")
    const agree = (rows: typeof gptFile) =>
      rows.filter((g) => verdict(g["gpt_result"]) === human.get(Number(g["idx"]))).length
    expect(agree(gptFile)).toBe(697) // the data README's count over all 999 items
    const expected = agree(gptFile.filter((g) => !REJECTED.includes(Number(g["idx"]))))
    const pairs = await t("panda", "pairs")
    const label = new Map(pairs.map((p) => [Number(p["source_row"]), p["label"]]))
    const votes = await t("gpt", "votes")
    expect(votes.filter((v) => v["vote"] === label.get(Number(meta(v)["source_row"]))).length).toBe(expected)
    expect(expected).toBe(692) // on the 993 pairs load.pandalm keeps (its 6 rejects drop 5 agreements)
  })
})

describe("judge.recorded refusals and cache", () => {
  it("names a missing field with the file's fields, and fails a mapping that misses most verdicts", async () => {
    const root = mkdtempSync(join(tmpdir(), "wb-recorded-err-"))
    const wrong = await runJudges(root, { ...GPT, verdictColumn: "gpt_reslt" })
    const e = wrong.report.nodes.find((n) => n.name === "gpt")!
    expect(e.status).toBe("failed")
    expect(e.error).toBe(
      `node "gpt" (judge.recorded) param verdictColumn: ${GPT.path} has no field "gpt_reslt"; its fields: gpt_reason, gpt_reference, gpt_result, idx\n` +
        "  expected: the field holding the verdict\n" +
        `  fix: did you mean "gpt_result" or "gpt_reason"? set verdictColumn to one of the file's fields`
    )
    const few = await runJudges(root, { ...GPT, verdicts: { "1": "a" } })
    expect(few.report.nodes.find((n) => n.name === "gpt")!.error).toBe(
      `node "gpt" (judge.recorded) file ${GPT.path}: 537 of 993 matched records give no vote: ` +
        'unparseable verdict "2" (verdicts maps: 1) (475); unparseable verdict "Tie" (verdicts maps: 1) (38); ' +
        'unparseable verdict "garbage" (verdicts maps: 1) (24)\n' +
        "  expected: at most 10% of them (maxFailureRate 0.1)\n" +
        '  fix: map the verdict values with the verdicts param (e.g. { "Tie": "tie" }), or raise maxFailureRate to keep them as failures'
    )
  })

  it("re-runs when the judgments file changes, and only then", async () => {
    const root = mkdtempSync(join(tmpdir(), "wb-recorded-cache-"))
    mkdirSync(join(root, "data"))
    copyFileSync(GPT.path, join(root, "data", "gpt.json"))
    const run = () => runJudges(root, { ...GPT, path: "data/gpt.json" })
    const status = (r: Awaited<ReturnType<typeof run>>) => r.report.nodes.find((n) => n.name === "gpt")!.status
    expect(status(await run())).toBe("ran")
    expect(status(await run())).toBe("cached")
    const edited = readJson("gpt-3.5-turbo-testset-v1.json").map((r) =>
      r["idx"] === 0 ? { ...r, gpt_result: "2" } : r
    )
    writeFileSync(join(root, "data", "gpt.json"), JSON.stringify(edited))
    const again = await run()
    expect(status(again)).toBe("ran")
    expect(again.report.nodes.find((n) => n.name === "gpt")!.stats).toMatchObject({ vote_a: 455, vote_b: 476 })
  })
})
