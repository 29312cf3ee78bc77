/**
 * The files an export writes (core's `ExportFiles`, see workbench/core/export-files.ts): the data file,
 * through the engine's COPY into a temp file renamed over the target, the data card beside it, and the
 * record of what was written that a cached export checks. The export nodes get it as a service;
 * `wb export` calls `exportFiles` directly, so both refuse the same paths with the same messages.
 */
import { createHash, randomBytes } from "node:crypto"
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync
} from "node:fs"
import { basename, dirname, isAbsolute, join, relative, resolve } from "node:path"
import { Effect, Layer } from "effect"
import { cardSections, isDataCard, mergeCard } from "../core/data-card.js"
import { DataError, type SqlError } from "../core/errors.js"
import { type ExportCaller, ExportFiles, type ExportFilesShape, type ExportTarget } from "../core/export-files.js"
import { sqlString } from "./sql-text.js"

const inside = (dir: string, path: string) => {
  const rel = relative(dir, path)
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel))
}

const target: ExportFilesShape["target"] = (ws, to) => {
  const shownOf = (path: string) => {
    const rel = relative(ws.root, path)
    return rel !== "" && inside(ws.root, path) ? rel : path
  }
  const full = resolve(ws.root, to)
  if (ws.sample === undefined) return { path: full, shown: shownOf(full), workspace: ws.dir }
  // a path outside the project keeps its whole absolute form under files/outside/
  const rel = relative(ws.root, full)
  const path = join(
    ws.dir,
    "files",
    ...(inside(ws.root, full) && rel !== "" ? [rel] : ["outside", full.replace(/^([A-Za-z]:)?[\\/]+/, "")])
  )
  return { path, shown: shownOf(path), instead: shownOf(full), workspace: ws.dir }
}

