/** Run the real `wb` (node bin/wb.js) as a child process, in a temp directory, and collect its output. */
import { spawn, type ChildProcess } from "node:child_process"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { fileURLToPath } from "node:url"

export const REPO = resolve(fileURLToPath(new URL("../..", import.meta.url)))
export const BIN = join(REPO, "bin", "wb.js")
export const FIXTURES = join(REPO, "test", "fixtures")
export const pipelineFile = (name: string) => join(FIXTURES, "pipelines", name)
/** Env that points YAML pipelines and `wb nodes` at the test-only node kinds. */
export const FIXTURE_LIBRARY = { WB_NODE_LIBRARY: join(FIXTURES, "nodes.ts") }

export interface WbResult {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

export const tempDir = (prefix = "wb-cli-") => mkdtempSync(join(tmpdir(), prefix))

/** Start `wb args...` in `cwd`; `done` resolves when it exits. */
export function startWb(args: ReadonlyArray<string>, options: { cwd: string; env?: Record<string, string> }) {
  const child: ChildProcess = spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd,
    // the workspace in the test's own folder (by default it is the project root's, here the repo's)
    env: { ...process.env, NO_COLOR: "1", WB_WORKSPACE: join(options.cwd, ".wb"), ...options.env },
    stdio: ["ignore", "pipe", "pipe"]
  })
  let stdout = ""
  let stderr = ""
  child.stdout!.setEncoding("utf8").on("data", (d: string) => (stdout += d))
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d))
  const done = new Promise<WbResult>((res, rej) => {
    child.on("error", rej)
    child.on("close", (code, signal) => res({ code, signal, stdout, stderr }))
  })
  return { child, done, output: () => stdout }
}

export const wb = (args: ReadonlyArray<string>, options: { cwd: string; env?: Record<string, string> }) =>
  startWb(args, options).done
