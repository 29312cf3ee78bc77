/**
 * How a module of the user's that failed to import (a pipeline file, wb.config.ts, a node library) is
 * described: the error's type and message, and the place in the user's own files it was thrown from.
 * Why: the message alone ("Cannot read properties of undefined") leaves a long pipeline file to be
 * searched, and the stack, which has the place, is never shown to users.
 */
import { isAbsolute, relative, sep } from "node:path"
import { fileURLToPath } from "node:url"
import { packageRoot } from "./package-root.js"

/** `file:///a/b.ts:3:7` or `/a/b.ts:3:7` in a stack line, as (path, line, column). */
const FRAME = /(?:\(|\s)((?:file:\/\/)?\/[^():]+?):(\d+):(\d+)\)?\s*$/

/** The first frame of the user's code: not wb's own (dist/, workbench/, nodes/), not node_modules, not Node's. */
function userFrame(stack: string, cwd: string, wbRoot: string): string | undefined {
  const own = ["dist", "workbench", "nodes"].map((d) => `${wbRoot}${sep}${d}${sep}`)
  for (const line of stack.split("\n").slice(1)) {
    const m = FRAME.exec(line)
    if (m === null) continue
    const path = m[1]!.startsWith("file://") ? fileURLToPath(m[1]!) : m[1]!
    if (path.includes(`${sep}node_modules${sep}`) || own.some((o) => path.startsWith(o))) continue
    const rel = relative(cwd, path)
    const shown = rel !== "" && !rel.startsWith("..") && !isAbsolute(rel) ? rel : path
    return `${shown}:${m[2]}:${m[3]}`
  }
  return undefined
}

/** "TypeError: message (at pipelines/x.ts:12:30)": what failed and where, in one line group, no stack. */
export function importFailureText(e: unknown, cwd: string = process.cwd(), wbRoot: string = packageRoot()): string {
  if (!(e instanceof Error)) return String(e)
  const named = e.name === "Error" || e.name === "" ? e.message : `${e.name}: ${e.message}`
  const at = e.stack === undefined ? undefined : userFrame(e.stack, cwd, wbRoot)
  return at === undefined ? named : `${named} (at ${at})`
}
