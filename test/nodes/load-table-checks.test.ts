/**
 * load.table (and load.trl, which shares the pass-through) on awkward records: prompt messages
 * without content, field names that differ only in case or are empty. Real files, real DuckDB.
 */
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { load } from "../../nodes/load/index.js"
import { expectComplete, runLoad, writeJsonl } from "./load-helpers.js"

const dir = mkdtempSync(join(tmpdir(), "wb-table-checks-"))
const jsonl = (name: string, records: ReadonlyArray<unknown>) => writeJsonl(dir, name, records)

describe("load.table: prompt messages", () => {
  it("rejects a prompt message without string content instead of loading a NULL prompt", async () => {
    const path = jsonl("prompt-msgs.jsonl", [
      { prompt: [{ role: "user" }], chosen: "c", rejected: "r" },
      { prompt: [{ role: "user", content: 5 }], chosen: "c", rejected: "r" },
      {
        prompt: [
          { role: "user", content: "hi" },
          { role: "assistant", content: ["x"] }
        ],
        chosen: "c",
        rejected: "r"
      },
      { prompt: [{ content: "hi" }], chosen: "c", rejected: "r" },
      { prompt: ["hi"], chosen: "c", rejected: "r" },
      { prompt: [{ role: "user", content: "fine" }], chosen: "c", rejected: "r" }
    ])
    const r = await runLoad(load.table, { path, maxRejectRate: 1 })
    expect(r.rejects.map((x) => [x["line"], x["reason"]])).toEqual([
      [1, "prompt[0].content: missing"],
      [2, "prompt[0].content: expected a string, got a number"],
      [3, "prompt[1].content: expected a string, got an array"],
      [4, "prompt[0].role: missing"],
      [5, "prompt[0]: expected a {role, content} message, got a string"]
    ])
    expect(r.pairs.map((p) => [p["source_row"], p["prompt"]])).toEqual([[5, "fine"]])
    expectComplete(r, 6)
  })
})

describe("pass-through field names", () => {
  it("keeps fields whose names differ only in case under distinct columns", async () => {
    const path = jsonl("case.jsonl", [
      { prompt: "p", chosen: "c", rejected: "r", id: 1, ID: 2, Id: 3, Source: "s", src_source: "t", Label_Source: "u" },
      {
        prompt: "q",
        chosen: "c",
        rejected: "r",
        id: 4,
        ID: 5,
        Id: 6,
        Source: "s2",
        src_source: "t2",
        Label_Source: "u2"
      }
    ])
    for (const kind of [load.table, load.trl] as const) {
      const r = await runLoad(kind as typeof load.table, { path })
      const extras = Object.keys(r.pairTypes).slice(Object.keys(r.pairTypes).indexOf("messages") + 1)
      expect(extras).toEqual(["id", "ID_1", "Id_2", "src_Source", "src_source_1", "src_Label_Source"])
      expect(r.pairs.map((p) => extras.map((c) => p[c]))).toEqual([
        [1, 2, 3, "s", "t", "u"],
        [4, 5, 6, "s2", "t2", "u2"]
      ])
      expectComplete(r, 2)
    }
  })

  it("keeps a field with an empty name as column unnamed", async () => {
    const path = jsonl("empty-key.jsonl", [
      { prompt: "p", chosen: "c", rejected: "r", "": 1, unnamed: "x" },
      { prompt: "q", chosen: "c", rejected: "r", "": 2 }
    ])
    for (const kind of [load.table, load.trl] as const) {
      const r = await runLoad(kind as typeof load.table, { path })
      expect(r.pairs.map((p) => [p["prompt"], p["unnamed"], p["unnamed_1"]])).toEqual([
        ["p", 1, "x"],
        ["q", 2, null]
      ])
      expectComplete(r, 2)
    }
  })
})
