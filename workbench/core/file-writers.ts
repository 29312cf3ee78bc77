/**
 * One writer per file. Two nodes of one pipeline that write the same file (two exports with one `to`)
 * would each replace the other's file on every run, so the file flips between them, silently. A kind
 * declares the files it writes with `writes` (node.ts); the graph build refuses a second writer.
 *
 * Core is pure (no node:path, no file system), so paths compare as given after a lexical posix
 * normalisation: "./out//x.jsonl" and "out/a/../x.jsonl" are "out/x.jsonl". Not caught here: one file
 * that only the file system can tell is the same (an absolute path and a relative one, a symlinked
 * folder, a case-insensitive disk).
 */
import { SameFileWritersError } from "./errors.js"
import type { NodeDefinition } from "./node.js"

/** A path with "." and empty segments dropped and ".." applied, like posix `path.normalize` less a trailing "/". */
export function normalizePath(path: string): string {
  const absolute = path.startsWith("/")
  const segments: Array<string> = []
  for (const s of path.split("/")) {
    if (s === "" || s === ".") continue
    if (s !== "..") segments.push(s)
    else if (segments.length > 0 && segments[segments.length - 1] !== "..") segments.pop()
    else if (!absolute) segments.push("..") // above the root of an absolute path is the root
  }
  const joined = segments.join("/")
  return absolute ? `/${joined}` : joined === "" ? "." : joined
}

/**
 * Every later writer of a file another node already writes, against the first writer. `params`:
 * the decoded params (undefined where they did not decode: that problem is reported on its own).
 */
export function sameFileProblems(
  nodes: Iterable<{ readonly name: string; readonly definition: NodeDefinition; readonly params: unknown }>
): Array<SameFileWritersError> {
  const first = new Map<string, { node: string; kind: string; param: string; path: string }>()
  const problems: Array<SameFileWritersError> = []
  for (const n of nodes) {
    if (n.params === undefined || n.definition.writes === undefined) continue
    const own = new Set<string>() // one node naming its file twice is not a clash between nodes
    for (const w of n.definition.writes(n.params)) {
      const file = normalizePath(w.path)
      if (own.has(file)) continue
      own.add(file)
      const writer = { node: n.name, kind: n.definition.kind, param: w.param, path: w.path }
      const earlier = first.get(file)
      if (earlier === undefined) first.set(file, writer)
      else problems.push(new SameFileWritersError({ file, first: earlier, second: writer }))
    }
  }
  return problems
}
