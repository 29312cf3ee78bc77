// pipelines/rm-hh.ts through `wb run`, then its artifacts queried with `wb sql`: every training pair is kept or
// dropped by strength.filter, the held-out pairs share no prompt with any training pair, the accuracy rows
// before and after filtering have their value inside their bootstrap interval, and the pairs with negative
// mean strength — counted here from the ensemble's own votes — are exactly the ones dropped.
// The members and epochs are cut by --set (3 members, 2 epochs) to keep the run well under a minute on 2 shared
// cores; the pipeline's own K = 5 is what the README reports.
import { join } from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { REPO, tempDir, wb } from "./cli-spawn.js"

const PIPELINE = "pipelines/rm-hh.ts"
const SETS = ["ens.members=3", "ens.epochs=2", "rm-all.epochs=2", "rm-strong.epochs=2"].flatMap((s) => ["--set", s])

type Row = Record<string, unknown>
interface NodeReport {
  readonly name: string
  readonly status: string
  readonly rowsOut: number
  readonly stats: Record<string, number | string>
}

describe("pipelines/rm-hh.ts: ensemble → strength → retrain → held-out accuracy", () => {
  const workspace = join(tempDir("wb-rm-hh-"), ".wb")
  let nodes: Map<string, NodeReport>
  const sql = async (query: string): Promise<Array<Row>> => {
    const r = await wb(["sql", PIPELINE, query, "--json", "--workspace", workspace, ...SETS], { cwd: REPO })
    expect(r.code, r.stderr).toBe(0)
    return JSON.parse(r.stdout) as Array<Row>
  }

  beforeAll(async () => {
    const run = await wb(["run", PIPELINE, "--json", "--workspace", workspace, ...SETS], { cwd: REPO })
    expect(run.code, run.stderr).toBe(0)
    const report = JSON.parse(run.stdout) as { status: string; nodes: Array<NodeReport> }
    expect(report.status).toBe("ok")
    nodes = new Map(report.nodes.map((n) => [n.name, n]))
  }, 300_000)

  it("strength.filter: rows in = kept + dropped, and the drop reason is the threshold", async () => {
    const [c] = await sql(
      `SELECT (SELECT count(*) FROM "train-feats")::INTEGER AS train, (SELECT count(*) FROM "strong")::INTEGER AS kept,
              (SELECT count(*) FROM "strong.dropped")::INTEGER AS dropped,
              (SELECT count(*) FROM "strong.dropped" WHERE strength >= 0)::INTEGER AS dropped_non_negative,
              (SELECT count(*) FROM "strong" WHERE strength < 0)::INTEGER AS kept_negative`
    )
    expect(c!["train"]).toBe(nodes.get("split")!.stats["train_rows"])
    expect((c!["kept"] as number) + (c!["dropped"] as number)).toBe(c!["train"])
    expect(c!["dropped"]).toBeGreaterThan(0)
    expect(c!["kept"]).toBeGreaterThan(0)
    expect([c!["dropped_non_negative"], c!["kept_negative"]]).toEqual([0, 0])
    // the retrain saw exactly the kept pairs, the baseline all of them
    expect(nodes.get("rm-strong")!.stats["pairs"]).toBe(c!["kept"])
    expect(nodes.get("rm-all")!.stats["pairs"]).toBe(c!["train"])
  })

  it("the held-out pairs share no prompt with the training pairs, and are the pairs evaluated", async () => {
    const [c] = await sql(
      `SELECT (SELECT count(*) FROM "split.test")::INTEGER AS test,
              (SELECT count(*) FROM "split.test" t WHERE t.prompt IN (SELECT prompt FROM "split")) ::INTEGER AS shared,
              (SELECT count(*) FROM "scored-after" s WHERE s.prompt IN (SELECT prompt FROM "strong")
                 OR s.prompt IN (SELECT prompt FROM "train-feats"))::INTEGER AS scored_shared,
              (SELECT count(*) FROM "scored-before")::INTEGER AS scored_before,
              (SELECT count(*) FROM "scored-after")::INTEGER AS scored_after,
              (SELECT count(*) FROM "clean")::INTEGER AS clean, (SELECT count(*) FROM "split")::INTEGER AS train`
    )
    expect(c!["test"]).toBeGreaterThan(300)
    expect([c!["shared"], c!["scored_shared"]]).toEqual([0, 0])
    expect([c!["scored_before"], c!["scored_after"]]).toEqual([c!["test"], c!["test"]])
    expect((c!["train"] as number) + (c!["test"] as number)).toBe(c!["clean"])
    // about 80 / 20 by rows (whole prompts per side)
    expect((c!["test"] as number) / (c!["clean"] as number)).toBeCloseTo(0.2, 1)
  })

  it("accuracy before and after filtering: one row each, ci_lo ≤ value ≤ ci_hi, over every held-out pair", async () => {
    // one query (each `wb sql` is a process): the rows, the held-out count, and the strict accuracy of the
    // scores written next to the pairs (ties count wrong), computed here from score_a / score_b
    const rows = await sql(
      `SELECT m.*, (SELECT count(*) FROM "split.test")::INTEGER AS test_rows, s.strict FROM (
         SELECT 'before' AS which, * FROM "accuracy-before" UNION ALL SELECT 'after', * FROM "accuracy-after") m
       JOIN (SELECT 'before' AS which, avg(CASE WHEN (label = 'a' AND score_a > score_b) OR (label = 'b' AND score_b > score_a) THEN 1 ELSE 0 END) AS strict FROM "scored-before"
             UNION ALL SELECT 'after', avg(CASE WHEN (label = 'a' AND score_a > score_b) OR (label = 'b' AND score_b > score_a) THEN 1 ELSE 0 END) FROM "scored-after") s
       USING (which) ORDER BY which`
    )
    expect(rows.map((r) => [r["which"], r["metric"], r["slice"]])).toEqual([
      ["after", "accuracy", "(all)"],
      ["before", "accuracy", "(all)"]
    ])
    for (const r of rows) {
      const [v, lo, hi] = [r["value"], r["ci_lo"], r["ci_hi"]] as Array<number>
      expect(lo).toBeLessThanOrEqual(v!)
      expect(v).toBeLessThanOrEqual(hi!)
      expect(hi! - lo!).toBeGreaterThan(0)
      expect(r["n"]).toBe(r["test_rows"])
      expect(v).toBeCloseTo(r["strict"] as number, 12)
    }
  })

  it("the negative-strength share equals a count from the ensemble's votes, and those are the dropped pairs", async () => {
    // the raw material only: each training pair's label, whether it was dropped, and its members' margins
    const rows = await sql(
      `SELECT f.pair_id, f.label, f.pair_id IN (SELECT pair_id FROM "strong.dropped") AS dropped, v.rater, v.margin
       FROM "train-feats" f LEFT JOIN "ens.votes" v USING (pair_id)`
    )
    const label = new Map<string, string>()
    const margins = new Map<string, Array<number>>()
    const dropped = new Set<string>()
    const raters = new Set<unknown>()
    for (const r of rows) {
      const id = r["pair_id"] as string
      label.set(id, r["label"] as string)
      if (r["dropped"] === true) dropped.add(id)
      raters.add(r["rater"])
      margins.set(id, [...(margins.get(id) ?? []), r["margin"] as number])
    }
    // every training pair has one vote per member (and pair ids are unique, so a vote names one row)
    expect(raters.size).toBe(3)
    expect(rows.length).toBe(label.size * 3)
    expect(label.size).toBe(nodes.get("strong")!.stats["rows_in"])
    const negative = new Set<string>()
    for (const [id, l] of label) {
      const m = margins.get(id)!
      expect(m).toHaveLength(3)
      const mean = m.reduce((a, b) => a + b, 0) / m.length
      if ((l === "a" ? mean : -mean) < 0) negative.add(id)
    }
    const share = negative.size / label.size
    expect(share).toBeGreaterThan(0)
    expect(share).toBeLessThan(0.5)
    const stats = nodes.get("strong")!.stats
    expect(stats["negative"]).toBe(negative.size)
    expect((stats["negative"] as number) / (stats["rows_in"] as number)).toBe(share)
    expect(dropped).toEqual(negative)
  })
})
