import { Effect } from "effect"
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { gzipSync } from "node:zlib"
import { beforeAll, describe, expect, it } from "vitest"
import { load } from "../../nodes/load/index.js"
import { Sql } from "../../workbench/core/services.js"
import { runWithSql } from "../support/sql.js"
import { runLoad, runLoadError, type Row } from "./load-helpers.js"

const F = "test/fixtures/data/"
const tmp = mkdtempSync(join(tmpdir(), "wb-load-"))
const crOf = (p: Row) => [
  p["prompt"],
  p["label"] === "a" ? p["response_a"] : p["response_b"],
  p["label"] === "a" ? p["response_b"] : p["response_a"]
]
const QA = { prompt: "question", chosen: "good", rejected: "bad" }
const QA_ROWS = [
  ["What is the boiling point of water at sea level?", "100 °C (212 °F).", "About 50 °C."],
  ['Give me a synonym for "happy".', 'Joyful, as in "a joyful day".', "Sad."],
  ["Is 91 prime?", "No: 91 = 7 × 13.", "Yes, 91 is prime."],
  ["Say nothing.", "", "Okay, here is something."],
  ["Capital of Australia?", "Canberra.", "Sydney."]
]

beforeAll(async () => {
  writeFileSync(join(tmp, "qa.csv.gz"), gzipSync(readFileSync(`${F}table-qa.csv`)))
  writeFileSync(join(tmp, "sides.jsonl.gz"), gzipSync(readFileSync(`${F}table-sides.jsonl`)))
  writeFileSync(join(tmp, "sides.json.gz"), gzipSync(readFileSync(`${F}table-sides.json`)))
  copyFileSync(`${F}table-sides.jsonl`, join(tmp, "sides.txt"))
  await runWithSql(
    Effect.gen(function* () {
      const sql = yield* Sql
      yield* sql.run(
        `COPY (SELECT * FROM read_csv('${F}table-qa.csv', all_varchar = true, nullstr = chr(0))) TO '${join(tmp, "qa.parquet")}' (FORMAT parquet)`
      )
    })
  )
})

