/**
 * Shared pieces of the load family: the params every loader has, finding the file a param names
 * (with an actionable error when it is not there), and telling its format from its name.
 */
import { Effect, Schema } from "effect"
import { didYouMean } from "../../workbench/core/did-you-mean.js"
import { DataError } from "../../workbench/core/errors.js"
import { param } from "../../workbench/core/params.js"
import {
  displayPath,
  fileStem,
  isDirectory,
  isFile,
  listDirectory,
  nearestExisting,
  resolvePath
} from "../lib/file-fingerprint.js"
import { detectFormat, type FileFormat } from "../lib/table-file.js"

/** Who is loading: for error messages. */
export interface LoadContext {
  readonly node: string
  readonly kind: string
  readonly root: string
  /** A sample run (`wb run --sample N`): read only the first N records of each file (`readRecords` applies it). */
  readonly sample?: number | undefined
}

export type { FileFormat }

/** A resolved input file. `shown` is how messages and the rejects table name it. */
export interface SourceFile {
  readonly abs: string
  readonly shown: string
  readonly format: FileFormat
}

export const PathParam = (what: string) =>
  Schema.String.check(Schema.isMinLength(1)).annotate({
    description: `${what}; relative paths resolve against the project root`
  })
/**
 * The `path` of loaders that read several files as one: a path, or a list of paths read in order
 * (each file once); with `glob: true` each is a pattern (`glob.ts`), its matches read in name order.
 */
export const PathsParam = (what: string) =>
  Schema.Union([
    Schema.String.check(Schema.isMinLength(1)),
    Schema.Array(Schema.String.check(Schema.isMinLength(1))).check(Schema.isMinLength(1))
  ]).annotate({
    description: `${what}; or a list of files, read in order and loaded as one; relative paths resolve against the project root`
  })
export const GlobParam = param(
  Schema.Boolean,
  false,
  "read path (each entry of a list) as a pattern: * ? [abc] {a,b} and ** (any folder depth); the matching files are read " +
    "in name order; false: each path names one file, glob characters in its name included"
)
export const FormatParam = param(
  Schema.Literals(["auto", "jsonl", "json", "csv", "parquet"]),
  "auto",
  "file format; auto: from the extension (.jsonl/.ndjson, .json: array or lines, .csv/.tsv, .parquet), any of them .gz or .zst"
)
export const SourceParam = (name: string) =>
  param(Schema.String, name, `dataset name written to the source column (default "${name}")`)
export const SeedParam = param(
  Schema.Int,
  0,
  "seed of the hash that puts chosen on side a or b (about half each); change it to re-draw sides"
)
export const MaxRejectRateParam = param(
  Schema.Number.check(Schema.isBetween({ minimum: 0, maximum: 1 })),
  0,
  "fail when more than this fraction of records is malformed (rejected); 0 fails on any reject"
)
export const LabelSourceParam = param(
  Schema.NullOr(Schema.Literals(["human", "ai", "mixed"])),
  null,
  "who produced the labels: human, ai or mixed (null when unknown)"
)

export const where = (ctx: LoadContext, what: string) => `node "${ctx.node}" (${ctx.kind}) ${what}`

const FORMAT_NAMES = "a JSONL, JSON, CSV or Parquet file (optionally .gz)"

/** The DataError for a path that is not there: the resolved path, what exists nearby, the fix. */
export function missingPathError(ctx: LoadContext, param: string, path: string, expected = FORMAT_NAMES): DataError {
  const abs = resolvePath(ctx.root, path)
  const near = nearestExisting(abs)
  const shownDir = displayPath(ctx.root, near.dir)
  const entries =
    near.entries.length === 0
      ? "(nothing)"
      : near.entries.slice(0, 12).join(", ") + (near.entries.length > 12 ? `, … (${near.entries.length} entries)` : "")
  const nextName =
    abs
      .slice(near.dir.length)
      .split(/[\\/]/)
      .filter((s) => s !== "")[0] ?? ""
  const hint = didYouMean(
    nextName,
    near.entries.map((e) => e.replace(/\/$/, ""))
  )
  return new DataError({
    where: where(ctx, `param ${param}`),
    found: `no such file: ${path} (resolved to ${abs}); ${shownDir}/ has: ${entries}`,
    expected,
    fix: `${hint === "" ? "" : `${hint} `}correct ${param}; relative paths resolve against the project root ${ctx.root}`
  })
}

/** Resolve a file param: it must exist and have a known format. */
export const sourceFile = (ctx: LoadContext, param: string, path: string, format: string) =>
  Effect.suspend(() => {
    const abs = resolvePath(ctx.root, path)
    if (!isFile(abs)) {
      if (isDirectory(abs)) {
        const files = listDirectory(abs).filter((e) => !e.endsWith("/"))
        return Effect.fail(
          new DataError({
            where: where(ctx, `param ${param}`),
            found: `${path} is a directory (holding: ${files.join(", ") || "no files"})`,
            expected: FORMAT_NAMES,
            fix: `set ${param} to one of the files in it`
          })
        )
      }
      return Effect.fail(missingPathError(ctx, param, path))
    }
    const detected = detectFormat(abs, format)
    if (detected === undefined) {
      return Effect.fail(
        new DataError({
          where: where(ctx, `param ${param}`),
          found: `cannot tell the format of ${path} from its extension`,
          expected: ".jsonl, .ndjson, .json, .csv, .tsv or .parquet, optionally followed by .gz (or .zst)",
          fix: `set format to "jsonl", "json", "csv" or "parquet"`
        })
      )
    }
    return Effect.succeed<SourceFile>({ abs, shown: displayPath(ctx.root, abs), format: detected })
  })

export { fileStem }
