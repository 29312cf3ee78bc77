/**
 * A TypeScript pipeline under a real `wb serve` process: edits to it and to the helper module it
 * imports are seen while the server runs (no restart), and a SQL cell saved as a node comes back as a
 * `p.node(…)` line to paste (nothing written); pasted as it is, that line gives the same node and SQL.
 */
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { REPO, tempDir } from "../e2e/cli-spawn.js"
import { type Served, serve } from "../browser/harness.js"

const ID = "pipelines/small.ts"
const PIPELINE = `import { pipeline } from "preference-workbench"
import { load, transform } from "preference-workbench/nodes"
import { PANDA, SHORT } from "./helper.js"

export default pipeline("small", (p) => {
  const panda = p.node("panda", load.pandalm(PANDA))
  p.node("short", transform.sql({ sql: SHORT }), { pairs: panda })
})
`
const helper = (limit: number) =>
  `export const PANDA = { path: "data/pandalm-testset", maxRejectRate: 0.01 }
export const SHORT = "select * from pairs where length(prompt) < ${limit}"
`
// quotes of both kinds, a backslash and a newline: the snippet must carry them exactly
const SQL = `select pair_id, vote || ' "q" \\ it''s' as v2\nfrom votes -- a "comment"`

let root = ""
let server: Served

beforeAll(async () => {
  root = tempDir("wb-serve-ts-")
  mkdirSync(join(root, "pipelines"))
  writeFileSync(join(root, ID), PIPELINE)
  writeFileSync(join(root, "pipelines/helper.ts"), helper(200))
  symlinkSync(join(REPO, "data"), join(root, "data"))
  writeFileSync(join(root, "package.json"), '{ "name": "serve-ts-test", "type": "module" }\n')
  server = await serve(root)
}, 120_000)
afterAll(async () => {
  await server?.stop()
  if (root) rmSync(root, { recursive: true, force: true })
})

const call = async (path: string, body?: unknown) => {
  const r = await fetch(server.origin + path, {
    method: body === undefined ? "GET" : "POST",
    headers: { authorization: `Bearer ${server.token}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })
  return { status: r.status, body: (await r.json()) as any }
}
const nodes = async () => {
  const g = await call(`/api/pipelines/${encodeURIComponent(ID)}/graph`)
  expect(g.status).toBe(200)
  return Object.fromEntries(g.body.nodes.map((n: any) => [n.name, n.params.sql ?? null]))
}

describe("a TypeScript pipeline under wb serve", { timeout: 120_000 }, () => {
  it("edits to the pipeline's helper module and to the pipeline itself are seen without a restart", async () => {
    expect((await call("/api/pipelines")).body.pipelines).toContainEqual({ id: ID, format: "ts" })
    expect(await nodes()).toEqual({ panda: null, short: "select * from pairs where length(prompt) < 200" })
    writeFileSync(join(root, "pipelines/helper.ts"), helper(4000))
    expect((await nodes())["short"]).toBe("select * from pairs where length(prompt) < 4000")
    writeFileSync(
      join(root, ID),
      PIPELINE.replace(
        'p.node("short"',
        'p.node("first", transform.sql({ sql: "select * from pairs limit 5" }), { pairs: panda })\n  p.node("short"'
      )
    )
    expect(Object.keys(await nodes())).toEqual(["panda", "first", "short"])
  })

  it("a SQL cell saved as a node: the line to paste and why, the file untouched; pasted, it is that node", async () => {
    const before = readFileSync(join(root, ID), "utf8")
    const r = await call(`/api/pipelines/${encodeURIComponent(ID)}/sql-node`, {
      name: "with_votes",
      sql: SQL,
      inputs: { votes: "panda.votes" }
    })
    expect(r.status).toBe(200)
    expect(r.body.saved).toBeNull()
    expect(r.body.why).toContain(`${ID} is TypeScript: wb serve rewrites YAML pipelines in place, but not code`)
    expect(r.body.imports).toBe('import { transform } from "preference-workbench/nodes"')
    expect(r.body.snippet).toBe(
      `p.node("with_votes", transform.sql({ sql: ${JSON.stringify(SQL)} }), { votes: panda.votes })`
    )
    expect(readFileSync(join(root, ID), "utf8")).toBe(before)
    writeFileSync(join(root, ID), before.replace(/\}\)\n$/, `  ${r.body.snippet}\n})\n`))
    expect((await nodes())["with_votes"]).toBe(SQL)
  })
})