describe("load.table", () => {
  it("maps chosen/rejected columns of a CSV and passes the rest through", async () => {
    const r = await runLoad(load.table, { path: `${F}table-qa.csv`, columns: QA })
    expect(r.pairs.map(crOf)).toEqual(QA_ROWS)
    expect(r.pairs.map((p) => p["topic"])).toEqual(["physics", "language", "math", "", "geography"])
    expect(r.pairs.map((p) => p["source"])).toEqual(Array(5).fill("table-qa"))
    expect(r.pairs.map((p) => p["source_row"])).toEqual([0, 1, 2, 3, 4])
    expect(r.out.stats).toMatchObject({ records: 5, pairs: 5, rejected: 0, empty_responses: 1, mode: "chosen" })
  })

  it("reads the same pairs from .csv.gz and Parquet", async () => {
    const gz = await runLoad(load.table, { path: join(tmp, "qa.csv.gz"), columns: QA, source: "qa" })
    const pq = await runLoad(load.table, { path: join(tmp, "qa.parquet"), columns: QA, source: "qa" })
    expect(gz.pairs.map(crOf)).toEqual(QA_ROWS)
    expect(pq.pairs).toEqual(gz.pairs)
  })

  it("maps labels of response_a/response_b tables; unknown labels are rejected", async () => {
    const r = await runLoad(load.table, { path: `${F}table-sides.jsonl`, maxRejectRate: 0.2, labelSource: "human" })
    expect(r.pairs.map((p) => [p["label"], p["label_source"]])).toEqual([
      ["a", "human"],
      ["b", "human"],
      ["tie", "human"],
      [null, null],
      ["a", "human"]
    ])
    expect(r.pairs.map((p) => p["judge_score"])).toEqual([0.9, 0.1, 0.5, null, 0.8])
    expect(r.rejects.map((x) => [x["line"], x["reason"]])).toEqual([
      [5, 'label: unknown value "both" (known: a, b, tie, model_a, model_b, tie (bothbad); see the labels param)']
    ])
    const chat = r.pairs[4]!
    expect(chat["prompt"]).toBe("Human: Hi\n\nAssistant: Hello!\n\nHuman: Bye")
    expect(JSON.parse(String(chat["messages"]))).toHaveLength(3)
    expect(r.out.rowsIn).toBe(6)
    const mapped = await runLoad(load.table, {
      path: `${F}table-sides.jsonl`,
      labels: { a: "a", b: "b", tie: "tie", both: "tie", model_b: "b" },
      maxRejectRate: 0
    })
    expect(mapped.pairs.map((p) => p["label"])).toEqual(["a", "b", "tie", null, "tie", "a"])
  })

  it("reads .jsonl.gz, JSON arrays (.json.gz) and a format override alike", async () => {
    const base = await runLoad(load.table, { path: `${F}table-sides.json` })
    expect(base.pairs.map((p) => p["source_row"])).toEqual([0, 1, 2, 3])
    for (const path of [join(tmp, "sides.json.gz"), join(tmp, "sides.jsonl.gz")]) {
      const r = await runLoad(load.table, { path, maxRejectRate: 0.5, source: "table-sides" })
      expect(r.pairs.slice(0, 4)).toEqual(base.pairs)
    }
    const txt = await runLoad(load.table, {
      path: join(tmp, "sides.txt"),
      format: "jsonl",
      maxRejectRate: 0.5,
      source: "table-sides"
    })
    expect(txt.pairs.slice(0, 4)).toEqual(base.pairs)
  })

  it("rejects CSV rows the scanner refuses, keeping the data-row numbers", async () => {
    const r = await runLoad(load.table, { path: `${F}table-bad.csv`, maxRejectRate: 0.5 })
    // rejects count data rows from 1 (source_row stays the 0-based record)
    expect(r.rejects.map((x) => [x["row"], x["reason"], x["raw"]])).toEqual([
      [2, "unreadable row: missing columns (Expected Number of Columns: 3 Found: 2)", "Q1,only two fields"],
      [4, "invalid UTF-8", "Q3,caf??E"],
      [5, "unreadable row: too many columns (Expected Number of Columns: 3 Found: 4)", "Q4,F,G,extra"]
    ])
    expect(r.pairs.map((p) => [p["source_row"], p["prompt"]])).toEqual([
      [0, "Q0"],
      [2, "Q2"],
      [5, "Q5"]
    ])
    expect(r.out.rowsIn).toBe(6)
  })

  it("fails on a JSON array with a syntax error, suggesting JSON Lines", async () => {
    const e = await runLoadError(load.table, { path: `${F}broken-array.json` })
    expect(e.message).toMatch(
      /^node "n" \(load\.table\) file test\/fixtures\/data\/broken-array\.json: not a readable JSON array: .*Malformed JSON in file .*broken-array\.json", at byte \d+ in record\/value 3: unexpected end of data/
    )
    expect(e.message).toContain(`  fix: fix the file; if it holds one JSON object per line, set format: "jsonl"`)
  })

  it("says which field is missing, with the file's fields and a close match", async () => {
    const e = await runLoadError(load.table, {
      path: `${F}table-qa.csv`,
      columns: { prompt: "questions", chosen: "good", rejected: "bad" }
    })
    expect(e.message).toBe(
      `node "n" (load.table) param columns.prompt: the file has no field "questions"; its fields: question, good, bad, topic\n` +
        `  expected: a field holding the prompt\n` +
        `  fix: did you mean "question"? set columns.prompt to one of the file's fields`
    )
    const auto = await runLoadError(load.table, { path: `${F}table-qa.csv` })
    expect(auto.message).toContain(
      "cannot tell which fields hold the prompt and the responses; the file has: question, good, bad, topic"
    )
  })

  it("names the resolved path and what exists nearby when the file is missing", async () => {
    const e = await runLoadError(load.table, { path: "test/fixtures/data/table-qa.cvs" })
    expect(e.tag).toBe("DataError")
    const abs = join(process.cwd(), "test/fixtures/data/table-qa.cvs")
    expect(e.message.split("\n")[0]).toBe(
      `node "n" (load.table) param path: no such file: test/fixtures/data/table-qa.cvs (resolved to ${abs}); ` +
        `test/fixtures/data/ has: ${readdirSorted("test/fixtures/data").slice(0, 12).join(", ")}` +
        (readdirSorted("test/fixtures/data").length > 12
          ? `, … (${readdirSorted("test/fixtures/data").length} entries)`
          : "")
    )
    expect(e.message).toContain(`  expected: a JSONL, JSON, CSV or Parquet file (optionally .gz)`)
    expect(e.message).toContain(`  fix: did you mean "table-qa.csv"`)
    expect(e.message).toContain(`? correct path; relative paths resolve against the project root ${process.cwd()}`)
    const dir = await runLoadError(load.table, { path: "data/no-such-dir/x.jsonl" })
    expect(dir.message).toContain("no such file: data/no-such-dir/x.jsonl")
    expect(dir.message).toMatch(/; data\/ has: .*alpaca-eval-gpt-3.5-turbo-0301\/, hh-rlhf-harmless-base\//)
  })
})

function readdirSorted(dir: string): Array<string> {
  return readdirSync(dir, { withFileTypes: true })
    .map((e) => (e.isDirectory() ? `${e.name}/` : e.name))
    .sort()
}
