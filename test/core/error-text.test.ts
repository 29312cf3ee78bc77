/**
 * A node's own error reaches users as text, whatever its author wrote. `Schema.TaggedError` classes
 * have an empty `message` unless the author overrides it (docs/custom-nodes.md shows how), and a
 * failure reported as "failed after 0.0 s:" and a blank line tells nobody anything: the runner then
 * shows the error's tag and its fields, and says that the error has no message.
 */
import { Effect, Schema } from "effect"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { output } from "../../workbench/core/contract.js"
import { defineNode } from "../../workbench/core/node.js"
import { pipeline } from "../../workbench/core/pipeline.js"
import { errorData } from "../../workbench/protocol/errors.js"
import { runPipeline } from "../../workbench/run-pipeline.js"

/** A family's error as a new author first writes it: fields, no message. */
class QuotaExceededError extends Schema.TaggedError<QuotaExceededError>()("QuotaExceededError", {
  used: Schema.Number,
  limit: Schema.Number
}) {}

const overQuota = defineNode({
  kind: "text.over-quota",
  version: 1,
  summary: "always over its quota",
  params: Schema.Struct({}),
  inputs: {},
  outputs: { rows: output("main", { x: "int64" }) },
  run: () => Effect.fail(new QuotaExceededError({ used: 12, limit: 10 }))
})

describe("a node error without a message", () => {
  it("is reported by its tag and fields, with a note that it has no message, in the text and the data", async () => {
    const root = mkdtempSync(join(tmpdir(), "wb-error-text-"))
    const result = await runPipeline(
      pipeline("quota", (p) => void p.node("q", overQuota())),
      { root, threads: 1 }
    )
    const q = result.report.nodes.find((n) => n.name === "q")!
    expect(q.status).toBe("failed")
    const text = `QuotaExceededError {"used":12,"limit":10} (this error has no message: give QuotaExceededError a \`message\` that says where, what was found, what was expected and what to do)`
    expect(q.error).toBe(text)
    expect(q.failure).toEqual({ _tag: "QuotaExceededError", message: text })
    // an error with a message keeps it as it is
    expect(errorData({ _tag: "X", message: "m" })).toEqual({ _tag: "X", message: "m" })
  })
})
