/**
 * File patterns for loaders with `glob: true`, expanded here rather than by DuckDB: DuckDB would glob
 * any path it is given, read the matches as one stream (so rejects could not name their file), and
 * the cache key would not know which files it read. Here a pattern becomes a sorted list of files,
 * each then read literally and fingerprinted.
 *
 * Syntax, per path segment: `*` (any characters), `?` (one character), `[abc]`, `[a-z]`, `[!a]` or
 * `[^a]` (one character of a class), `{a,b}` (alternatives, may hold `/` and nest), and `**` as a
 * whole segment (any depth of folders, zero included). A bracket or brace that does not close is a
 * literal character; `[[]` matches a literal `[`.
 *
 * Gotchas
 * - A wildcard does not match a leading dot (`*.jsonl` skips `.hidden.jsonl`; `.*.jsonl` finds it),
 *   and `**` does not descend into dot-folders or through symbolic links to folders (no cycles).
 * - Only files match (a folder matching the last segment is skipped).
 */
import { readdirSync, statSync } from "node:fs"
import { join, resolve } from "node:path"

/** The characters that make a path a pattern. */
export const hasGlobChars = (path: string): boolean => /[*?[{]/.test(path)

/** The index of the `]` closing a class opened at `open`, or -1 (a `]` right after `[`, `[!` or `[^` is a member). */
function classEnd(s: string, open: number): number {
  let i = open + 1
  if (s[i] === "!" || s[i] === "^") i++
  if (s[i] === "]") i++
  const end = s.indexOf("]", i)
  return end === -1 || s.slice(open + 1, end).includes("/") ? -1 : end
}

/** The alternatives of the first `{a,b}` in `s` (nested braces and classes respected), expanded recursively. */
export function expandBraces(s: string): Array<string> {
  for (let open = 0; open < s.length; open++) {
    if (s[open] === "[") {
      const end = classEnd(s, open)
      if (end !== -1) open = end
      continue
    }
    if (s[open] !== "{") continue
    let depth = 0
    const commas: Array<number> = []
    for (let i = open; i < s.length; i++) {
      const c = s[i]
      if (c === "[") {
        const end = classEnd(s, i)
        if (end !== -1) i = end
      } else if (c === "{") depth++
      else if (c === "}" && --depth === 0) {
        if (commas.length === 0) break // `{a}` is literal text, as in a shell
        const cuts = [open, ...commas, i]
        const head = s.slice(0, open),
          tail = s.slice(i + 1)
        return cuts.slice(1).flatMap((cut, k) => expandBraces(head + s.slice(cuts[k]! + 1, cut) + tail))
      } else if (c === "," && depth === 1) commas.push(i)
    }
  }
  return [s]
}

const escapeRegex = (c: string) => c.replace(/[\\^$.*+?()[\]{}|/]/g, "\\$&")
const escapeClassMember = (c: string) => c.replace(/[\\\][^]/g, "\\$&")

/** A regex for one path segment with wildcards and classes (braces already expanded). */
export function segmentRegex(segment: string): RegExp {
  let re = ""
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i]!
    if (c === "*") re += re.endsWith("[^/]*") ? "" : "[^/]*"
    else if (c === "?") re += "[^/]"
    else if (c === "[" && classEnd(segment, i) !== -1) {
      const end = classEnd(segment, i)
      let body = segment.slice(i + 1, end)
      const negated = body.startsWith("!") || body.startsWith("^")
      if (negated) body = body.slice(1)
      // a class's members are literal except for ranges (a-z)
      re += `[${negated ? "^" : ""}${[...body].map(escapeClassMember).join("")}]`
      i = end
    } else re += escapeRegex(c)
  }
  return new RegExp(`^${re}$`, "u")
}

const entriesOf = (dir: string) => {
  try {
    return readdirSync(dir, { withFileTypes: true })
  } catch {
    return []
  }
}

const kindOf = (abs: string): "file" | "dir" | undefined => {
  try {
    const st = statSync(abs)
    return st.isFile() ? "file" : st.isDirectory() ? "dir" : undefined
  } catch {
    return undefined
  }
}

/** The files under `dir` matching `segments` from index `i` on, into `out`. */
function walk(dir: string, segments: ReadonlyArray<string>, i: number, out: Set<string>): void {
  if (i === segments.length) {
    if (kindOf(dir) === "file") out.add(dir)
    return
  }
  const segment = segments[i]!
  if (segment === "**") {
    walk(dir, segments, i + 1, out)
    const last = i + 1 === segments.length
    for (const e of entriesOf(dir)) {
      if (e.name.startsWith(".")) continue
      if (e.isDirectory()) walk(join(dir, e.name), segments, i, out)
      else if (last && kindOf(join(dir, e.name)) === "file") out.add(join(dir, e.name))
    }
    return
  }
  if (!hasGlobChars(segment)) {
    walk(join(dir, segment), segments, i + 1, out)
    return
  }
  const re = segmentRegex(segment)
  for (const e of entriesOf(dir)) {
    if (e.name.startsWith(".") && !segment.startsWith(".")) continue
    if (re.test(e.name)) walk(join(dir, e.name), segments, i + 1, out)
  }
}

/**
 * The files `pattern` matches, as absolute paths sorted by name (code point order); relative
 * patterns resolve against `root`.
 */
export function expandGlob(root: string, pattern: string): Array<string> {
  const out = new Set<string>()
  for (const alternative of expandBraces(pattern)) {
    const abs = resolve(root, alternative)
    const segments = abs.split("/")
    // the walk starts at the deepest folder named without glob characters
    const first = segments.findIndex((s) => hasGlobChars(s))
    if (first === -1) walk(abs, [], 0, out)
    else walk(segments.slice(0, first).join("/") || "/", segments, first, out)
  }
  return [...out].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
}

/** The folder a pattern's matches are searched in: its part before the first segment with glob characters. */
export function patternBase(root: string, pattern: string): string {
  const segments = resolve(root, pattern).split("/")
  const first = segments.findIndex((s) => hasGlobChars(s))
  return first === -1 ? segments.slice(0, -1).join("/") || "/" : segments.slice(0, first).join("/") || "/"
}
