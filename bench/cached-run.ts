/**
 * `npm run bench:cached`: wall time of a second, fully cached `wb run pipelines/quickstart.ts` (goal
 * < 2 s), as a user types it (`npx wb …`) and as `node bin/wb.js …`, from dist/ (the compiled package)
 * and from the sources, against two floors measured in the same run: `node -e 0` (Node's own start-up)
 * and `npx --version` (npm's). Each command runs BENCH_REPEAT times (default 5); prints best, median
 * and worst.
 * Uses a temp workspace, so the repository's .wb/ is left alone.
 */
import { spawnSync } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"

const root = resolve(import.meta.dirname, "..")
const repeat = Number(process.env["BENCH_REPEAT"] ?? 5)
const workspace = mkdtempSync(join(tmpdir(), "wb-bench-cached-"))
const run = ["run", "pipelines/quickstart.ts", "--workspace", workspace, "--json"]

const time = (cmd: string, args: ReadonlyArray<string>, env: Record<string, string> = {}) => {
  const t0 = performance.now()
  const r = spawnSync(cmd, args, { cwd: root, encoding: "utf8", env: { ...process.env, ...env } })
  const seconds = (performance.now() - t0) / 1000
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed:\n${r.stderr}`)
  return { seconds, stdout: r.stdout }
}

const allCached = (stdout: string) => {
  const report = JSON.parse(stdout) as { nodes: Array<{ status: string }> }
  return report.nodes.every((n) => n.status === "cached")
}

const mode = spawnSync(process.execPath, ["bin/wb.js", "--version"], {
  cwd: root,
  encoding: "utf8",
  env: { ...process.env, WB_DEBUG_START: "1" }
})
if (!mode.stderr.includes("starting from dist")) {
  throw new Error("dist/ is missing or older than the sources: run `npm run build` first")
}
const first = time(process.execPath, ["bin/wb.js", ...run])
console.log(`first run (fills the cache): ${first.seconds.toFixed(2)} s`)

const cases: Array<{
  label: string
  cmd: string
  args: ReadonlyArray<string>
  env?: Record<string, string>
  check?: boolean
}> = [
  { label: "floor: node -e 0", cmd: process.execPath, args: ["-e", "0"] },
  { label: "floor: npx --version", cmd: "npx", args: ["--version"] },
  { label: "npx wb run (the README's command)", cmd: "npx", args: ["wb", ...run], check: true },
  { label: "node bin/wb.js run, from dist/", cmd: process.execPath, args: ["bin/wb.js", ...run], check: true },
  {
    label: "node bin/wb.js run, from the sources",
    cmd: process.execPath,
    args: ["bin/wb.js", ...run],
    env: { WB_FROM_SOURCE: "1" },
    check: true
  }
]
console.log(`\nsecond run of pipelines/quickstart.ts, every node cached (${repeat} runs each; goal < 2 s)`)
for (const c of cases) {
  const times: Array<number> = []
  for (let i = 0; i < repeat; i++) {
    const r = time(c.cmd, c.args, c.env)
    if (c.check === true && !allCached(r.stdout)) throw new Error(`${c.label}: not every node was cached`)
    times.push(r.seconds)
  }
  times.sort((a, b) => a - b)
  const median = times[Math.floor(times.length / 2)]!
  console.log(
    `  ${c.label.padEnd(40)} best ${times[0]!.toFixed(2)} s · median ${median.toFixed(2)} s · worst ${times.at(-1)!.toFixed(2)} s`
  )
}
rmSync(workspace, { recursive: true, force: true })
