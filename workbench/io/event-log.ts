/**
 * Every run's events, as NDJSON files in the workspace (`<workspace>/events/<runId>.ndjson`), so that
 * `wb serve` shows a run started from the terminal live: the runner's process appends, the server
 * tails. Nothing is locked: each run writes its own file, and a reader only reads. The newest
 * `KEEP_RUNS` files are kept.
 */
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readSync, rmSync, statSync, writeSync } from "node:fs"
import { join } from "node:path"
import type { RunEvent } from "../core/events.js"
import { encodeRunEventLine } from "../protocol/events.js"

export const EVENTS_DIR = "events"
const KEEP_RUNS = 20

export const eventLogDir = (workspace: string) => join(workspace, EVENTS_DIR)

/**
 * A sink that appends each event to its run's file. Writing never fails a run: a full disk or a
 * read-only workspace only stops the log (said once on stderr).
 */
export function eventLogWriter(workspace: string): (event: RunEvent) => void {
  const dir = eventLogDir(workspace)
  const open = new Map<string, number>()
  let broken = false
  return (event) => {
    if (broken) return
    try {
      let fd = open.get(event.runId)
      if (fd === undefined) {
        mkdirSync(dir, { recursive: true })
        fd = openSync(join(dir, `${event.runId}.ndjson`), "a")
        open.set(event.runId, fd)
      }
      writeSync(fd, `${encodeRunEventLine(event)}\n`)
      if (event._tag === "RunFinished") {
        closeSync(fd)
        open.delete(event.runId)
        prune(dir)
      }
    } catch (e) {
      broken = true
      process.stderr.write(`wb: could not write the run's events to ${dir}: ${String(e)} (the run goes on)\n`)
    }
  }
}

function prune(dir: string) {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".ndjson"))
    .map((f) => ({ f, t: statSync(join(dir, f)).mtimeMs }))
    .sort((a, b) => b.t - a.t)
  for (const { f } of files.slice(KEEP_RUNS)) rmSync(join(dir, f), { force: true })
}

export interface EventTail {
  readonly close: () => void
}

/**
 * Follow the workspace's event files: `onLine` gets each complete line appended after the tail
 * started (one NDJSON event), in file order. Polls every `intervalMs` (fs.watch misses appends on some
 * file systems); only files changed since the last poll are read.
 */
export function tailEventLogs(workspace: string, onLine: (line: string) => void, intervalMs = 20): EventTail {
  const dir = eventLogDir(workspace)
  const offsets = new Map<string, { pos: number; rest: string }>()
  const buf = Buffer.alloc(1 << 20)
  const scan = (initial: boolean) => {
    if (!existsSync(dir)) return
    for (const f of readdirSync(dir)) {
      if (!f.endsWith(".ndjson")) continue
      const path = join(dir, f)
      let size: number
      try {
        size = statSync(path).size
      } catch {
        continue // pruned meanwhile
      }
      const seen = offsets.get(f)
      if (seen === undefined) {
        offsets.set(f, { pos: initial ? size : 0, rest: "" })
        if (initial) continue
      }
      const at = offsets.get(f)!
      if (size <= at.pos) continue
      const fd = openSync(path, "r")
      try {
        while (at.pos < size) {
          const n = readSync(fd, buf, 0, Math.min(buf.length, size - at.pos), at.pos)
          if (n <= 0) break
          at.pos += n
          const text = at.rest + buf.toString("utf8", 0, n)
          const lines = text.split("\n")
          at.rest = lines.pop() ?? ""
          for (const line of lines) if (line !== "") onLine(line)
        }
      } finally {
        closeSync(fd)
      }
    }
  }
  scan(true)
  const timer = setInterval(() => scan(false), intervalMs)
  timer.unref()
  return { close: () => clearInterval(timer) }
}
