/**
 * Two kinds under one id inside one registry (wb.config.ts's `nodes`, a WB_NODE_LIBRARY module) are
 * refused like a clash with a built-in kind, naming both; before, the later one silently replaced the
 * earlier, so a YAML pipeline ran a kind its author did not mean.
 */
import { Effect, Schema } from "effect"
import { describe, expect, it } from "vitest"
import { defineConfig } from "../../workbench/core/config.js"
import { output } from "../../workbench/core/contract.js"
import { NodeKindClashError } from "../../workbench/core/errors.js"
import { defineNode, registryOf } from "../../workbench/core/node.js"
import { loadNodeLibrary } from "../../workbench/io/catalog/node-library.js"

const kind = (summary: string) =>
  defineNode({
    kind: "my.filter",
    version: 1,
    summary,
    params: Schema.Struct({}),
    inputs: {},
    outputs: { t: output("main", { x: "int64" }) },
    run: () => Effect.die("not run")
  })
const lengthFilter = kind("by length")
const wordFilter = kind("by words: same id by mistake")

describe("a kind id twice in one registry", () => {
  it("registryOf refuses it, naming both TypeScript names; the same definition twice is fine", () => {
    const thrown = (() => {
      try {
        registryOf({ my: { lengthFilter }, other: { wordFilter } })
      } catch (e) {
        return e
      }
    })()
    expect(thrown).toBeInstanceOf(NodeKindClashError)
    expect((thrown as NodeKindClashError).message.split("\n")[0]).toBe(
      'node kind "my.filter" from registryOf(...) as other.wordFilter clashes with the kind "my.filter" of registryOf(...) as my.lengthFilter'
    )
    expect([...registryOf([lengthFilter, lengthFilter]).keys()]).toEqual(["my.filter"])
  })

  it("wb.config.ts's nodes: a failure naming the config, not a bug report", async () => {
    const config = {
      config: defineConfig({ nodes: { my: { lengthFilter }, other: { wordFilter } } }),
      shown: "wb.config.ts"
    }
    const error = await Effect.runPromise(Effect.flip(loadNodeLibrary(config)))
    expect(error.message).toBe(
      'node kind "my.filter" from wb.config.ts as other.wordFilter clashes with the kind "my.filter" of wb.config.ts as my.lengthFilter\n' +
        "  expected: each kind id registered once (YAML pipelines name kinds by id)\n" +
        "  fix: give the kind in wb.config.ts as other.wordFilter another id"
    )
  })
})
