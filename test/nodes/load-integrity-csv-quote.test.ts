/**
 * An unclosed CSV quote runs to the end of the file (RFC 4180). DuckDB refuses all that as one row,
 * which understated the reject rate (1 reject where 7 lines were lost); each swallowed line now
 * counts as a rejected row, and the first reject names the line the quote opens on. Real files, DuckDB.
 */
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { gzipSync } from "node:zlib"
import { describe, expect, it } from "vitest"
import { load } from "../../nodes/load/index.js"
import { expectComplete, runLoad, runLoadError } from "./load-helpers.js"

const root = mkdtempSync(join(tmpdir(), "wb-quote-"))
const write = (name: string, text: string | Buffer) => {
  writeFileSync(join(root, name), text)
  return name
}
/** 10 data rows; row 2 is a quoted field over two lines; row 4 opens a quote it never closes (line 6). */
const ROWS = Array.from({ length: 10 }, (_, k) => {
  const i = k + 1
  return i === 2 ? `p2,"two\nlines",r2` : i === 4 ? `p4,"never closed c4,r4` : `p${i},c${i},r${i}`
})
const text = (eol: string) => ["prompt,chosen,rejected", ...ROWS].join("\n").replaceAll("\n", eol) + eol
const opens =
  "unclosed quote: a quoted field opens on line 6 and never closes, so the 7 line(s) from there to the end of the file could not be read"

describe("an unclosed CSV quote", () => {
  it("rejects every line it swallows, numbered as rows, the first naming the line it opens on", async () => {
    const r = await runLoad(load.table, { path: write("unclosed.csv", text("\n")), maxRejectRate: 1 }, root)
    expect(r.pairs.map((p) => [p["source_row"], p["prompt"]])).toEqual([
      [0, "p1"],
      [1, "p2"],
      [2, "p3"]
    ])
    expect(r.rejects.map((x) => [x["row"], x["reason"], x["raw"]])).toEqual([
      [4, opens, 'p4,"never closed c4,r4'],
      ...[5, 6, 7, 8, 9, 10].map((i) => [i, "swallowed by the unclosed quote on line 6", `p${i},c${i},r${i}`])
    ])
    expectComplete(r, 10)
  })

  it("fails past maxRejectRate with the honest rate: 7 of 10 rows, not 1 of 4", async () => {
    const e = await runLoadError(
      load.table,
      { path: write("unclosed-limit.csv", text("\n")), maxRejectRate: 0.5 },
      root
    )
    expect(e.message.split("\n")[0]).toBe(
      `node "n" (load.table) file unclosed-limit.csv: 7 of 10 records rejected (70.0%): row 4: ${opens}; ` +
        `row 5: swallowed by the unclosed quote on line 6; row 6: swallowed by the unclosed quote on line 6; … (4 more)`
    )
  })

  it("counts the same lines in a gzip'd file and with CRLF endings", async () => {
    for (const [name, bytes] of [
      ["unclosed.csv.gz", gzipSync(text("\n"))],
      ["unclosed-crlf.csv", text("\r\n")]
    ] as const) {
      const r = await runLoad(load.table, { path: write(name, bytes), maxRejectRate: 1 }, root)
      expect(r.rejects.map((x) => [x["row"], x["reason"]])).toEqual([
        [4, opens],
        ...[5, 6, 7, 8, 9, 10].map((i) => [i, "swallowed by the unclosed quote on line 6"])
      ])
      expect(r.rejects[1]!["raw"]).toBe("p5,c5,r5")
      expectComplete(r, 10)
    }
  })
})
