/**
 * The `ExportFiles` service: how a table leaves wb as a file outside the workspace. The export nodes
 * (through this tag) and `wb export` (through io's implementation, `workbench/io/export-files.ts`)
 * write the same way and refuse the same paths:
 *
 * - `to` resolves against the project root; in a sample run, under `<sample workspace>/files/`, so a
 *   sample never replaces a full run's file;
 * - refused before anything is written: a path inside the workspace (wb's run log and artifacts), an
 *   existing file wb has no record of writing and no data card beside it names (the pipeline's own
 *   input, a user's file), a folder whose README.md is not a wb data card;
 * - the data goes through the engine's COPY into a temp file, fsync'd and renamed over the target (a
 *   reader never sees half a file; a failed write leaves the old one), with its sha256; a file rewritten
 *   from a cached artifact must have the sha256 recorded when it was first written;
 * - each write is recorded in the workspace (size, mtime, sha256), so a cached export need not hash its
 *   file again to know it is unchanged; the data card section beside the file is merged into README.md.
 *
 * A core service like Sql, Progress and Workspace: every run provides it, and a node never lists it.
 */
import { Context, type Effect } from "effect"
import type { DataError } from "./errors.js"
import type { FileFormat } from "./export-format.js"
import type { SqlShape, Workspace } from "./services.js"

/** Where an export's file goes. */
export interface ExportTarget {
  /** Absolute path of the file. */
  readonly path: string
  /** The path as the user should read it: relative to the root when inside it. */
  readonly shown: string
  /** In a sample run: the file a full run writes (as shown), which the sample leaves alone. */
  readonly instead?: string
  /** The workspace the write is recorded in, and that the file may not be inside. */
  readonly workspace: string
}

/** Who writes, for messages: a node's `to` param, or `wb export --to`. */
export interface ExportCaller {
  /** Where messages point: `node "trl" (export.trl) param to`, `wb export --to out.csv`. */
  readonly where: string
  /** How the user names the file: "`to`" (a param) or "--to" (a flag). */
  readonly option: string
  /** A path as the user would write it there: `"exports/x.jsonl"`, `--to exports/x.jsonl`. */
  readonly example: (path: string) => string
  /** What to do once the problem is fixed: "run again", "export again". */
  readonly again: string
}

/** What a write made: rows as the engine counted them, the file's size and its sha256. */
export interface ExportWritten {
  readonly rows: number
  readonly bytes: number
  readonly sha256: string
}

export interface ExportFilesShape {
  /**
   * The target of `to` for a workspace (`root`: where `to` resolves; `dir`: the workspace; `sample`:
   * a sample run, whose files go under `<dir>/files/`).
   */
  readonly target: (workspace: Workspace["Service"], to: string) => ExportTarget
  /** Fails when the folder holds a README.md that is not a wb data card (a project's own): the card would replace it. */
  readonly checkCardFree: (caller: ExportCaller, target: ExportTarget) => Effect.Effect<void, DataError>
  /** Fails when the target is inside the workspace, or is a file wb has no record of writing and no data card names. */
  readonly checkTargetFree: (caller: ExportCaller, target: ExportTarget) => Effect.Effect<void, DataError>
  /**
   * COPY `select` (on `sql`, the caller's connection) to the target atomically and record the write.
   * `expected`: the sha256 the content must have (a file rewritten from a cached artifact); other
   * content fails and nothing is written.
   */
  readonly writeData: (write: {
    readonly sql: SqlShape
    readonly caller: ExportCaller
    readonly select: string
    readonly target: ExportTarget
    readonly format: FileFormat
    readonly expected?: string
  }) => Effect.Effect<ExportWritten, DataError>
  /** Merge `section` (the target's) into the data card beside the target; returns the card's path. */
  readonly writeCard: (caller: ExportCaller, target: ExportTarget, section: string) => Effect.Effect<string, DataError>
  /** The file at the target against the sha256 an export recorded: unchanged size and mtime since wb wrote it need no hashing. */
  readonly fileState: (target: ExportTarget, sha256: string) => Effect.Effect<"same" | "missing" | "changed">
  /** Whether the card beside the target holds exactly this section. */
  readonly cardHolds: (target: ExportTarget, section: string) => Effect.Effect<boolean>
}

export class ExportFiles extends Context.Service<ExportFiles, ExportFilesShape>()("wb/ExportFiles") {}
