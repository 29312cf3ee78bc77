/**
 * An empty input loads 0 rows, with a warning note (what the run summary shows beside the node),
 * in every format: a 0-byte or blank-only JSON Lines file, `[]`, a header-only or 0-byte CSV, a
 * gzip'd empty file, a 0-row Parquet file. Real files, real DuckDB.
 */
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { gzipSync } from "node:zlib"
import { Effect, Schema } from "effect"
import { describe, expect, it } from "vitest"
import { load } from "../../nodes/load/index.js"
import { Progress, Sql } from "../../workbench/core/services.js"
import { runWithSql } from "../support/sql.js"

const root = mkdtempSync(join(tmpdir(), "wb-empty-"))
const write = (name: string, bytes: string | Buffer) => {
  writeFileSync(join(root, name), bytes)
  return name
}

/** Run load.table on `path`, recording the notes it gives; the pairs and rejects it returns. */
const loadWithNotes = (path: string) =>
  runWithSql(
    Effect.gen(function* () {
      const notes: Array<string> = []
      const params = Schema.decodeUnknownSync(load.table.definition.params as never)({ path }) as never
      const out = yield* load.table.definition.run({ node: "n", kind: "load.table", params, inputs: {} }).pipe(
        Effect.provideService(Progress, {
          rows: () => Effect.void,
          note: (text) => Effect.sync(() => void notes.push(text)),
          metrics: () => Effect.void
        })
      )
      const sql = yield* Sql
      return {
        out,
        notes,
        pairs: yield* sql.count(out.tables["pairs"]!),
        rejects: yield* sql.count(out.tables["rejects"]!)
      }
    }),
    root
  )

describe("an empty input", () => {
  const cases: ReadonlyArray<readonly [string, string | Buffer]> = [
    ["zero.jsonl", ""],
    ["blank.jsonl", "\n  \n\n"],
    ["empty.json", "[]"],
    ["header.csv", "prompt,chosen,rejected\n"],
    ["zero.csv", ""],
    ["empty.jsonl.gz", gzipSync("")]
  ]
  for (const [name, bytes] of cases) {
    it(`loads 0 rows from ${name}, with a warning note`, async () => {
      const r = await loadWithNotes(write(name, bytes))
      expect([r.pairs, r.rejects, r.out.rowsIn]).toEqual([0, 0, 0])
      expect(r.notes.at(-1)).toBe(`warning: ${name} holds no records (0 rows loaded from it)`)
      expect(r.out.stats).toMatchObject({ records: 0, pairs: 0, empty_files: 1 })
    })
  }

  it("loads 0 rows from a 0-row Parquet file, with a warning note", async () => {
    await runWithSql(
      Effect.gen(function* () {
        yield* (yield* Sql).run(
          `COPY (SELECT 'p' AS prompt, 'c' AS chosen, 'r' AS rejected WHERE false) TO '${join(root, "empty.parquet")}' (FORMAT parquet)`
        )
      })
    )
    const r = await loadWithNotes("empty.parquet")
    expect([r.pairs, r.rejects, r.out.rowsIn]).toEqual([0, 0, 0])
    expect(r.notes.at(-1)).toBe("warning: empty.parquet holds no records (0 rows loaded from it)")
  })
})
