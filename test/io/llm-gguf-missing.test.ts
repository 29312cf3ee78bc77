/**
 * node-llama-cpp is an optional peer dependency: a user without it must get one clear message saying
 * how to install it, and everything that does not run a GGUF model must not even load it. The real
 * `wb` runs in a child process whose module resolution cannot find node-llama-cpp (a resolve hook
 * answers ERR_MODULE_NOT_FOUND for it, as Node does when the package is not installed).
 */
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import { beforeAll, describe, expect, it } from "vitest"
import { writeTinyGguf } from "../../workbench/io/llm/tiny-gguf.js"
import { REPO, tempDir, wb } from "../e2e/cli-spawn.js"

let dir: string
let env: Record<string, string>

beforeAll(() => {
  dir = tempDir("wb-no-llama-")
  writeTinyGguf(join(dir, "tiny.gguf"))
  const hooks = `export async function resolve(specifier, context, next) {
  if (specifier === "node-llama-cpp" || specifier.startsWith("node-llama-cpp/")) {
    const e = new Error("Cannot find package 'node-llama-cpp' imported from " + context.parentURL)
    e.code = "ERR_MODULE_NOT_FOUND"
    throw e
  }
  return next(specifier, context)
}`
  writeFileSync(join(dir, "hooks.mjs"), hooks)
  writeFileSync(
    join(dir, "hide-llama.mjs"),
    `import { register } from "node:module"\nregister(${JSON.stringify(pathToFileURL(join(dir, "hooks.mjs")).href)})\n`
  )
  env = { NODE_OPTIONS: `--import=${pathToFileURL(join(dir, "hide-llama.mjs")).href}` }
})

describe("without node-llama-cpp", () => {
  it("wb llm serve says how to install it", async () => {
    const r = await wb(["llm", "serve", "--model", "tiny.gguf", "--port", "0"], { cwd: dir, env })
    expect(r.code).toBe(1)
    expect(r.stdout).toBe("")
    expect(r.stderr).toBe(
      "wb llm serve --model tiny.gguf: node-llama-cpp is not installed (an optional peer dependency of preference-workbench)\n" +
        "  expected: node-llama-cpp 3.21.1 installed next to preference-workbench\n" +
        "  fix: wb llm serve needs node-llama-cpp: npm i -E node-llama-cpp@3.21.1\n"
    )
  })

  it("judge.gguf fails its node with the install hint", async () => {
    const pipeline = join(dir, "judge-gguf.ts")
    writeFileSync(
      pipeline,
      `import { pipeline } from "preference-workbench"
import { filter, judge, load } from "preference-workbench/nodes"
export default pipeline("no-llama", (p) => {
  const panda = p.node("panda", load.pandalm({ path: ${JSON.stringify(join(REPO, "data", "pandalm-testset"))}, maxRejectRate: 0.01 }))
  const few = p.node("few", filter.sql({ where: "source_row < 3" }), { pairs: panda })
  p.node("judge", judge.gguf({ model: "tiny.gguf", threads: 1, contextSize: 2048 }), { pairs: few })
})
`
    )
    const r = await wb(["run", pipeline], { cwd: dir, env })
    expect(r.code).toBe(1)
    // the run's summary indents the node's message under its name
    expect(r.stdout + r.stderr).toMatch(
      /node "judge" \(judge\.gguf\): node-llama-cpp is not installed \(an optional peer dependency of preference-workbench\)\n\s+expected: node-llama-cpp 3\.21\.1 installed next to preference-workbench\n\s+fix: judge\.gguf needs node-llama-cpp: npm i -E node-llama-cpp@3\.21\.1\n/
    )
  })

  it("everything else works: wb llm tiny-model and help never load it", async () => {
    const made = await wb(["llm", "tiny-model", "other.gguf", "--seed", "3"], { cwd: dir, env })
    expect(made.code, made.stderr).toBe(0)
    expect(made.stdout).toMatch(/^wrote other\.gguf: 157,920 bytes/)
    const help = await wb(["llm", "serve", "--help"], { cwd: dir, env })
    expect(help.code).toBe(0)
    expect(help.stdout).toContain("--model string")
  })
})
