/**
 * Paths are literal: DuckDB globs every path it is given, so `in/x[1].jsonl` read `in/x1.jsonl`
 * and `star*.jsonl` unioned every star file, while the cache key fingerprinted the file named. Each
 * format, and a folder with glob characters in its own name. Real files, real DuckDB.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { fileFingerprint } from "../../nodes/lib/file-fingerprint.js"
import { load } from "../../nodes/load/index.js"
import { Sql } from "../../workbench/core/services.js"
import { runWithSql } from "../support/sql.js"
import { runLoad } from "./load-helpers.js"

const root = mkdtempSync(join(tmpdir(), "wb-paths-"))
mkdirSync(join(root, "in"))
const record = (prompt: string) => ({ prompt, chosen: `${prompt} yes`, rejected: `${prompt} no` })
const write = (name: string, text: string) => writeFileSync(join(root, name), text)
const jsonl = (prompts: ReadonlyArray<string>) => prompts.map((p) => `${JSON.stringify(record(p))}\n`).join("")
const csv = (prompts: ReadonlyArray<string>) =>
  ["prompt,chosen,rejected", ...prompts.map((p) => `${p},${p} yes,${p} no`)].join("\n") + "\n"
const promptsOf = (r: { pairs: ReadonlyArray<Record<string, unknown>> }) => r.pairs.map((p) => p["prompt"])

describe("load paths are literal", () => {
  it("loads in/x[1].jsonl, not the x1.jsonl beside it, and fingerprints the file it read", async () => {
    write("in/x[1].jsonl", jsonl(["bracket"]))
    write("in/x1.jsonl", jsonl(["plain one", "plain two"]))
    const r = await runLoad(load.trl, { path: "in/x[1].jsonl" }, root)
    expect(promptsOf(r)).toEqual(["bracket"])
    expect(fileFingerprint(root, ["in/x[1].jsonl"])).toMatch(/^in\/x\[1\]\.jsonl:\d+:sha1:[0-9a-f]{40}$/)
    // shrinking the neighbour is not this node's business; the key follows the file read
    const before = fileFingerprint(root, ["in/x[1].jsonl"])
    write("in/x1.jsonl", jsonl(["plain one"]))
    expect(fileFingerprint(root, ["in/x[1].jsonl"])).toBe(before)
  })

  it("reads star*.jsonl, q?.jsonl and b{1,2}.jsonl as the one file each names", async () => {
    write("in/star*.jsonl", jsonl(["star"]))
    write("in/star1.jsonl", jsonl(["star one"]))
    write("in/q?.jsonl", jsonl(["question"]))
    write("in/qa.jsonl", jsonl(["qa"]))
    write("in/b{1,2}.jsonl", jsonl(["brace"]))
    write("in/b1.jsonl", jsonl(["b one"]))
    expect(promptsOf(await runLoad(load.trl, { path: "in/star*.jsonl" }, root))).toEqual(["star"])
    expect(promptsOf(await runLoad(load.trl, { path: "in/q?.jsonl" }, root))).toEqual(["question"])
    expect(promptsOf(await runLoad(load.trl, { path: "in/b{1,2}.jsonl" }, root))).toEqual(["brace"])
  })

  it("does the same for CSV, JSON arrays and Parquet, and under a folder named with glob characters", async () => {
    write("in/t[1].csv", csv(["csv bracket"]))
    write("in/t1.csv", csv(["csv plain"]))
    expect(promptsOf(await runLoad(load.table, { path: "in/t[1].csv" }, root))).toEqual(["csv bracket"])
    write("in/a[1].json", JSON.stringify([record("array bracket")]))
    write("in/a1.json", JSON.stringify([record("array plain")]))
    expect(promptsOf(await runLoad(load.table, { path: "in/a[1].json" }, root))).toEqual(["array bracket"])
    await runWithSql(
      Effect.gen(function* () {
        const sql = yield* Sql
        for (const [name, prompt] of [
          ["p[1].parquet", "parquet bracket"],
          ["p1.parquet", "parquet plain"]
        ] as const) {
          yield* sql.run(
            `COPY (SELECT '${prompt}' AS prompt, 'y' AS chosen, 'n' AS rejected) TO '${join(root, "in", name)}' (FORMAT parquet)`
          )
        }
      })
    )
    expect(promptsOf(await runLoad(load.table, { path: "in/p[1].parquet" }, root))).toEqual(["parquet bracket"])
    mkdirSync(join(root, "run[*]"))
    mkdirSync(join(root, "runX"))
    write("run[*]/d.jsonl", jsonl(["in the bracket folder"]))
    write("runX/d.jsonl", jsonl(["in another folder"]))
    expect(promptsOf(await runLoad(load.trl, { path: "run[*]/d.jsonl" }, root))).toEqual(["in the bracket folder"])
  })
})
