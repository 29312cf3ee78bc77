/**
 * Internal-error logs: `<workspace>/logs/<id>.log`, one file per defect, holding what was running and
 * the full trace. Users are shown the id and this path, never the stack.
 */
import { Effect, Layer } from "effect"
import { randomBytes } from "node:crypto"
import { mkdirSync, writeFileSync } from "node:fs"
import { isAbsolute, join, relative } from "node:path"
import { DefectLog } from "../core/defects.js"

/** A path as a user reads it: relative to the current directory when inside it, else absolute. */
export function displayPath(path: string, cwd: string = process.cwd()): string {
  const rel = relative(cwd, path)
  return rel !== "" && !rel.startsWith("..") && !isAbsolute(rel) ? rel : path
}

/** Write one defect's log; returns its id and path. A log that cannot be written says why in `log`. */
export function writeDefectLog(dir: string, entry: { readonly context: string; readonly trace: string }) {
  const id = randomBytes(4).toString("hex")
  const file = join(dir, "logs", `${id}.log`)
  const text =
    `internal error ${id}\ntime: ${new Date().toISOString()}\npid: ${process.pid}\n` +
    `node: ${process.version}\nwhile: ${entry.context}\n\n${entry.trace}\n`
  try {
    mkdirSync(join(dir, "logs"), { recursive: true })
    writeFileSync(file, text)
    return { id, log: displayPath(file) }
  } catch (e) {
    // the trace must still reach someone: stderr is the last place left
    process.stderr.write(
      `wb: could not write ${file} (${e instanceof Error ? e.message : String(e)}); the trace:\n${text}`
    )
    return {
      id,
      log: `${displayPath(file)} (not written: ${e instanceof Error ? e.message.split("\n")[0] : String(e)}; the trace went to stderr)`
    }
  }
}

export const DefectLogLive = (dir: string) =>
  Layer.succeed(DefectLog, DefectLog.of({ record: (entry) => Effect.sync(() => writeDefectLog(dir, entry)) }))
