// Open node contract, services: a node that requires a user-defined service runs through runPipeline
// with a layer providing it, and without one is refused before any node runs, naming the service.
import { Context, Effect, Layer, Schema } from "effect"
import { existsSync, mkdtempSync, readdirSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { input, output } from "../../workbench/core/contract.js"
import type { RunEvent } from "../../workbench/core/events.js"
import { defineNode } from "../../workbench/core/node.js"
import { pipeline } from "../../workbench/core/pipeline.js"
import { Sql } from "../../workbench/core/services.js"
import { runPipeline } from "../../workbench/run-pipeline.js"
import { readParquet } from "../support/sql.js"

/** A user-defined service, as a judge's LLM client would be. */
class Greeter extends Context.Service<Greeter, { readonly greet: (name: string) => Effect.Effect<string> }>()(
  "test/Greeter"
) {}
/** Another one, to check that providing some service is not taken for providing all. */
class Clock extends Context.Service<Clock, { readonly now: string }>()("test/Clock") {}

const names = defineNode({
  kind: "test.names",
  version: 1,
  summary: "three names",
  params: Schema.Struct({}),
  inputs: {},
  outputs: { names: output("main", { name: "utf8" }) },
  run: () =>
    Effect.gen(function* () {
      const sql = yield* Sql
      return {
        tables: { names: yield* sql.create("names", "SELECT * FROM (VALUES ('ada'), ('bob'), ('cy')) t(name)") }
      }
    })
})

const greet = defineNode({
  kind: "test.greet",
  version: 1,
  summary: "greets each name with the Greeter service",
  params: Schema.Struct({}),
  inputs: { names: input({ name: "utf8" }) },
  outputs: { greetings: output("main", { greeting: "utf8" }) },
  requires: [Greeter],
  run: ({ inputs }) =>
    Effect.gen(function* () {
      const sql = yield* Sql
      const greeter = yield* Greeter
      const rows = yield* sql.rows<{ name: string }>(`SELECT name FROM ${inputs.names.relation} ORDER BY name`)
      const greetings: Array<string> = []
      for (const r of rows) greetings.push(yield* greeter.greet(r.name))
      const t = sql.tempName("greetings")
      yield* sql.load(t, [{ name: "greeting", type: "utf8" }], [greetings])
      return { tables: { greetings: t } }
    })
})

const demo = (layer?: Layer.Layer<Greeter>) =>
  pipeline(
    "greet",
    (p) => {
      const n = p.node("names", names())
      p.node("hello", greet(), { names: n })
    },
    layer === undefined ? {} : { layer }
  )

const HelloLayer = Layer.succeed(Greeter, Greeter.of({ greet: (name) => Effect.succeed(`hello, ${name}`) }))

describe("services beyond the core ones", () => {
  it("a node runs with the service its layer provides: rows come from the service", async () => {
    const root = mkdtempSync(join(tmpdir(), "wb-services-"))
    const result = await runPipeline(demo(), { root, threads: 1, layer: HelloLayer })
    expect(result.report.nodes.map((n) => [n.name, n.status])).toEqual([
      ["names", "ran"],
      ["hello", "ran"]
    ])
    const rows = await readParquet(result.nodes["hello"]!.tables["greetings"]!)
    expect(rows.map((r) => r["greeting"])).toEqual(["hello, ada", "hello, bob", "hello, cy"])
  })

  it("a pipeline may carry the layer itself (pipeline(name, build, { layer }))", async () => {
    const root = mkdtempSync(join(tmpdir(), "wb-services-"))
    const shout = Layer.succeed(Greeter, Greeter.of({ greet: (name) => Effect.succeed(`HI ${name.toUpperCase()}`) }))
    const result = await runPipeline(demo(shout), { root, threads: 1 })
    const rows = await readParquet(result.nodes["hello"]!.tables["greetings"]!)
    expect(rows.map((r) => r["greeting"])).toEqual(["HI ADA", "HI BOB", "HI CY"])
  })

  it("without the service, the pipeline is refused before any node runs, naming node, kind and service", async () => {
    const root = mkdtempSync(join(tmpdir(), "wb-services-"))
    const events: Array<RunEvent> = []
    const otherService = Layer.succeed(Clock, Clock.of({ now: "noon" }))
    for (const layer of [undefined, otherService]) {
      const error = await runPipeline(demo(), {
        root,
        threads: 1,
        onEvent: (e) => events.push(e),
        ...(layer ? { layer } : {})
      }).then(
        () => undefined,
        (e: unknown) => e as { _tag: string; message: string }
      )
      expect(error?._tag).toBe("PipelineInvalidError")
      expect(error?.message).toBe(
        `pipeline "greet" is invalid\n` +
          `  node "hello" (test.greet) needs the service Greeter ("test/Greeter"), which no layer of this run provides\n` +
          "    fix: provide it with a layer: `runPipeline(p, { layer })` from TypeScript, or for `wb`, " +
          "`export default defineConfig({ layer })` in wb.config.ts beside package.json"
      )
    }
    // nothing ran: not even "names", which needs no service
    expect(events).toEqual([])
    const artifacts = join(root, ".wb", "artifacts")
    expect(existsSync(artifacts) ? readdirSync(artifacts) : []).toEqual([])
  })
})
