// export.table through the real runner: every format loads back with load.table as the same pairs, and a
// cached export whose file or card was deleted or edited is rewritten from its artifact, byte for byte.
import { createHash } from "node:crypto"
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { exportTo } from "../../nodes/export/index.js"
import { load } from "../../nodes/load/index.js"
import { pipeline } from "../../workbench/core/pipeline.js"
import type { RunEvent } from "../../workbench/core/events.js"
import { runPipeline } from "../../workbench/run-pipeline.js"
import { Effect } from "effect"
import { Sql } from "../../workbench/core/services.js"
import { readParquet, runWithSql } from "../support/sql.js"
import { runLoad } from "./load-helpers.js"
import { pairsSetup, type Row, runExport, tempRoot } from "./export-helpers.js"

const FILES = ["pairs.jsonl", "pairs.json.gz", "pairs.csv", "pairs.parquet"]
const sha = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex")
const key = (p: Row) => JSON.stringify([p["pair_id"], p["prompt"], p["response_a"], p["response_b"], p["label"]])

describe("export.table", () => {
  const root = tempRoot()
  const workspace = join(root, ".wb")
  const def = pipeline("table-export", (p) => {
    const hh = p.node("hh", load.hhRlhf({ path: "data/hh-rlhf-harmless-base/test.jsonl.gz" }))
    for (const [i, f] of FILES.entries()) p.node(`out${i}`, exportTo.table({ to: `exports/t/${f}` }), { table: hh })
  })
  const run = async () => {
    const notes: Array<string> = []
    const onEvent = (e: RunEvent) => {
      if (e._tag === "NodeNote") notes.push(`${e.node}: ${e.text}`)
    }
    return { result: await runPipeline(def, { root, workspace, threads: 2, onEvent }), notes }
  }
  let hh: ReadonlyArray<Row>
  let first: Awaited<ReturnType<typeof run>>

  beforeAll(async () => {
    first = await run()
    hh = await readParquet(first.result.nodes["hh"]!.tables["pairs"]!)
  })

  it("writes every row in each format and prints the path", () => {
    expect(first.result.report.status).toBe("ok")
    expect(
      first.result.report.nodes.filter((n) => n.kind === "export.table").map((n) => [n.rowsOut, n.removed])
    ).toEqual(Array(4).fill([2312, 0]))
    expect(first.notes).toContain("out0: wrote 2,312 rows to exports/t/pairs.jsonl (data card: README.md beside it)")
  })

  it("export.table -> load.table gives the same pairs (pair_id included) from JSONL, gzip'd JSON, CSV and Parquet", async () => {
    const expected = hh.map(key).sort()
    for (const f of FILES) {
      const back = await runLoad(load.table, { path: join(root, "exports", "t", f) }, root)
      expect(back.rejects.length, f).toBe(0)
      expect(back.pairs.map(key).sort(), f).toEqual(expected)
    }
  })

  it("a second run is cached and writes nothing", async () => {
    const before = FILES.map((f) => sha(join(root, "exports", "t", f)))
    const again = await run()
    expect(again.result.report.nodes.map((n) => n.status)).toEqual(Array(5).fill("cached"))
    expect(again.notes).toEqual([])
    expect(FILES.map((f) => sha(join(root, "exports", "t", f)))).toEqual(before)
  })

  it("a cached export whose file was deleted or edited, or whose card section was, is rewritten from its artifact", async () => {
    const dir = join(root, "exports", "t")
    const before = {
      jsonl: sha(join(dir, "pairs.jsonl")),
      csv: sha(join(dir, "pairs.csv")),
      card: readFileSync(join(dir, "README.md"), "utf8")
    }
    rmSync(join(dir, "pairs.jsonl"))
    writeFileSync(join(dir, "pairs.csv"), "prompt,response_a\nx,y\n")
    writeFileSync(join(dir, "README.md"), before.card.replace("2,312 rows", "12 rows"))
    const again = await run()
    expect(again.result.report.nodes.map((n) => n.status)).toEqual(Array(5).fill("cached"))
    // the card section of pairs.csv was edited; which node puts a section back first depends on the order
    // they check in, so the notes are compared as a set
    expect(again.notes).toEqual(
      expect.arrayContaining([
        "out0: rewrote exports/t/pairs.jsonl from the cached artifact: the file was missing",
        "out2: rewrote exports/t/pairs.csv from the cached artifact: the file was changed since wb wrote it",
        "out2: restored the section of exports/t/pairs.csv in the README.md beside it"
      ])
    )
    for (const n of again.notes) expect(n).toMatch(/^out\d: (rewrote|restored the section of) exports\/t\/pairs\./)
    expect(sha(join(dir, "pairs.jsonl"))).toBe(before.jsonl)
    expect(sha(join(dir, "pairs.csv"))).toBe(before.csv)
    expect(readFileSync(join(dir, "README.md"), "utf8")).toBe(before.card)
  })
})

