/**
 * `wb nodes <kind>` is the reference users read: every built-in kind says what each input, output and
 * param is for (generated from `doc` on contracts and `description` on params). A kind added without
 * them shows bare names; this keeps the library's reference complete.
 */
import { describe, expect, it } from "vitest"
import { registry } from "../../nodes/index.js"
import { describeParams } from "../../workbench/core/params-doc.js"

describe("every built-in kind documents itself", () => {
  it("each input, output and param has a description", () => {
    const missing: Array<string> = []
    for (const [kind, d] of registry) {
      if (d.summary.trim() === "") missing.push(`${kind}: summary`)
      for (const [name, c] of Object.entries(d.inputs)) if (!c.doc) missing.push(`${kind}: input ${name}`)
      for (const [name, c] of Object.entries(d.outputs)) if (!c.doc) missing.push(`${kind}: output ${name}`)
      for (const p of describeParams(d.params)) if (!p.description) missing.push(`${kind}: param ${p.path}`)
    }
    expect(missing).toEqual([])
  })
})