const fsync = (path: string) => {
  const fd = openSync(path, "r")
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

/** sha256 of a file, read in 1 MiB pieces (exported files can be larger than memory wants). */
const sha256File = (path: string): string => {
  const hash = createHash("sha256")
  const buffer = Buffer.alloc(1 << 20)
  const fd = openSync(path, "r")
  try {
    for (let read = readSync(fd, buffer); read > 0; read = readSync(fd, buffer)) hash.update(buffer.subarray(0, read))
  } finally {
    closeSync(fd)
  }
  return hash.digest("hex")
}

const writeFailed = (caller: ExportCaller, shown: string, e: unknown) =>
  new DataError({
    where: caller.where,
    found: `could not write ${shown}: ${e instanceof Error ? e.message.split("\n")[0] : String(e)}`,
    expected: "a path in a folder this user may write to, on a disk with room for the file",
    fix: `pick another ${caller.option} path, or free space / fix the folder's permissions, then ${caller.again} (the previous file, if any, is unchanged)`
  })

const cardOf = (t: ExportTarget) => join(dirname(t.path), "README.md")

// ---- the record of what was written, so a cached run need not hash the file again ------------------------

const recordFile = (workspace: string, path: string) =>
  join(workspace, "exports", `${createHash("sha256").update(path).digest("hex").slice(0, 32)}.json`)

interface Written {
  readonly size: number
  readonly mtimeMs: number
  readonly sha256: string
}

const remember = (t: ExportTarget, sha256: string) => {
  try {
    const s = statSync(t.path)
    mkdirSync(join(t.workspace, "exports"), { recursive: true })
    const record: Written & { readonly path: string } = { path: t.path, size: s.size, mtimeMs: s.mtimeMs, sha256 }
    writeFileSync(recordFile(t.workspace, t.path), JSON.stringify(record))
  } catch {
    // a read-only workspace: the next cached run hashes the file again, which is only slower
  }
}

// ---- the service ------------------------------------------------------------------------------------------

const checkCardFree: ExportFilesShape["checkCardFree"] = (caller, t) =>
  Effect.gen(function* () {
    if (!existsSync(cardOf(t)) || isDataCard(readFileSync(cardOf(t), "utf8"))) return
    return yield* new DataError({
      where: caller.where,
      found: `${join(dirname(t.shown), "README.md")} exists and is not a wb data card; the export's card would replace it`,
      expected: "a folder whose README.md, if any, is a data card wb wrote",
      fix: `write the export into a folder of its own, e.g. ${caller.example(`exports/${basename(t.path)}`)}`
    })
  })

// `to` is typed by hand, and a wrong one must not cost the data it names
const checkTargetFree: ExportFilesShape["checkTargetFree"] = (caller, t) =>
  Effect.gen(function* () {
    // a sample run's files live in its own workspace on purpose (target)
    if (t.instead === undefined && inside(t.workspace, t.path)) {
      return yield* new DataError({
        where: caller.where,
        found: `${t.shown} is inside the workspace ${t.workspace}, which holds wb's run log and artifacts`,
        expected: "a path outside the workspace",
        fix: `write the export elsewhere, e.g. ${caller.example(`exports/${basename(t.path)}`)}`
      })
    }
    if (!existsSync(t.path) || existsSync(recordFile(t.workspace, t.path))) return
    if (existsSync(cardOf(t)) && cardSections(readFileSync(cardOf(t), "utf8")).has(basename(t.path))) return
    return yield* new DataError({
      where: caller.where,
      found: `${t.shown} exists and was not written by a wb export (no record of it in the workspace, and no data card beside it names it)`,
      expected: "a path that is free, or a file a wb export wrote",
      fix: `pick another ${caller.option} path (e.g. ${caller.example(`exports/${basename(t.path)}`)}), or move the file away if it should be replaced`
    })
  })

const writeData: ExportFilesShape["writeData"] = ({ sql, caller, select, target: t, format, expected }) =>
  Effect.gen(function* () {
    const tmp = join(dirname(t.path), `.${basename(t.path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`)
    const cleanup = Effect.sync(() => rmSync(tmp, { force: true }))
    yield* Effect.try({
      try: () => mkdirSync(dirname(t.path), { recursive: true }),
      catch: (e) => writeFailed(caller, t.shown, e)
    })
    // FORMAT is always spelled out: the .tmp suffix would otherwise make DuckDB write CSV
    const copied = yield* sql.rows(`COPY (${select}) TO ${sqlString(tmp)} (${format.copy})`).pipe(
      Effect.mapError((e: SqlError) => writeFailed(caller, t.shown, new Error(e.reason))),
      Effect.onError(() => cleanup)
    )
    // the engine's own count of the rows it wrote (its result is one row, one column)
    const rows = Number(Object.values(copied[0] ?? {})[0] ?? -1)
    const sha256 = yield* Effect.try({
      try: () => sha256File(tmp),
      catch: (e) => writeFailed(caller, t.shown, e)
    }).pipe(Effect.onError(() => cleanup))
    if (expected !== undefined && sha256 !== expected) {
      // the artifact's rows are not those the export wrote: bit rot that its size and mtime check let through
      yield* cleanup
      return yield* new DataError({
        where: caller.where,
        found:
          `rewriting ${t.shown} from the cached artifact gave other content (sha256 ${sha256.slice(0, 16)}…) ` +
          `than the export recorded (sha256 ${expected.slice(0, 16)}…): the artifact is damaged`,
        expected: "the rows the export wrote, byte for byte; a damaged artifact is not written out",
        fix: "run again with --verify: it hashes every cached artifact and recomputes the damaged ones (and the file)"
      })
    }
    const bytes = yield* Effect.try({
      try: () => {
        fsync(tmp)
        renameSync(tmp, t.path)
        fsync(dirname(t.path))
        return statSync(t.path).size
      },
      catch: (e) => writeFailed(caller, t.shown, e)
    }).pipe(Effect.onError(() => cleanup))
    remember(t, sha256)
    return { rows, bytes, sha256 }
  })

/** The card beside the target, with this file's section replaced (a temp file renamed, like the data). */
const writeCard: ExportFilesShape["writeCard"] = (caller, t, section) =>
  Effect.try({
    try: () => {
      const card = cardOf(t)
      const old = existsSync(card) ? readFileSync(card, "utf8") : undefined
      const text = mergeCard(old, basename(t.path), section, (f) => existsSync(join(dirname(t.path), f)))
      const tmp = `${card}.${process.pid}.tmp`
      writeFileSync(tmp, text)
      renameSync(tmp, card)
      return card
    },
    catch: (e) => writeFailed(caller, join(dirname(t.shown), "README.md"), e)
  })

const fileState: ExportFilesShape["fileState"] = (t, sha256) =>
  Effect.sync(() => {
    if (!existsSync(t.path)) return "missing"
    const s = statSync(t.path)
    try {
      const r = JSON.parse(readFileSync(recordFile(t.workspace, t.path), "utf8")) as Written
      if (r.size === s.size && r.mtimeMs === s.mtimeMs && r.sha256 === sha256) return "same"
    } catch {
      // no record: hash it
    }
    return sha256File(t.path) === sha256 ? "same" : "changed"
  })

const cardHolds: ExportFilesShape["cardHolds"] = (t, section) =>
  Effect.sync(
    () => existsSync(cardOf(t)) && cardSections(readFileSync(cardOf(t), "utf8")).get(basename(t.path)) === section
  )

export const exportFiles: ExportFilesShape = {
  target,
  checkCardFree,
  checkTargetFree,
  writeData,
  writeCard,
  fileState,
  cardHolds
}

export const ExportFilesLive = Layer.succeed(ExportFiles, ExportFiles.of(exportFiles))
