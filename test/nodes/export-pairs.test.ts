// The pairs rules every preference export shares (ties, unlabeled, identical responses), the layouts
// and their options, on small tables with real DuckDB and real files.
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { exportTo } from "../../nodes/export/index.js"
import { pairsSetup, readJsonl, runExport, runExportError, tempRoot } from "./export-helpers.js"

const MIXED = pairsSetup([
  ["Say hi", "hi", "bye", "a"],
  ["Say yes", "no", "yes", "b"],
  ["Pick one", "x", "y", "tie"],
  ["Unrated", "u", "v", null],
  ["Echo", "same", "same", "a"],
  ["Say ok", "ok", "nope", "a"]
])

describe("export.trl pairs rules", () => {
  it("drops ties, unlabeled pairs and identical responses to removed, with the reason (rows in = out + removed)", async () => {
    const root = tempRoot()
    const r = await runExport(exportTo.trl, { to: "out/train.jsonl" }, MIXED, root)
    expect(r.rows).toEqual([
      { prompt: "Say hi", chosen: "hi", rejected: "bye" },
      { prompt: "Say yes", chosen: "yes", rejected: "no" },
      { prompt: "Say ok", chosen: "ok", rejected: "nope" }
    ])
    expect(r.removed.map((x) => [x["pair_id"], x["reason"]])).toEqual([
      ["p2", "tie"],
      ["p3", "unlabeled"],
      ["p4", "identical responses"]
    ])
    expect(r.removed[0]).toMatchObject({ prompt: "Pick one", response_a: "x", label: "tie", source_row: 2 })
    expect(readJsonl(join(root, "out", "train.jsonl"))).toEqual(r.rows)
    const card = readFileSync(join(root, "out", "README.md"), "utf8")
    expect(card).toContain("Rows: 6 in = 3 written + 3 left out.")
    expect(card).toContain(
      "| left out because | rows |\n|---|---|\n| `identical responses` | 1 |\n| `tie` | 1 |\n| `unlabeled` | 1 |"
    )
    expect(r.card[0]).toMatchObject({
      file: "train.jsonl",
      bytes: readFileSync(join(root, "out", "train.jsonl")).length
    })
    expect(r.out.stats).toMatchObject({ written: 3, file: "out/train.jsonl" })
  })

  it("ties: error fails naming the first tie or unlabeled pair, and writes nothing", async () => {
    const root = tempRoot()
    const e = await runExportError(exportTo.trl, { to: "out/train.jsonl", ties: "error" }, MIXED, root)
    expect(e.tag).toBe("DataError")
    expect(e.message).toBe(
      'node "x" (export.trl) param ties: "error": 2 tied or unlabeled pair(s); the first is pair_id p2 (source src, source_row 2): tie\n' +
        `  expected: every pair labeled 'a' or 'b', since ties is "error"\n` +
        '  fix: set ties: "drop" to leave them out (they go to the removed table with their reason), or fix them upstream'
    )
    expect(() => readFileSync(join(root, "out", "train.jsonl"))).toThrow()
  })

  it("identical: error names the pair whose chosen would equal rejected", async () => {
    const e = await runExportError(exportTo.trl, { to: "o.jsonl", identical: "error" }, MIXED, tempRoot())
    expect(e.message).toContain(
      'param identical: "error": 1 pair(s) with two identical responses; the first is pair_id p4 (source src, source_row 4): identical responses'
    )
  })

  it("writes a margin column when the input has one, a named column as margin, none when asked; keep adds columns", async () => {
    const setup = pairsSetup(
      [
        ["q1", "a1", "b1", "a", 0.5],
        ["q2", "a2", "b2", "b", 2]
      ],
      ["margin"]
    )
    const auto = await runExport(exportTo.trl, { to: "m.jsonl", keep: ["pair_id"] }, setup, tempRoot())
    expect(auto.rows).toEqual([
      { prompt: "q1", chosen: "a1", rejected: "b1", margin: 0.5, pair_id: "p0" },
      { prompt: "q2", chosen: "b2", rejected: "a2", margin: 2, pair_id: "p1" }
    ])
    expect(
      Object.keys((await runExport(exportTo.trl, { to: "m.jsonl", margin: "none" }, setup, tempRoot())).rows[0]!)
    ).toEqual(["prompt", "chosen", "rejected"])
    const named = await runExport(exportTo.trl, { to: "m.jsonl", margin: "source_row" }, setup, tempRoot())
    expect(named.rows.map((r) => r["margin"])).toEqual([0, 1])
    const e = await runExportError(exportTo.trl, { to: "m.jsonl", keep: ["nope"] }, setup, tempRoot())
    expect(e.message).toMatch(
      /^node "x" \(export\.trl\) param keep: the input has no column "nope"\n {2}expected: columns of the input: pair_id, prompt/
    )
  })

  it("implicit and conversational layouts", async () => {
    const setup = pairsSetup([["What is 2+2?", "4", "5", "a"]])
    expect((await runExport(exportTo.trl, { to: "i.jsonl", layout: "implicit" }, setup, tempRoot())).rows).toEqual([
      { chosen: "What is 2+2?\n\n4", rejected: "What is 2+2?\n\n5" }
    ])
    expect(
      (await runExport(exportTo.trl, { to: "i.jsonl", layout: "implicit", separator: " " }, setup, tempRoot()))
        .rows[0]!["chosen"]
    ).toBe("What is 2+2? 4")
    const root = tempRoot()
    await runExport(exportTo.trl, { to: "c.jsonl", layout: "conversational" }, setup, root)
    expect(readJsonl(join(root, "c.jsonl"))).toEqual([
      {
        prompt: [{ role: "user", content: "What is 2+2?" }],
        chosen: [{ role: "assistant", content: "4" }],
        rejected: [{ role: "assistant", content: "5" }]
      }
    ])
    await runExport(exportTo.trl, { to: "ci.jsonl", layout: "conversational-implicit" }, setup, root)
    expect(readJsonl(join(root, "ci.jsonl"))[0]!["rejected"]).toEqual([
      { role: "user", content: "What is 2+2?" },
      { role: "assistant", content: "5" }
    ])
  })

  it("refuses to write beside a README.md that is not a data card (a project's own), before writing anything", async () => {
    const root = tempRoot()
    writeFileSync(join(root, "README.md"), "# My project\n")
    const e = await runExportError(exportTo.trl, { to: "train.jsonl" }, MIXED, root)
    expect(e.message).toBe(
      'node "x" (export.trl) param to: README.md exists and is not a wb data card; the export\'s card would replace it\n' +
        "  expected: a folder whose README.md, if any, is a data card wb wrote\n" +
        '  fix: write the export into a folder of its own, e.g. "exports/train.jsonl"'
    )
    expect(readFileSync(join(root, "README.md"), "utf8")).toBe("# My project\n")
    expect(existsSync(join(root, "train.jsonl"))).toBe(false)
  })

  it("refuses a file name it cannot tell the format of", async () => {
    const e = await runExportError(exportTo.trl, { to: "out/train.txt" }, MIXED, tempRoot())
    expect(e.message).toContain('node "x" (export.trl) param to: cannot tell the format from the name "out/train.txt"')
    expect(e.message).toContain('fix: name the file e.g. "out/train.jsonl", or set format: "jsonl"')
  })
})

