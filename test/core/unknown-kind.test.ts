/**
 * A YAML pipeline naming a kind of a family wb does not know (`my.length-filter`) is most likely a
 * project's own kind that no wb.config.ts registers: the message says how to register it, not only
 * "correct the kind".
 */
import { describe, expect, it } from "vitest"
import { UnknownNodeKindError } from "../../workbench/core/errors.js"

const known = ["dedupe.pairs", "load.hh-rlhf", "load.table"]

describe("an unknown node kind", () => {
  it("of an unknown family: points at wb.config.ts", () => {
    const e = new UnknownNodeKindError({ node: "short", kind: "my.length-filter", known })
    expect(e.message).toBe(
      'node "short" uses unknown node kind "my.length-filter"\n' +
        "  known kinds: dedupe.pairs, load.hh-rlhf, load.table\n" +
        "  fix: correct the kind; for a kind of your own, register it in wb.config.ts at the project root " +
        "(export default defineConfig({ nodes: { my: { lengthFilter } } }), see docs/custom-nodes.md); `wb nodes` lists every kind"
    )
  })

  it("of a known family: the family's kinds and a did-you-mean, as before", () => {
    const e = new UnknownNodeKindError({ node: "hh", kind: "load.hh-rlfh", known })
    expect(e.message.split("\n")[2]).toBe(
      "  fix: correct the kind, or run `wb nodes` to list every kind with its params"
    )
  })
})
