/**
 * The typed node contract is only as good as what tsc says when a node breaks it. Each mistake a
 * node author makes first is compiled here with the project's TypeScript, and the message must name
 * the mistake in the author's terms: the service and `requires`, the outputLike input, the output.
 */
import { spawnSync } from "node:child_process"
import { mkdirSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { REPO } from "../e2e/cli-spawn.js"

// inside the repo, so `effect` and @types resolve as for any file of it
const dir = join(REPO, "node_modules", ".cache", `wb-contract-messages-${process.pid}`)
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const HEADER = `import { Context, Effect, Schema } from "effect"
import { defineNode, input, output, outputLike, Sql } from "../../../workbench/index.js"
export class RewardModel extends Context.Service<RewardModel, { readonly score: (s: string) => Effect.Effect<number> }>()("my/RewardModel") {}
`

/** tsc's messages for one user file: one string per error, its continuation lines joined. */
function compile(name: string, body: string): Array<string> {
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, `${name}.ts`), HEADER + body)
  const config = join(dir, `tsconfig.${name}.json`)
  writeFileSync(
    config,
    JSON.stringify({
      extends: join(REPO, "tsconfig.json"),
      compilerOptions: { noEmit: true },
      files: [`${name}.ts`],
      include: []
    })
  )
  const run = spawnSync(
    process.execPath,
    [join(REPO, "node_modules", "typescript", "bin", "tsc"), "-p", config, "--pretty", "false"],
    { encoding: "utf8" }
  )
  return run.stdout
    .split(/\n(?=\S)/)
    .filter((e) => e.includes(`${name}.ts(`))
    .map((e) => e.replace(/\s*\n\s*/g, " "))
}

describe("tsc on a node that breaks its contract", { timeout: 60_000 }, () => {
  it("a service run uses but requires does not list: the message names the service and requires", () => {
    const errors = compile(
      "unlisted",
      `
export const scored = defineNode({
  kind: "my.scored", version: 1, summary: "x", params: Schema.Struct({}),
  inputs: { pairs: input({ prompt: "utf8" }) },
  outputs: { scores: output("main", { score: "float64" }) },
  run: ({ inputs }) => Effect.gen(function*() {
    const model = yield* RewardModel
    const sql = yield* Sql
    yield* model.score(inputs.pairs.relation)
    return { tables: { scores: yield* sql.create("s", "SELECT 1.0 AS score") } }
  })
})
`
    )
    expect(errors).toHaveLength(1)
    expect(errors[0]).toContain('"run uses services that requires does not list: my/RewardModel')
    // not the old chain through an unrelated core service's shape
    expect(errors[0]).not.toContain("Workspace")
  })

  it("outputLike of an input the kind does not declare, and a run returning an undeclared output", () => {
    const errors = compile(
      "outputs",
      `
export const typo = defineNode({
  kind: "my.typo", version: 1, summary: "x", params: Schema.Struct({}),
  inputs: { pairs: input({ prompt: "utf8" }) },
  outputs: { pairs: outputLike("main", "pears") },
  run: () => Effect.succeed({ tables: { pairs: "t" } })
})
export const extra = defineNode({
  kind: "my.extra", version: 1, summary: "x", params: Schema.Struct({}),
  inputs: { pairs: input({ prompt: "utf8" }) },
  outputs: { pairs: outputLike("main", "pairs") },
  run: () => Effect.succeed({ tables: { pairs: "t", debug: "u" } })
})
`
    )
    expect(errors.some((e) => e.includes('"outputLike copies an input the kind does not declare: pears"'))).toBe(true)
    expect(errors.some((e) => e.includes('"run returns tables that are not declared outputs: debug"'))).toBe(true)
  })
})
