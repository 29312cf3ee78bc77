/**
 * The accounting every loader keeps, as the run report shows it: rows in = rows out + rejected +
 * removed, over every loader on its fixtures and the shipped real data, through the real runner.
 * And the records behind it: a loader that maps one record to one pair (or a reject, or a removed
 * row) has rows in = its records; one that expands records into pairs (OASST, UltraFeedback) still
 * accounts for every record: each gives a pair, is rejected, or is a removed row.
 */
import { Effect } from "effect"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { load } from "../../nodes/load/index.js"
import { pipeline } from "../../workbench/core/pipeline.js"
import { Sql } from "../../workbench/core/services.js"
import { runPipeline } from "../../workbench/run-pipeline.js"
import { runWithSql } from "../support/sql.js"

const F = "test/fixtures/data/"
const QA = { prompt: "question", chosen: "good", rejected: "bad" }

/** name -> [node kind, whether it expands records into pairs] */
const CASES = {
  hh: [load.hhRlhf({ path: "data/hh-rlhf-harmless-base/test.jsonl.gz" }), false],
  "trl-explicit": [load.trl({ path: `${F}trl-explicit.jsonl` }), false],
  "trl-implicit": [load.trl({ path: `${F}trl-implicit.jsonl` }), false],
  "trl-conversational": [load.trl({ path: `${F}trl-conversational.jsonl` }), false],
  "trl-malformed": [load.trl({ path: `${F}trl-malformed.jsonl`, maxRejectRate: 1 }), false],
  "table-jsonl": [load.table({ path: `${F}table-sides.jsonl`, maxRejectRate: 0.2 }), false],
  "table-json": [load.table({ path: `${F}table-sides.json`, maxRejectRate: 0.5 }), false],
  "table-csv": [load.table({ path: `${F}table-qa.csv`, columns: QA }), false],
  "table-bad-csv": [load.table({ path: `${F}table-bad.csv`, maxRejectRate: 0.5 }), false],
  "uf-random": [load.ultrafeedback({ path: `${F}ultrafeedback.jsonl`, maxRejectRate: 0.5 }), true],
  "uf-each": [
    load.ultrafeedback({ path: `${F}ultrafeedback.jsonl`, pairing: "best-vs-each", maxRejectRate: 0.5 }),
    true
  ],
  oasst: [load.oasst({ path: "data/oasst-en-100-trees/en_100_tree.jsonl" }), true],
  "oasst-fixture": [load.oasst({ path: `${F}oasst-trees.jsonl`, maxRejectRate: 1 }), true],
  panda: [load.pandalm({ path: "data/pandalm-testset", maxRejectRate: 0.01 }), false],
  "alpaca-eval": [load.alpacaEval({ path: "data/alpaca-eval-gpt-3.5-turbo-0301" }), false]
} as const

describe("every loader: rows in = rows out + rejected + removed", () => {
  it("on its fixtures and the shipped data, as the run report counts them", async () => {
    const def = pipeline("accounting", (p) => {
      for (const [name, [kind]] of Object.entries(CASES)) p.node(name, kind)
    })
    const workspace = join(mkdtempSync(join(tmpdir(), "wb-accounting-")), ".wb")
    const run = await runPipeline(def, { workspace, threads: 2 })
    expect(run.report.status).toBe("ok")
    for (const n of run.report.nodes) {
      const [, expands] = CASES[n.name as keyof typeof CASES]
      expect(n.rowsIn, `${n.name}: rows in = ${n.rowsOut} out + ${n.rejected} rejected + ${n.removed} removed`).toBe(
        n.rowsOut + n.rejected + n.removed
      )
      const records = Number(n.stats?.["records"])
      if (!expands) {
        expect(n.rowsIn, `${n.name}: rows in = records`).toBe(records)
        continue
      }
      // every record is a reject, a removed row, or the source_row of at least one pair
      const tables = run.nodes[n.name]!.tables
      const sources = await runWithSql(
        Effect.gen(function* () {
          const [r] = yield* (yield* Sql).rows<{ n: number }>(
            `SELECT count(DISTINCT source_row)::INTEGER AS n FROM '${tables["pairs"]}'`
          )
          return r!.n
        })
      )
      expect(sources + n.rejected + n.removed, `${n.name}: records accounted for`).toBe(records)
    }
    // the cases cover each outcome: rejects, removed rows of both reasons, and expansion
    const by = Object.fromEntries(run.report.nodes.map((n) => [n.name, n]))
    expect([
      by["trl-malformed"]!.rejected > 0,
      by["uf-each"]!.removed,
      by["alpaca-eval"]!.removed,
      by["oasst"]!.rowsOut
    ]).toEqual([true, 1, 1610, 754])
  })
})
