/**
 * `wb sql` and `wb show` output for people and scripts, through real `wb` processes on the quickstart's
 * real artifacts: every row when piped (a 1,106-row query gives 1,106 rows in CSV, JSON Lines, JSON and
 * as a table), tables that fit the width with long text elided and its length shown, --vertical and
 * --columns, the time limit, PIVOT, and a `wb run` log without a terminal that has no ANSI codes,
 * carriage returns, spinner frames or stale notes.
 */
import { join } from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { cellText, fitWidths, rowsTable } from "../../workbench/cli/render-rows.js"
import { REPO, tempDir, wb } from "./cli-spawn.js"

const QUICKSTART = join(REPO, "pipelines", "quickstart.ts")
let ws = ""
let run = { code: 0 as number | null, stdout: "", stderr: "" }
const wbq = (args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  wb([...args, "--workspace", ws], { cwd: tempDir(), env })

/** RFC 4180 records: quoted fields may hold commas, quotes ("") and line breaks. */
function parseCsv(text: string): Array<Array<string>> {
  const rows: Array<Array<string>> = []
  let row: Array<string> = []
  let field = ""
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"'
        i++
      } else if (c === '"') quoted = false
      else field += c
    } else if (c === '"') quoted = true
    else if (c === ",") {
      row.push(field)
      field = ""
    } else if (c === "\n") {
      row.push(field)
      rows.push(row)
      row = []
      field = ""
    } else field += c
  }
  if (field !== "" || row.length > 0) rows.push([...row, field])
  return rows
}

const QUERY = "select pair_id, prompt, label from hh order by pair_id limit 1106"

beforeAll(async () => {
  ws = join(tempDir("wb-output-"), ".wb")
  run = await wbq(["run", QUICKSTART])
  expect(run.code, run.stderr).toBe(0)
}, 120_000)

describe("wb sql: every row when piped, in each format", { timeout: 120_000 }, () => {
  it("a 1,106-row query gives 1,106 rows as CSV, JSON Lines, JSON and a table, with the same values", async () => {
    const [csv, jsonl, json, table] = await Promise.all([
      wbq(["sql", QUICKSTART, QUERY, "--format", "csv"]),
      wbq(["sql", QUICKSTART, QUERY, "--format", "jsonl"]),
      wbq(["sql", QUICKSTART, QUERY, "--json"]),
      wbq(["sql", QUICKSTART, QUERY])
    ])
    for (const r of [csv, jsonl, json, table]) expect([r.code, r.stderr]).toEqual([0, ""])
    const lines = jsonl.stdout.split("\n")
    expect(lines.pop()).toBe("") // every line ends in \n
    const objects = lines.map((l) => JSON.parse(l) as { pair_id: string; prompt: string; label: string | null })
    expect(objects).toHaveLength(1106)
    expect(JSON.parse(json.stdout)).toEqual(objects)
    const [header, ...rows] = parseCsv(csv.stdout)
    expect(header).toEqual(["pair_id", "prompt", "label"])
    expect(rows).toHaveLength(1106)
    // prompts hold line breaks, commas and quotes: the CSV round-trips them
    expect(rows.some((r) => r[1]!.includes("\n"))).toBe(true)
    expect(rows).toEqual(objects.map((o) => [o.pair_id, o.prompt, o.label ?? ""]))
    const out = table.stdout.split("\n")
    expect(out[0]).toMatch(/^ {2}pair_id +prompt +label$/)
    expect(out.at(-2)).toBe("  1,106 rows")
    expect(out).toHaveLength(1 + 1106 + 2)
  })

  it("--limit cuts the rows it is asked to, and says so on stderr for the machine formats", async () => {
    const csv = await wbq(["sql", QUICKSTART, QUERY, "--format", "csv", "--limit", "5"])
    expect(csv.code).toBe(0)
    expect(parseCsv(csv.stdout)).toHaveLength(6)
    expect(csv.stderr).toBe("wb sql: first 5 rows (--limit 5); more exist\n")
    const table = await wbq(["sql", QUICKSTART, QUERY, "--limit", "3"])
    expect(table.stdout.split("\n").at(-2)).toBe("  first 3 rows (more not shown; raise --limit)")
  })

  it("fits the table to the width, eliding long text with its length shown", async () => {
    const r = await wbq(["sql", QUICKSTART, "select pair_id, prompt, response_a from hh order by pair_id limit 20"], {
      COLUMNS: "72"
    })
    expect(r.code).toBe(0)
    const lines = r.stdout.split("\n").filter((l) => l !== "")
    for (const l of lines) expect([...l].length).toBeLessThanOrEqual(72)
    const full = JSON.parse(
      (await wbq(["sql", QUICKSTART, "select prompt from hh order by pair_id limit 20", "--json"])).stdout
    ) as Array<{ prompt: string }>
    const shown = [...lines[1]!.matchAll(/…\(([\d,]+) chars\)/g)].map((m) => Number(m[1]!.replaceAll(",", "")))
    expect(shown[0]).toBe([...full[0]!.prompt].length)
    // the unit rules behind it: narrow columns stay whole, the widest share what is left
    expect(fitWidths([16, 700, 300], 60)).toEqual([16, 22, 22])
    expect(cellText("x".repeat(1234), 24)).toBe(`${"x".repeat(10)}…(1,234 chars)`)
    expect(cellText("a\nb", 10)).toBe("a⏎b")
    expect(rowsTable({ columns: [{ name: "n", type: "BIGINT" }], rows: [[5], [12]] })).toEqual(["   n", "   5", "  12"])
  })

  it("stops a query at its time limit with a clear message", async () => {
    const r = await wbq(["sql", QUICKSTART, "select count(*) from range(1000000000000)", "--timeout", "0.5"])
    expect(r.code).toBe(1)
    expect(r.stdout).toBe("")
    expect(r.stderr).toBe(
      [
        "wb sql --timeout 0.5: the query ran past its time limit of 0.5 s and was stopped",
        "  expected: a query that finishes within 0.5 s",
        "  fix: allow it more time (--timeout 60), or make it cheaper: filter with WHERE, aggregate, or add LIMIT",
        ""
      ].join("\n")
    )
  })

  it("accepts PIVOT (with or without an IN list), and still refuses what the sandbox refuses", async () => {
    const pivot = await wbq([
      "sql",
      QUICKSTART,
      "pivot hh on label using count(*) group by source",
      "--format",
      "jsonl"
    ])
    const plain = await wbq([
      "sql",
      QUICKSTART,
      "select source, label, count(*) as n from hh group by all",
      "--format",
      "jsonl"
    ])
    expect([pivot.code, pivot.stderr]).toEqual([0, ""])
    const counts = plain.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { source: string; label: string; n: number })
    const expected = Object.fromEntries(counts.map((c) => [c.label, c.n]))
    expect(JSON.parse(pivot.stdout)).toEqual({ source: "hh-rlhf", ...expected })
    const listed = await wbq([
      "sql",
      QUICKSTART,
      "pivot (select label from hh) on label in ('a', 'b') using count(*)",
      "--format",
      "csv"
    ])
    expect(listed.stdout).toBe(`a,b\n${expected["a"]},${expected["b"]}\n`)
    const outside = await wbq([
      "sql",
      QUICKSTART,
      "pivot (select * from read_csv('/etc/passwd')) on column0 using count(*)"
    ])
    expect(outside.code).toBe(1)
    expect(outside.stderr).toMatch(/^wb sql refused the query: table function read_csv\(\) is not allowed\n/)
    const two = await wbq(["sql", QUICKSTART, "pivot hh on label using count(*); select 1"])
    expect(two.stderr).toMatch(
      /^wb sql refused the query: 3 statements\n {2}expected: exactly one SELECT \(or PIVOT\) statement\n/
    )
  })
})

