// Why a node waits on its upstream, in the words `wb show` and `wb export` give: a node below a damaged
// artifact was refused with "upstream "src" must run first (its params or inputs changed)" although
// nothing changed; the reason is the upstream's own state.
import { Effect, Schema } from "effect"
import { mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { input, output, outputLike } from "../../workbench/core/contract.js"
import { buildGraph } from "../../workbench/core/graph.js"
import { defineNode } from "../../workbench/core/node.js"
import { pipeline } from "../../workbench/core/pipeline.js"
import type { Manifest } from "../../workbench/core/report.js"
import { Sql } from "../../workbench/core/services.js"
import { cacheStates, waitingFor } from "../../workbench/io/catalog/artifacts.js"
import { runPipeline } from "../../workbench/run-pipeline.js"

const source = defineNode({
  kind: "waiting.source",
  version: 1,
  summary: "rows",
  params: Schema.Struct({ n: Schema.Int }),
  inputs: {},
  outputs: { rows: output("main", { x: "int64" }) },
  run: ({ params }) =>
    Effect.gen(function* () {
      const t = (yield* Sql).tempName("src")
      yield* (yield* Sql).run(`CREATE TABLE ${t} AS SELECT range AS x FROM range(${params.n})`)
      return { tables: { rows: t } }
    })
})
const copy = defineNode({
  kind: "waiting.add",
  version: 1,
  summary: "x + add",
  params: Schema.Struct({ add: Schema.Int }),
  inputs: { rows: input({ x: "int64" }) },
  outputs: { rows: outputLike("main", "rows") },
  run: ({ params, inputs }) =>
    Effect.gen(function* () {
      const t = (yield* Sql).tempName("add")
      yield* (yield* Sql).run(`CREATE TABLE ${t} AS SELECT x + ${params.add} AS x FROM ${inputs.rows.relation}`)
      return { tables: { rows: t } }
    })
})
const def = (n: number) =>
  pipeline("waiting", (p) => {
    const src = p.node("src", source({ n }))
    const mid = p.node("mid", copy({ add: 1 }), { rows: src })
    p.node("end", copy({ add: 2 }), { rows: mid })
  })

function reasons(root: string, n = 10) {
  const graph = Effect.runSync(buildGraph(def(n), new Map(), { services: "any" }))
  const states = cacheStates(graph, root, join(root, ".wb"))
  return Object.fromEntries(
    states.flatMap((s) => (s.state._tag === "Upstream" ? [[s.node.name, waitingFor(states, s.state.upstream)]] : []))
  )
}

const manifestOf = (root: string, node: string) => {
  const dir = join(root, ".wb", "artifacts")
  for (const key of readdirSync(dir)) {
    const m = JSON.parse(readFileSync(join(dir, key, "manifest.json"), "utf8")) as Manifest
    if (m.node === node) return { dir: join(dir, key), manifest: m }
  }
  throw new Error(node)
}

describe("why a node waits on its upstream", () => {
  it("names each upstream's own state: params changed, artifact damaged, artifact gone, or waiting itself", async () => {
    const root = mkdtempSync(join(tmpdir(), "wb-waiting-"))
    await runPipeline(def(10), { root, threads: 2 })
    expect(reasons(root)).toEqual({})
    expect(reasons(root, 11)).toEqual({
      mid: `"src" (its params or inputs changed since it ran)`,
      end: `"mid" (it waits on its own upstream)`
    })
    const src = manifestOf(root, "src")
    truncateSync(join(src.dir, src.manifest.tables["rows"]!.file), 10)
    expect(reasons(root)).toEqual({
      mid: `"src" (its artifact is damaged)`,
      end: `"mid" (it waits on its own upstream)`
    })
    rmSync(join(src.dir, "manifest.json"))
    expect(reasons(root)).toEqual({
      mid: `"src" (it has no artifact: it has not run, or its artifact was removed)`,
      end: `"mid" (it waits on its own upstream)`
    })
  })
})
