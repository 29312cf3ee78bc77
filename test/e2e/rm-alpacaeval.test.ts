// pipelines/rm-alpacaeval.ts through `wb run`: evaluate.winRate on the 49-model AlpacaEval 2 judgments
// (../shared/data/alpaca-eval-2-weighted) equals, per model, an independent computation over the raw
// annotation files in this test (win rate, SE, wins / losses / draws to 1e-6) and the folder's README
// table (4 decimals). Skipped where that data folder is absent.
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { gunzipSync } from "node:zlib"
import { describe, expect, it } from "vitest"
import { REPO, tempDir, wb } from "./cli-spawn.js"

const DATA = join(REPO, "..", "shared", "data", "alpaca-eval-2-weighted")

interface Annotation {
  readonly generator_2: string
  readonly preference: number
}

/** Per file: its model (generator_2), n, win rate, SE (sample sd / √n), wins / losses / draws, as AlpacaEval computes them. */
function independent(file: string) {
  const records = JSON.parse(gunzipSync(readFileSync(join(DATA, file))).toString("utf8")) as Array<Annotation>
  const y = records.map((r) => r.preference - 1)
  const n = y.length
  const mean = y.reduce((a, b) => a + b, 0) / n
  const sd = Math.sqrt(y.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1))
  return {
    model: records[0]!.generator_2,
    n,
    winRate: mean * 100,
    se: (sd / Math.sqrt(n)) * 100,
    wld: [y.filter((v) => v > 0.5).length, y.filter((v) => v < 0.5).length, y.filter((v) => v === 0.5).length]
  }
}

/** The README's table: file stem → records, win rate, SE, [wins, losses, draws]. */
function readmeTable() {
  const rows = new Map<string, { n: number; winRate: number; se: number; wld: Array<number> }>()
  for (const line of readFileSync(join(DATA, "README.md"), "utf8").split("\n")) {
    const cells = line.split("|").map((c) => c.trim())
    if (cells.length !== 7 || !/^\d+$/.test(cells[2]!)) continue
    rows.set(cells[1]!, {
      n: Number(cells[2]),
      winRate: Number(cells[3]),
      se: Number(cells[4]),
      wld: cells[5]!.split("/").map((x) => Number(x.trim()))
    })
  }
  return rows
}

describe.skipIf(!existsSync(DATA))("pipelines/rm-alpacaeval.ts: the AlpacaEval 2 leaderboard", () => {
  it("per-model win rate, SE and wins / losses / draws equal the raw files' and the README's", {
    timeout: 300_000
  }, async () => {
    const workspace = join(tempDir("wb-rm-alpacaeval-"), ".wb")
    const run = await wb(
      ["run", "pipelines/rm-alpacaeval.ts", "--only", "leaderboard", "--json", "--workspace", workspace],
      {
        cwd: REPO
      }
    )
    expect(run.code, run.stderr).toBe(0)
    const shown = await wb(
      [
        "sql",
        "pipelines/rm-alpacaeval.ts",
        `SELECT * FROM "leaderboard" WHERE slice_by = '(all)'`,
        "--json",
        "--workspace",
        workspace
      ],
      { cwd: REPO }
    )
    expect(shown.code, shown.stderr).toBe(0)
    const rows = JSON.parse(shown.stdout) as Array<Record<string, number | string>>
    const byModel = new Map(rows.map((r) => [r["model"] as string, r]))
    const files = readdirSync(DATA).filter((f) => f.endsWith(".annotations.json.gz"))
    expect(files).toHaveLength(49)
    expect(rows).toHaveLength(49)
    const readme = readmeTable()
    expect(readme.size).toBe(49)
    let records = 0
    for (const file of files) {
      const expected = independent(file)
      const row = byModel.get(expected.model)
      expect(row, `${file}: model ${expected.model}`).toBeDefined()
      expect(row!["n"]).toBe(expected.n)
      expect(Math.abs((row!["win_rate"] as number) - expected.winRate)).toBeLessThan(1e-6)
      expect(Math.abs((row!["standard_error"] as number) - expected.se)).toBeLessThan(1e-6)
      expect([row!["wins"], row!["losses"], row!["draws"]]).toEqual(expected.wld)
      const table = readme.get(file.replace(".annotations.json.gz", ""))!
      // the README rounds to 4 decimals: equal to within that rounding
      expect(Math.abs((row!["win_rate"] as number) - table.winRate)).toBeLessThanOrEqual(5e-5 + 1e-9)
      expect(Math.abs((row!["standard_error"] as number) - table.se)).toBeLessThanOrEqual(5e-5 + 1e-9)
      expect([row!["n"], row!["wins"], row!["losses"], row!["draws"]]).toEqual([table.n, ...table.wld])
      // the length-controlled win rate is a probability mean, finite for every model
      expect(row!["lc_win_rate"] as number).toBeGreaterThan(0)
      expect(row!["lc_win_rate"] as number).toBeLessThan(100)
      records += expected.n
    }
    expect(records).toBe(39437)
  })
})
