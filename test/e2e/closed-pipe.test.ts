/**
 * `wb … | head`: the reader closes the pipe early, and the next write fails with EPIPE. That is the
 * reader's choice, not a bug: wb stops quietly, as Unix tools do (exit 141, as if killed by SIGPIPE),
 * and prints no `internal error` or log file for it.
 */
import { existsSync, readdirSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { pipelineFile, startWb, tempDir } from "./cli-spawn.js"

describe("wb with its stdout closed early (wb run … | head -1)", { timeout: 90_000 }, () => {
  it("stops quietly: exit 141, nothing on stderr about an internal error, no log written", async () => {
    const cwd = tempDir()
    const run = startWb(["run", pipelineFile("ok-numbers.ts")], { cwd })
    // read the first chunk (the header line), then close the pipe, as `head -1` does
    run.child.stdout!.once("data", () => run.child.stdout!.destroy())
    const result = await run.done
    expect(result.stderr).not.toMatch(/internal error|EPIPE/)
    expect(result.stderr).not.toMatch(/^\s+at /m)
    expect(result.code).toBe(141)
    const logs = join(cwd, ".wb", "logs")
    expect(existsSync(logs) ? readdirSync(logs) : []).toEqual([])
  })
})
