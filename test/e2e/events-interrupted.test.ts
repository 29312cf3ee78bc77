/**
 * `wb run --events` and Ctrl-C: a consumer that tracks nodes by their events (the server, a UI) must
 * see every node of RunStarted finish, as it does in a failed run where skipped nodes get a
 * NodeFinished. Before, a node cut short by Ctrl-C had a NodeStarted and never a NodeFinished: only
 * RunFinished's report said what became of it.
 */
import { describe, expect, it } from "vitest"
import { decodeRunEventLine, type RunEvent } from "../../workbench/protocol/events.js"
import { pipelineFile, startWb, tempDir } from "./cli-spawn.js"

describe("wb run --events interrupted by Ctrl-C", { timeout: 240_000 }, () => {
  it("ends every started node with a NodeFinished (interrupted), then RunFinished, seq unbroken", async () => {
    const run = startWb(["run", pipelineFile("ok-slow.ts"), "--events"], { cwd: tempDir() })
    // generous: in the full suite the machine also runs a browser, a GGUF model and training
    const deadline = Date.now() + 150_000
    // the marker is the event itself: the slow node has started
    while (!/"_tag":"NodeStarted"[^\n]*"node":"slow"/.test(run.output()) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20))
    }
    expect(run.output(), "the slow node never started").toMatch(/"node":"slow"/)
    run.child.kill("SIGINT")
    const result = await run.done
    expect(result.code).toBe(130)
    const events: Array<RunEvent> = result.stdout
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => decodeRunEventLine(l))
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i))
    const started = events[0]!
    expect(started._tag).toBe("RunStarted")
    const finished = events.flatMap((e) => (e._tag === "NodeFinished" ? [[e.report.name, e.report.status]] : []))
    expect(finished).toEqual([
      ["nums", "ran"],
      ["slow", "interrupted"]
    ])
    const last = events.at(-1)!
    expect(last._tag === "RunFinished" && last.report.status).toBe("interrupted")
  })
})
