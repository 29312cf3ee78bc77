/**
 * A pipeline file (or wb.config.ts, or a node library) that throws while it is imported is the user's
 * own code failing: the message names the error's type and the line of the user's file it came from,
 * so "importing it failed: Cannot read properties of undefined" does not leave them searching a long
 * file. Frames of wb itself, of node_modules and of Node are skipped; no stack is printed.
 */
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { importFailureText } from "../../workbench/io/import-failure.js"
import { wb } from "../e2e/cli-spawn.js"

describe("an import that fails", () => {
  it("names the error type and the first frame in the user's files, relative to the current directory", () => {
    const e = new TypeError("Cannot read properties of undefined (reading 'x')")
    e.stack = [
      `TypeError: ${e.message}`,
      "    at file:///work/main/dist/workbench/core/pipeline.js:40:11",
      "    at pipeline (file:///home/u/proj/node_modules/effect/dist/x.js:1:1)",
      "    at file:///home/u/proj/pipelines/clean.ts:12:30",
      "    at ModuleJob.run (node:internal/modules/esm/module_job:234:25)"
    ].join("\n")
    expect(importFailureText(e, "/home/u/proj", "/work/main")).toBe(
      "TypeError: Cannot read properties of undefined (reading 'x') (at pipelines/clean.ts:12:30)"
    )
    // a plain Error keeps its message alone; with no frame of the user's, no place
    const inLibraries = new Error("boom")
    inLibraries.stack =
      "Error: boom\n    at f (file:///home/u/proj/node_modules/lib/index.js:1:1)\n    at node:internal/x:1:1"
    expect(importFailureText(inLibraries, "/home/u/proj", "/work/main")).toBe("boom")
    expect(importFailureText("a string", "/home/u/proj", "/work/main")).toBe("a string")
  })

  it("wb validate on a pipeline file that throws at import: the type and the line, no stack", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wb-import-failure-"))
    writeFileSync(join(dir, "package.json"), '{ "type": "module" }\n')
    writeFileSync(join(dir, "throws.ts"), 'const x = 1\nthrow new RangeError("no data for " + x)\n')
    const r = await wb(["validate", "throws.ts"], { cwd: dir })
    expect(r.code).toBe(1)
    expect(r.stdout + r.stderr).not.toMatch(/^\s+at /m)
    expect(r.stderr.split("\n")[0]).toMatch(
      /^pipeline file throws\.ts: importing it failed: RangeError: no data for 1 \(at throws\.ts:2:\d+\)$/
    )
  }, 60_000)
})
