/**
 * The files an export writes: the data file, through the engine's COPY into a temp file renamed over
 * the target (so a reader never sees half a file and a failed write leaves the old one), the data card
 * beside it, and the record of what was written that the cache key checks.
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
import { Effect } from "effect"
import { cardSections, isDataCard, mergeCard } from "../../workbench/core/data-card.js"
import { DataError, type SqlError } from "../../workbench/core/errors.js"
import type { SqlShape } from "../../workbench/core/services.js"
import type { FileFormat } from "./format.js"

/** Where the export goes: `to` resolved against the project root, and as the user should read it. */
export interface Target {
  readonly path: string
  readonly shown: string
}

export const targetOf = (root: string, to: string): Target => {
  const path = resolve(root, to)
  const rel = relative(root, path)
  return { path, shown: rel === "" || rel.startsWith("..") || isAbsolute(rel) ? path : rel }
}

const sqlText = (s: string) => `'${s.replaceAll("'", "''")}'`

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

const writeFailed = (where: string, target: Target, e: unknown) =>
  new DataError({
    where,
    found: `could not write ${target.shown}: ${e instanceof Error ? e.message.split("\n")[0] : String(e)}`,
    expected: "a path in a folder this user may write to, on a disk with room for the file",
    fix: "pick another `to` path, or free space / fix the folder's permissions, then run again (the previous file, if any, is unchanged)"
  })

/**
 * COPY `select` to the target atomically; returns its size and sha256. A failure removes the temp
 * file and leaves any previous file as it was.
 */
export const writeData = (sql: SqlShape, where: string, select: string, target: Target, format: FileFormat) =>
  Effect.gen(function* () {
    const tmp = join(
      dirname(target.path),
      `.${basename(target.path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`
    )
    const cleanup = Effect.sync(() => rmSync(tmp, { force: true }))
    yield* Effect.try({
      try: () => mkdirSync(dirname(target.path), { recursive: true }),
      catch: (e) => writeFailed(where, target, e)
    })
    // FORMAT is always spelled out: the .tmp suffix would otherwise make DuckDB write CSV
    yield* sql.run(`COPY (${select}) TO ${sqlText(tmp)} (${format.copy})`).pipe(
      Effect.mapError((e: SqlError) => writeFailed(where, target, new Error(e.reason))),
      Effect.onError(() => cleanup)
    )
    return yield* Effect.try({
      try: () => {
        fsync(tmp)
        renameSync(tmp, target.path)
        fsync(dirname(target.path))
        return { bytes: statSync(target.path).size, sha256: sha256File(target.path) }
      },
      catch: (e) => writeFailed(where, target, e)
    }).pipe(Effect.onError(() => cleanup))
  })

/**
 * Fails when the folder already holds a README.md that is not a wb data card (a project's own): the
 * card would replace it. Checked before anything is written.
 */
export const checkCardFree = (where: string, target: Target) =>
  Effect.gen(function* () {
    const card = join(dirname(target.path), "README.md")
    if (!existsSync(card) || isDataCard(readFileSync(card, "utf8"))) return
    return yield* new DataError({
      where,
      found: `${join(dirname(target.shown), "README.md")} exists and is not a wb data card; the export's card would replace it`,
      expected: "a folder whose README.md, if any, is a data card wb wrote",
      fix: `write the export into a folder of its own, e.g. "exports/${basename(target.path)}"`
    })
  })

/** The card beside the target, with this file's section replaced (a temp file renamed, like the data). */
export const writeCard = (where: string, target: Target, section: string) =>
  Effect.try({
    try: () => {
      const card = join(dirname(target.path), "README.md")
      const old = existsSync(card) ? readFileSync(card, "utf8") : undefined
      const text = mergeCard(old, basename(target.path), section, (f) => existsSync(join(dirname(target.path), f)))
      const tmp = `${card}.${process.pid}.tmp`
      writeFileSync(tmp, text)
      renameSync(tmp, card)
      return card
    },
    catch: (e) => writeFailed(where, { path: join(dirname(target.path), "README.md"), shown: "README.md" }, e)
  })

// ---- on a cache hit: is the file still what the artifact says was written? --------------------------------

const recordFile = (workspace: string, path: string) =>
  join(workspace, "exports", `${createHash("sha256").update(path).digest("hex").slice(0, 32)}.json`)

interface Written {
  readonly size: number
  readonly mtimeMs: number
  readonly sha256: string
}

/** Remember the file's size and mtime with its hash, so a cached run need not hash it again. */
export const rememberWrite = (workspace: string, target: Target, sha256: string) =>
  Effect.sync(() => {
    try {
      const s = statSync(target.path)
      mkdirSync(join(workspace, "exports"), { recursive: true })
      const record: Written & { readonly path: string } = {
        path: target.path,
        size: s.size,
        mtimeMs: s.mtimeMs,
        sha256
      }
      writeFileSync(recordFile(workspace, target.path), JSON.stringify(record))
    } catch {
      // a read-only workspace: the next cached run hashes the file again, which is only slower
    }
  })

/**
 * What is at the target now, compared with the file the artifact records: "same", "missing" or
 * "changed". Unchanged size and mtime since wb last wrote or checked it: no hashing.
 */
export const fileState = (workspace: string, target: Target, sha256: string) =>
  Effect.sync((): "same" | "missing" | "changed" => {
    if (!existsSync(target.path)) return "missing"
    const s = statSync(target.path)
    try {
      const r = JSON.parse(readFileSync(recordFile(workspace, target.path), "utf8")) as Written
      if (r.size === s.size && r.mtimeMs === s.mtimeMs && r.sha256 === sha256) return "same"
    } catch {
      // no record: hash it
    }
    return sha256File(target.path) === sha256 ? "same" : "changed"
  })

/** Whether the card beside the target holds exactly this section. */
export const cardHolds = (target: Target, section: string) =>
  Effect.sync(() => {
    const card = join(dirname(target.path), "README.md")
    return existsSync(card) && cardSections(readFileSync(card, "utf8")).get(basename(target.path)) === section
  })