describe("wb show: formats, --vertical, --columns", { timeout: 120_000 }, () => {
  it("prints chosen columns as JSON Lines, every matching row when piped", async () => {
    const r = await wbq(["show", QUICKSTART, "summary", "--columns", "source,metric", "--format", "jsonl"])
    expect([r.code, r.stderr]).toEqual([0, ""])
    const rows = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(rows.length).toBeGreaterThan(0)
    for (const row of rows) expect(Object.keys(row)).toEqual(["source", "metric"])
    const all = await wbq(["show", QUICKSTART, "hh"])
    expect(all.stdout.split("\n")[0]).toBe("hh.pairs · 2,312 rows · showing 2,312")
  })

  it("--vertical: one line per field, long text wrapped at spaces, nothing cut", async () => {
    const r = await wbq(["show", QUICKSTART, "hh", "--columns", "pair_id,prompt", "--limit", "1", "--vertical"], {
      COLUMNS: "60"
    })
    expect(r.code).toBe(0)
    const [head, rule, id, ...prompt] = r.stdout.trimEnd().split("\n")
    expect(head).toBe("hh.pairs · 2,312 rows · showing 1")
    expect(rule).toMatch(/^── row 1 ─+$/)
    expect(id).toMatch(/^ {2}pair_id │ [0-9a-f]{16}$/)
    for (const l of prompt) expect([...l].length).toBeLessThanOrEqual(60)
    expect(prompt[0]).toMatch(/^ {2}prompt {2}│ Human: /)
    const text = prompt.map((l) => l.replace(/^ {2}(prompt | {7}) │ ?/, ""))
    const json = await wbq(["show", QUICKSTART, "hh", "--columns", "prompt", "--limit", "1", "--format", "json"])
    const full = (JSON.parse(json.stdout) as Array<{ prompt: string }>)[0]!.prompt
    // the wrapped lines hold the whole text: only the breaks differ
    expect(text.join("").replace(/\s/g, "")).toBe(full.replace(/\s/g, ""))
  })

  it("names the columns there are when --columns asks for one that is not", async () => {
    const r = await wbq(["show", QUICKSTART, "clean", "--table", "removed", "--columns", "pair_id,reson"])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(
      /^wb show --columns pair_id,reson: "clean\.removed" has no column "reson"\n {2}expected: names of its columns, separated by commas: .*\breason\b.*\n {2}fix: did you mean "reason"\?\n$/
    )
    const both = await wbq(["show", QUICKSTART, "hh", "--vertical", "--format", "csv"])
    expect(both.stderr).toBe(
      [
        "wb show --vertical --format csv: --vertical with --format csv",
        "  expected: --vertical with the table format: it lays out text for people; the other formats have no layout",
        "  fix: drop --vertical, or drop --format csv",
        ""
      ].join("\n")
    )
  })
})

describe("wb run without a terminal", () => {
  it("writes plain lines: no ANSI codes, carriage returns or spinner frames, and no stale progress notes", () => {
    for (const out of [run.stdout, run.stderr]) {
      expect(out).not.toMatch(/\x1b|\r/)
      expect(out).not.toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/)
    }
    expect(run.stdout).toMatch(/^ {2}▸ hh +load\.hh-rlhf +running/m)
    // the loader's "reading …" note went by when its rows came in: the finished line does not repeat it
    expect(run.stdout).toMatch(/^ {2}✓ hh +load\.hh-rlhf +2,312 → 2,312 +\d+\.\d s$/m)
    expect(run.stdout).not.toMatch(/^ {2}✓ .*\(reading /m)
  })
})
