/**
 * CSV is read with RFC 4180 quoting whatever the first rows look like: a quoted multi-line field
 * after 20,000 unquoted rows, or next to an unterminated quote, is one field. Real files, real DuckDB.
 */
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { gzipSync } from "node:zlib"
import { describe, expect, it } from "vitest"
import { load } from "../../nodes/load/index.js"
import { type LoadResult, runLoad } from "./load-helpers.js"

const dir = mkdtempSync(join(tmpdir(), "wb-csv-"))
const file = (name: string, text: string | Buffer) => {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}
const rejectsOf = (r: LoadResult) => r.rejects.map((x) => [x["row"], x["reason"], x["raw"]])
const promptsOf = (r: LoadResult) => r.pairs.map((p) => [p["source_row"], p["prompt"]])

describe("load.table: CSV quoting", () => {
  it("reads a quoted multi-line field that comes after 30,000 unquoted rows", async () => {
    const rows = Array.from({ length: 30_000 }, (_, i) => `p${i},c${i},r${i}`)
    const path = file(
      "late-quote.csv",
      ["prompt,chosen,rejected", ...rows, '"multi\nline, with ""comma""",c,r', "last,c,r", ""].join("\n")
    )
    const r = await runLoad(load.table, { path })
    expect(r.rejects).toEqual([])
    expect(r.pairs).toHaveLength(30_002)
    expect(promptsOf(r).slice(29_999)).toEqual([
      [29_999, "p29999"],
      [30_000, 'multi\nline, with "comma"'],
      [30_001, "last"]
    ])
    expect(r.out.rowsIn).toBe(30_002)
  })

  it("keeps a multi-line record whole next to an unterminated quote", async () => {
    const path = file("unterminated.csv", 'prompt,chosen,rejected\n"a\nb\nc",c0,r0\np1,"unterminated\np2,c2,r2\n')
    const r = await runLoad(load.table, { path, maxRejectRate: 0.7 })
    expect(promptsOf(r)).toEqual([[0, "a\nb\nc"]])
    // RFC 4180: the open quote runs to the end of the file; each line it swallowed counts as a rejected row
    expect(rejectsOf(r)).toEqual([
      [
        2,
        "unclosed quote: a quoted field opens on line 5 and never closes, so the 2 line(s) from there to the end of the file could not be read",
        'p1,"unterminated'
      ],
      [3, "swallowed by the unclosed quote on line 5", "p2,c2,r2"]
    ])
    expect(r.out.rowsIn).toBe(3)
    expect(r.out.rowsIn).toBe(r.pairs.length + r.rejects.length)
  })

  it("numbers records by row, not by line, around multi-line fields and refused rows", async () => {
    const path = file(
      "mixed.csv",
      'prompt,chosen,rejected\n"a\nb",c0,r0\np1,c1,r1,extra\n"p\n2",c2,r2\n"p3\n",c3\np4,c4,r4\n'
    )
    const r = await runLoad(load.table, { path, maxRejectRate: 0.5 })
    expect(promptsOf(r)).toEqual([
      [0, "a\nb"],
      [2, "p\n2"],
      [4, "p4"]
    ])
    expect(rejectsOf(r).map((x) => x.slice(0, 2))).toEqual([
      [2, "unreadable row: too many columns (Expected Number of Columns: 3 Found: 4)"],
      [4, "unreadable row: missing columns (Expected Number of Columns: 3 Found: 2)"]
    ])
    expect(r.out.rowsIn).toBe(5)
  })

  it("reads the header itself: BOM, duplicate and empty names, TSV, gzip, a semicolon delimiter", async () => {
    const bom = await runLoad(load.table, { path: file("bom.csv", "\uFEFFprompt,chosen,rejected,x,X,\np,c,r,1,2,3\n") })
    expect(promptsOf(bom)).toEqual([[0, "p"]])
    expect(bom.pairs.map((p) => [p["x"], p["X_1"], p["column5"]])).toEqual([["1", "2", "3"]])
    const tsv = await runLoad(load.table, {
      path: file("t.tsv.gz", gzipSync('prompt\tchosen\trejected\n"a, b"\t"c\td"\tr\n'))
    })
    expect(tsv.pairs.map((p) => [p["prompt"], p["label"] === "a" ? p["response_a"] : p["response_b"]])).toEqual([
      ["a, b", "c\td"]
    ])
    const semi = await runLoad(load.table, { path: file("semi.csv", 'prompt;chosen;rejected\n"x;y";c;r\n') })
    expect(promptsOf(semi)).toEqual([[0, "x;y"]])
  })

  it("lets the csv param override delimiter, quote and escape", async () => {
    const path = file("backslash.csv", "prompt|chosen|rejected\n'it\\'s'|c|r\n")
    const r = await runLoad(load.table, { path, csv: { delimiter: "|", quote: "'", escape: "\\" } })
    expect(promptsOf(r)).toEqual([[0, "it's"]])
    // without it: RFC 4180 quoting, where ' is an ordinary character
    expect(promptsOf(await runLoad(load.table, { path }))).toEqual([[0, "'it\\'s'"]])
  })
})
