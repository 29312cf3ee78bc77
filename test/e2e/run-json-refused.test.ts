/**
 * `wb run --json` is for scripts: they read stdout. A pipeline refused before it runs (an unknown
 * kind, a missing service, a bad flag) used to print nothing there, so `wb run x --json | jq .status`
 * failed on empty input. Now stdout gets one JSON object with status "error" and the error as
 * data (the protocol's ErrorData), and stderr still gets the message for a person.
 */
import { describe, expect, it } from "vitest"
import { ErrorData } from "../../workbench/protocol/errors.js"
import { Schema } from "effect"
import { pipelineFile, tempDir, wb } from "./cli-spawn.js"

describe("wb run --json on a pipeline refused before it runs", { timeout: 60_000 }, () => {
  it("prints status error and the error as data on stdout, the message on stderr, and exits 1", async () => {
    const file = pipelineFile("typo-kind.yaml")
    const r = await wb(["run", file, "--json"], { cwd: tempDir() })
    expect(r.code).toBe(1)
    const lines = r.stdout.split("\n").filter((l) => l !== "")
    expect(lines).toHaveLength(1)
    const out = JSON.parse(lines[0]!) as { file: string; status: string; nodes: Array<unknown>; failure: unknown }
    expect([out.file, out.status, out.nodes]).toEqual([file, "error", []])
    const failure = Schema.decodeUnknownSync(ErrorData)(out.failure)
    expect(failure._tag).toBe("PipelineInvalidError")
    expect(failure.message).toMatch(/unknown node kind/)
    expect(r.stderr).toContain(failure.message)
  })
})
