/**
 * The files a loader's `path` param names: one path, a list of paths, or (with `glob: true`) patterns
 * expanded into the files they match. The same expansion feeds the cache key (every file actually
 * read, so a new file matching a pattern re-runs the loader) and the run (which fails, naming what
 * is there, when a pattern matches nothing or a listed file is missing).
 */
import { Effect } from "effect"
import { basename } from "node:path"
import { didYouMean } from "../../workbench/core/did-you-mean.js"
import { DataError } from "../../workbench/core/errors.js"
import {
  displayPath,
  isDirectory,
  isFile,
  listDirectory,
  nearestExisting,
  resolvePath
} from "../lib/file-fingerprint.js"
import { type LoadContext, missingPathError, type SourceFile, sourceFile, where } from "./files.js"
import { expandGlob, hasGlobChars, patternBase } from "./glob.js"

/** What a `path` param holds once decoded. */
export type PathValue = string | ReadonlyArray<string>

/** One file to read, and the param entry that named it (`path`, or `path[1]` in a list). */
export interface InputPath {
  readonly param: string
  readonly path: string
}

export interface InputPaths {
  /** The files, in order: list order, each pattern's matches by name; each file once. */
  readonly files: ReadonlyArray<InputPath>
  /** Patterns that matched no file. */
  readonly unmatched: ReadonlyArray<InputPath>
  /** Literal list entries naming a file an earlier entry names (read once), with that entry's param. */
  readonly repeated: ReadonlyArray<InputPath & { readonly first: string }>
}

/** Expand a `path` param: literal paths as given (existing or not), patterns into their matches. */
export function inputPaths(root: string, path: PathValue, glob: boolean): InputPaths {
  const entries =
    typeof path === "string" ? [{ param: "path", path }] : path.map((p, i) => ({ param: `path[${i}]`, path: p }))
  const seen = new Map<string, string>()
  const files: Array<InputPath> = [],
    unmatched: Array<InputPath> = []
  const repeated: Array<InputPath & { readonly first: string }> = []
  const add = (param: string, p: string, literal = false) => {
    const abs = resolvePath(root, p)
    const first = seen.get(abs)
    // a pattern overlapping another entry is expected; a file listed twice by name is said (define.ts)
    if (first !== undefined) return literal ? void repeated.push({ param, path: p, first }) : undefined
    seen.set(abs, param)
    files.push({ param, path: p })
  }
  for (const e of entries) {
    if (!glob) add(e.param, e.path, true)
    else {
      const matches = expandGlob(root, e.path)
      if (matches.length === 0) unmatched.push(e)
      for (const m of matches) add(e.param, m)
    }
  }
  return { files, unmatched, repeated }
}

/** What the cache key covers: every file read, and each pattern that matched nothing (as missing). */
export const fingerprintPaths = (root: string, path: PathValue, glob: boolean): Array<string> => {
  const { files, unmatched } = inputPaths(root, path, glob)
  return [...files.map((f) => f.path), ...unmatched.map((u) => u.path)]
}

const listing = (entries: ReadonlyArray<string>) =>
  entries.length === 0
    ? "(nothing)"
    : entries.slice(0, 12).join(", ") + (entries.length > 12 ? `, … (${entries.length} entries)` : "")

/** The DataError for a pattern that matches no file: the folder searched, what is in it, a close name. */
export function noMatchError(ctx: LoadContext, param: string, pattern: string): DataError {
  const base = patternBase(ctx.root, pattern)
  const exists = isDirectory(base)
  const near = exists ? { dir: base, entries: listDirectory(base) } : nearestExisting(`${base}/x`)
  const shownDir = displayPath(ctx.root, near.dir)
  // the pattern's first segment with glob characters, against the names in the folder searched
  const segment =
    resolvePath(ctx.root, pattern)
      .split("/")
      .find((s) => hasGlobChars(s)) ?? basename(pattern)
  const hint = exists
    ? didYouMean(
        segment,
        near.entries.map((e) => e.replace(/\/$/, ""))
      )
    : ""
  return new DataError({
    where: where(ctx, `param ${param}`),
    found:
      `no file matches the pattern ${pattern}; ${exists ? "" : `${displayPath(ctx.root, base)}/ does not exist, and `}` +
      `${shownDir}/ has: ${listing(near.entries)}`,
    expected:
      "a pattern matching at least one file (glob: true; * ? [abc] {a,b} **; a wildcard does not match a leading dot)",
    fix:
      `${hint === "" ? "" : `${hint} `}correct the pattern, or set glob: false to read ${pattern} as the one file named so; ` +
      `relative patterns resolve against the project root ${ctx.root}`
  })
}

/**
 * The source files `path` names, each resolved (present, with a known format) before any is read,
 * so a missing third file fails the node before two files' worth of work.
 */
export const inputFiles = (ctx: LoadContext, path: PathValue, glob: boolean, format: string) =>
  Effect.gen(function* () {
    const { files, unmatched } = inputPaths(ctx.root, path, glob)
    if (unmatched.length > 0) return yield* noMatchError(ctx, unmatched[0]!.param, unmatched[0]!.path)
    const out: Array<SourceFile> = []
    for (const f of files) {
      const abs = resolvePath(ctx.root, f.path)
      if (!glob && hasGlobChars(f.path) && !isFile(abs) && !isDirectory(abs)) {
        const matches = expandGlob(ctx.root, f.path)
        if (matches.length > 0) {
          // the user may have meant a pattern: say what it would read, rather than only "no such file"
          const e = missingPathError(ctx, f.param, f.path)
          return yield* new DataError({
            where: e.where,
            found: e.found,
            expected: e.expected,
            fix: `${e.fix}; or, to read it as a pattern, set glob: true (it matches ${listing(matches.map((m) => displayPath(ctx.root, m)))})`
          })
        }
      }
      out.push(yield* sourceFile(ctx, f.param, f.path, format))
    }
    return out
  })
