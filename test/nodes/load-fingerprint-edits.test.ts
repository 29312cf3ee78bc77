// A loader's cache key holds the content hash of each file it reads; the hash is remembered by path,
// size and mtime so an unchanged file is only stat'ed. An edit that keeps the size (a label flipped
// from "a" to "b") with the mtime put back (`touch -r`, `cp -p`, `rsync -t`, a download tool keeping
// the server's time) left the loader cached on the old rows. The change time (ctime), which no tool
// can set back, is part of the check.
import { mkdtempSync, mkdirSync, readFileSync, statSync, utimesSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { load } from "../../nodes/load/index.js"
import { pipeline } from "../../workbench/core/pipeline.js"
import { runPipeline } from "../../workbench/run-pipeline.js"
import { readParquet } from "../support/sql.js"

describe("a loader's remembered file hashes", { timeout: 20_000 }, () => {
  it("do not hide a same-size edit whose mtime was put back", async () => {
    const root = mkdtempSync(join(tmpdir(), "wb-fingerprint-"))
    mkdirSync(join(root, "in"))
    const file = join(root, "in", "labels.csv")
    writeFileSync(file, "prompt,response_a,response_b,label\np0,x,y,a\np1,u,v,b\n")
    // an mtime old enough to be remembered (a file written within the last moments is hashed every run)
    const when = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000)
    utimesSync(file, when, when)
    const def = pipeline("fingerprint", (p) => {
      p.node("l", load.table({ path: "in/labels.csv" }))
    })
    const run = async () => {
      const r = await runPipeline(def, { root, threads: 2 })
      const pairs = await readParquet(r.nodes["l"]!.tables["pairs"]!)
      return { status: r.report.nodes[0]!.status, labels: pairs.map((p) => `${p["prompt"]}:${p["label"]}`) }
    }
    // setting the mtime moved the ctime: past the 2 s a just-changed file is not remembered for
    await new Promise((r) => setTimeout(r, 2100))
    expect(await run()).toEqual({ status: "ran", labels: ["p0:a", "p1:b"] })
    expect((await run()).status).toBe("cached")
    // the hash is remembered: from here on, only a stat tells the file is unchanged
    expect(Object.keys(JSON.parse(readFileSync(join(root, ".wb", "file-hashes.json"), "utf8")))).toContain(file)

    const size = statSync(file).size
    writeFileSync(file, readFileSync(file, "utf8").replace("p0,x,y,a", "p0,x,y,b"))
    utimesSync(file, when, when)
    expect(statSync(file).size).toBe(size)
    expect(await run()).toEqual({ status: "ran", labels: ["p0:b", "p1:b"] })
    expect((await run()).status).toBe("cached")
  })
})
