/** JSON Lines: a line of JSON whitespace (spaces, tabs) is blank, not a malformed record. Real files, real DuckDB. */
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { load } from "../../nodes/load/index.js"
import { runLoad } from "./load-helpers.js"

const dir = mkdtempSync(join(tmpdir(), "wb-blank-"))
const jsonl = (name: string, lines: ReadonlyArray<string>) => {
  const path = join(dir, name)
  writeFileSync(path, lines.join("\n") + "\n")
  return path
}

describe("JSON Lines blank lines", () => {
  it("treats a line of spaces and tabs as blank, not as malformed JSON", async () => {
    const good = JSON.stringify({ prompt: "p", chosen: "c", rejected: "r" })
    const path = jsonl("blank.jsonl", [good, "  \t ", "\t", good, "\t \t", good])
    const r = await runLoad(load.trl, { path })
    expect(r.rejects).toEqual([])
    expect(r.pairs.map((p) => p["source_row"])).toEqual([0, 3, 5])
    expect(r.out.stats).toMatchObject({ records: 3, pairs: 3, rejected: 0, blank_lines: 3 })
  })

  it("does the same for load.table", async () => {
    const good = JSON.stringify({ prompt: "p", chosen: "c", rejected: "r" })
    const r = await runLoad(load.table, { path: jsonl("blank-table.jsonl", [good, " \t", good]) })
    expect(r.rejects).toEqual([])
    expect(r.pairs.map((p) => p["source_row"])).toEqual([0, 2])
    expect(r.out.stats).toMatchObject({ records: 2, blank_lines: 1 })
  })
})