describe("a cached export rewritten from its artifact", () => {
  it("must come out as the file the card records: rows that differ (a damaged artifact) fail the node and write nothing", async () => {
    const root = tempRoot()
    const setup = pairsSetup([
      ["q1", "x", "y", "a"],
      ["q2", "u", "v", "b"]
    ])
    const params = { to: "exports/t/pairs.jsonl" }
    const first = await runExport(exportTo.table, params, setup, root)
    const file = join(root, "exports", "t", "pairs.jsonl")
    const written = readFileSync(file, "utf8")
    rmSync(file)
    // the cache hit as the runner makes it, but the artifact's rows are no longer those written (bit rot
    // the size and mtime check let through): one response differs
    const error = await runWithSql(
      Effect.gen(function* () {
        const sql = yield* Sql
        yield* sql.run(setup.replace("'v'", "'w'"))
        yield* sql.run(
          `CREATE TABLE card AS SELECT * FROM (VALUES ${first.card
            .map(
              (c) =>
                `('${c["file"]}', '${String(c["section"]).replaceAll("'", "''")}', '${c["sha256"]}', ${c["bytes"]})`
            )
            .join(", ")}) AS v(file, section, sha256, bytes)`
        )
        return yield* exportTo.table.definition.onCacheHit!({
          node: "x",
          kind: "export.table",
          params: { ...params, format: "auto" },
          key: "k",
          tables: { rows: "t", card: "card" }
        }).pipe(Effect.flip)
      }),
      root
    )
    expect(error._tag).toBe("DataError")
    expect(error.message).toMatch(
      new RegExp(
        `^node "x" \\(export\\.table\\) param to: rewriting exports/t/pairs\\.jsonl from the cached artifact gave other ` +
          `content \\(sha256 [0-9a-f]{16}…\\) than the export recorded \\(sha256 ${String(first.card[0]!["sha256"]).slice(0, 16)}…\\)`
      )
    )
    expect(error.message).toContain("--verify")
    expect(existsSync(file)).toBe(false) // nothing written from the wrong rows
    expect(written.split("\n").filter((l) => l !== "")).toHaveLength(2)
  })
})

describe("export params checked before anything runs", () => {
  it("a file name of no known format, or a kept column the input lacks, stops the run before the loader", async () => {
    const root = tempRoot()
    const def = pipeline("bad-export", (p) => {
      const hh = p.node("hh", load.hhRlhf({ path: "data/hh-rlhf-harmless-base/test.jsonl.gz" }))
      p.node("out", exportTo.table({ to: "exports/pairs.txt" }), { table: hh })
      p.node("trl", exportTo.trl({ to: "exports/t.jsonl", keep: ["pair_idx"] }), { pairs: hh })
    })
    const error = await runPipeline(def, { root, workspace: join(root, ".wb"), threads: 2 }).then(
      () => undefined,
      (e: unknown) => e as { _tag: string; message: string }
    )
    expect(error?._tag).toBe("PipelineInvalidError")
    expect(error?.message).toContain(
      'node "out" (export.table) param to: cannot tell the format from the name "exports/pairs.txt"'
    )
    expect(error?.message).toContain('node "trl" (export.trl) param keep: its input has no column "pair_idx"')
    expect(existsSync(join(root, ".wb", "artifacts"))).toBe(false)
  })
})
