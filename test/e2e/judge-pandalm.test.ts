// pipelines/judge-pandalm.ts through `wb run` on the shipped PandaLM data: its agreement report equals
// an independent count over the raw JSON files (computed here, in TypeScript, not through wb), Cohen's
// kappa to 1e-4 against a textbook implementation, and the routing budget and accounting hold.
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { REPO, tempDir, wb } from "./cli-spawn.js"

type Label = "a" | "b" | "tie"
interface Record_ {
  readonly idx: number
  readonly response1: unknown
  readonly response2: unknown
  readonly annotator1: number
  readonly annotator2: number
  readonly annotator3: number
}

const DATA = join(REPO, "data", "pandalm-testset")
const read = <T>(file: string): Array<T> => JSON.parse(readFileSync(join(DATA, file), "utf8")) as Array<T>
const HUMAN: Record<number, Label> = { 1: "a", 2: "b", 0: "tie" }
const GPT: Record<string, Label> = { "1": "a", "2": "b", Tie: "tie" } // "garbage" is no verdict

/** The majority of the three annotators (PandaLM has no three-way split). */
function majority(r: Record_): Label {
  const votes = [r.annotator1, r.annotator2, r.annotator3].map((v) => HUMAN[v]!)
  return (["a", "b", "tie"] as const).find((l) => votes.filter((v) => v === l).length >= 2)!
}

/** Cohen's kappa, textbook: (po − pe) / (1 − pe) over the items both raters labelled. */
function kappa(x: ReadonlyArray<Label>, y: ReadonlyArray<Label>): number {
  const n = x.length
  const po = x.filter((v, i) => v === y[i]).length / n
  const share = (xs: ReadonlyArray<Label>, l: Label) => xs.filter((v) => v === l).length / n
  const pe = (["a", "b", "tie"] as const).reduce((s, l) => s + share(x, l) * share(y, l), 0)
  return (po - pe) / (1 - pe)
}

/** Each judge against the human majority, over `records`: pairs, voted, agree, kappa over the voted ones. */
function count(records: ReadonlyArray<Record_>, verdicts: Map<number, Label | null>) {
  const voted = records.filter((r) => verdicts.get(r.idx) !== null)
  const agree = voted.filter((r) => verdicts.get(r.idx) === majority(r)).length
  const k = kappa(
    voted.map(majority),
    voted.map((r) => verdicts.get(r.idx)!)
  )
  return { pairs: records.length, voted: voted.length, agree, kappa: k }
}

describe("pipelines/judge-pandalm.ts", () => {
  it("its agreement report equals an independent count over the raw files; kappa to 1e-4", async () => {
    const workspace = join(tempDir("wb-judge-pandalm-"), ".wb")
    const run = await wb(["run", "pipelines/judge-pandalm.ts", "--json", "--workspace", workspace], { cwd: REPO })
    expect(run.code, run.stderr).toBe(0)
    const report = JSON.parse(run.stdout) as { nodes: Array<{ name: string; status: string; rowsOut: number }> }
    expect(report.nodes.map((n) => [n.name, n.status])).toEqual(
      ["panda", "gpt", "pandalm", "longer", "sim", "ai", "strength", "mix", "summary"].map((n) => [n, "ran"])
    )
    const sql = async (query: string) => {
      const r = await wb(["sql", "pipelines/judge-pandalm.ts", query, "--json", "--workspace", workspace], {
        cwd: REPO
      })
      expect(r.code, r.stderr).toBe(0)
      return JSON.parse(r.stdout) as Array<Record<string, unknown>>
    }

    const all = read<Record_>("testset-v1.json")
    // the loader rejects the 6 records that hold a boolean instead of a response
    const loaded = all.filter((r) => typeof r.response1 === "string" && typeof r.response2 === "string")
    expect(loaded).toHaveLength(993)
    const gpt = new Map(
      read<{ idx: number; gpt_result: string }>("gpt-3.5-turbo-testset-v1.json").map((j) => [
        j.idx,
        GPT[j.gpt_result] ?? null
      ])
    )
    const panda = new Map(
      read<{ idx: number; pandalm_result: number }>("pandalm-7b-testset-v1.json").map((j) => [
        j.idx,
        HUMAN[j.pandalm_result] ?? null
      ])
    )
    // the data README's figure, over all 999 records: gpt-3.5-turbo matches the human majority on 697
    expect(count(all, gpt).agree).toBe(697)
    const expected = { "gpt-3.5-turbo": count(loaded, gpt), "pandalm-7b": count(loaded, panda) }
    expect(expected["gpt-3.5-turbo"]).toMatchObject({ pairs: 993, voted: 969, agree: 692 })
    expect(expected["pandalm-7b"]).toMatchObject({ pairs: 993, voted: 993, agree: 667 })

    const rows = await sql(
      `select * from "mix.agreement" where rater in ('gpt-3.5-turbo', 'pandalm-7b') order by rater`
    )
    for (const row of rows) {
      const e = expected[row["rater"] as keyof typeof expected]
      expect(row).toMatchObject({ pairs: e.pairs, voted: e.voted, agree: e.agree })
      expect(row["accuracy"] as number).toBeCloseTo(e.agree / e.pairs, 12)
      expect(Math.abs((row["kappa"] as number) - e.kappa)).toBeLessThan(1e-4)
    }
    expect(rows).toHaveLength(2)

    // the confusion matrix, cell by cell (a missing verdict is 'none')
    const cells = await sql(`select human, ai, pairs from "mix.confusion" where rater = 'gpt-3.5-turbo'`)
    for (const c of cells) {
      const n = loaded.filter((r) => majority(r) === c["human"] && (gpt.get(r.idx) ?? "none") === c["ai"]).length
      expect([c["human"], c["ai"], c["pairs"]]).toEqual([c["human"], c["ai"], n])
    }
    expect(cells).toHaveLength(12)

    // 20% of 993 pairs routed (rounded down); strength kept every row (it only flips)
    const [mix] = await sql(`select count(*) filter (where routed) as routed, count(*) as n,
      count(*) filter (where label_source = 'human') as human from mix`)
    expect(mix).toMatchObject({ routed: 198, n: 993 })
    const [strong] = await sql(
      `select (select count(*) from strength) + (select count(*) from "strength.dropped") as n`
    )
    expect(strong).toEqual({ n: 993 })
  }, 120_000)
})
