/**
 * Rejects say where a record is as its format counts it, in a column named for it: `line` (1-based,
 * blank lines counted) for JSON Lines, `index` (0-based element) for JSON arrays, `row` (1-based data
 * row, a multi-line field counting once) for CSV and Parquet; and reasons say "a number", "an
 * object", never DuckDB's type names. Real files, real DuckDB.
 */
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { collectRejects } from "../../nodes/load/check.js"
import { load } from "../../nodes/load/index.js"
import { Sql } from "../../workbench/core/services.js"
import { runWithSql } from "../support/sql.js"
import { expectComplete, runLoad } from "./load-helpers.js"

const root = mkdtempSync(join(tmpdir(), "wb-numbers-"))
const write = (name: string, text: string) => {
  writeFileSync(join(root, name), text)
  return name
}
const good = (p: string) => ({ prompt: p, chosen: "yes", rejected: "no" })
const columnsOf = (rows: ReadonlyArray<Record<string, unknown>>) => Object.keys(rows[0] ?? {})

describe("reject numbers and reasons", () => {
  it("JSON Lines: 1-based line numbers, blank lines counted", async () => {
    const lines = [
      good("a"),
      "",
      '{"prompt": "b", "chosen": ',
      [1, 2],
      { prompt: 7, chosen: "y", rejected: "n" },
      good("c")
    ]
    const path = write("n.jsonl", lines.map((l) => (typeof l === "string" ? l : JSON.stringify(l))).join("\n") + "\n")
    const r = await runLoad(load.table, { path, maxRejectRate: 1 }, root)
    expect(columnsOf(r.rejects)).toEqual(["file", "line", "reason", "raw"])
    expect(r.rejects.map((x) => [x["line"], x["reason"]])).toEqual([
      [3, "malformed JSON"],
      [4, "expected a JSON object, got an array"],
      [5, "prompt: expected a string or an array, got a number"]
    ])
    expectComplete(r, 5)
  })

  it("JSON arrays: 0-based element indexes", async () => {
    const path = write("n.json", JSON.stringify([good("a"), 5, { ...good("b"), chosen: { text: "y" } }, good("c")]))
    const r = await runLoad(load.table, { path, maxRejectRate: 1 }, root)
    expect(columnsOf(r.rejects)).toEqual(["file", "index", "reason", "raw"])
    expect(r.rejects.map((x) => [x["index"], x["reason"]])).toEqual([
      [1, "expected a JSON object, got a number"],
      [2, "chosen: expected a string, got an object"]
    ])
    expectComplete(r, 4)
  })

  it("CSV and Parquet: 1-based data rows, a multi-line field counting once", async () => {
    const csv = write("n.csv", 'prompt,chosen,rejected\n"two\nlines",c,r\np2,c2\np3,c3,r3\n')
    const r = await runLoad(load.table, { path: csv, maxRejectRate: 1 }, root)
    expect(columnsOf(r.rejects)).toEqual(["file", "row", "reason", "raw"])
    expect(r.rejects.map((x) => [x["row"], x["reason"]])).toEqual([
      [2, "unreadable row: missing columns (Expected Number of Columns: 3 Found: 2)"]
    ])
    await runWithSql(
      Effect.gen(function* () {
        yield* (yield* Sql).run(`COPY (SELECT * FROM (VALUES ('p1', 'c1', 'r1'), ('p2', NULL, 'r2'), ('p3', 'c3', 'r3')) t(prompt, chosen, rejected))
        TO '${join(root, "n.parquet")}' (FORMAT parquet)`)
      })
    )
    const pq = await runLoad(load.table, { path: "n.parquet", maxRejectRate: 1 }, root)
    expect(pq.rejects.map((x) => [x["row"], x["reason"]])).toEqual([[2, "chosen: expected a string, got null"]])
  })

  it("a loader reading several formats gets one number column per format, and the message uses each", async () => {
    const result = await runWithSql(
      Effect.gen(function* () {
        const sql = yield* Sql
        yield* sql.run(`CREATE TABLE a AS SELECT * FROM (VALUES (0, '{}', NULL), (1, 'x', 'malformed JSON')) t(record, raw, reason);
        CREATE TABLE b AS SELECT * FROM (VALUES (0, '5', 'expected a JSON object, got a number')) t(record, raw, reason)`)
        const files = [
          {
            file: { abs: "/a.jsonl", shown: "a.jsonl", format: "jsonl" as const },
            records: { table: "a", records: 2, blankLines: 0 }
          },
          {
            file: { abs: "/b.json", shown: "b.json", format: "json" as const },
            records: { table: "b", records: 1, blankLines: 0 }
          }
        ]
        const rows = yield* collectRejects({ node: "n", kind: "load.test", root: "/" }, files, 1).pipe(
          Effect.flatMap((r) => sql.rows<Record<string, unknown>>(`SELECT * FROM ${r.table}`))
        )
        const message = yield* collectRejects({ node: "n", kind: "load.test", root: "/" }, files, 0).pipe(
          Effect.flip,
          Effect.map((e) => e.message.split("\n")[0])
        )
        return { rows, message }
      })
    )
    expect(result.rows).toEqual([
      { file: "a.jsonl", line: 2, index: null, reason: "malformed JSON", raw: "x" },
      { file: "b.json", line: null, index: 0, reason: "expected a JSON object, got a number", raw: "5" }
    ])
    expect(result.message).toBe(
      `node "n" (load.test) file a.jsonl, b.json: 2 of 3 records rejected (66.7%): a.jsonl line 2: malformed JSON; ` +
        `b.json index 0: expected a JSON object, got a number`
    )
  })
})