describe("export.openrlhf", () => {
  it("writes chat-template-ready messages under the configured keys", async () => {
    const root = tempRoot()
    const setup = pairsSetup([["Hello?", "Hi!", "Go away.", "a", 1.5]], ["margin"])
    const r = await runExport(
      exportTo.openrlhf,
      { to: "rm.jsonl", promptKey: "context", chosenKey: "good", rejectedKey: "bad" },
      setup,
      root
    )
    expect(readJsonl(join(root, "rm.jsonl"))).toEqual([
      {
        context: [{ role: "user", content: "Hello?" }],
        good: [{ role: "assistant", content: "Hi!" }],
        bad: [{ role: "assistant", content: "Go away." }],
        margin: 1.5
      }
    ])
    expect(readFileSync(join(root, "README.md"), "utf8")).toContain(
      "--dataset rm.jsonl --prompt_key context --chosen_key good --rejected_key bad --apply_chat_template"
    )
    expect(r.removed).toEqual([])
  })

  it("without a prompt key, chosen and rejected are whole conversations; plain text without messages", async () => {
    const setup = pairsSetup([["Hello?", "Hi!", "Go away.", "b"]])
    const root = tempRoot()
    await runExport(exportTo.openrlhf, { to: "a.jsonl", promptKey: null }, setup, root)
    expect(readJsonl(join(root, "a.jsonl"))[0]!["chosen"]).toEqual([
      { role: "user", content: "Hello?" },
      { role: "assistant", content: "Go away." }
    ])
    expect((await runExport(exportTo.openrlhf, { to: "b.jsonl", messages: false }, setup, root)).rows).toEqual([
      { prompt: "Hello?", chosen: "Go away.", rejected: "Hi!" }
    ])
    const e = await runExportError(exportTo.openrlhf, { to: "c.jsonl", chosenKey: "prompt" }, setup, root)
    expect(e.message).toContain('the field "prompt" would be written twice (fields: prompt, prompt, rejected)')
  })
})
