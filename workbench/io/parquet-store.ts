/**
 * Artifacts as immutable Parquet files: `<dir>/artifacts/<key>/<table>[.<token>].parquet` plus
 * `manifest.json`, which records each file's size and sha256 (artifact-integrity.ts).
 *
 * Publishing never removes a good artifact before its replacement is complete: each new file is written
 * under a temporary name, hashed and fsynced (side by side), and renamed to a name no current file has;
 * then the manifest is swapped by an atomic rename, and only then are the files of the previous version
 * deleted. A failure before the swap (a full disk, Ctrl-C, a kill) leaves the previous manifest and its
 * files as they were; the files of the unfinished version are removed then, or by the next publish.
 */
import { Effect, Layer } from "effect"
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync
} from "node:fs"
import { open } from "node:fs/promises"
import { randomBytes } from "node:crypto"
import { join } from "node:path"
import { ArtifactError, type DataError, type SqlError } from "../core/errors.js"
import type { Manifest, ManifestTable } from "../core/report.js"
import { type ArtifactLookup, ArtifactStore, type PublishTable, type SqlShape } from "../core/services.js"
import { checkArtifact, hashFile } from "./artifact-integrity.js"
import { diskFullError, faultHook, isDiskFull } from "./disk-space.js"
import { sqlString } from "./sql-text.js"

export const artifactDir = (dir: string, key: string): string => join(dir, "artifacts", key)

/** The parsed manifest.json of `key`: undefined when absent, "unreadable" when it is not a manifest. */
export function readManifestFile(dir: string, key: string): Manifest | "unreadable" | undefined {
  const file = join(artifactDir(dir, key), "manifest.json")
  if (!existsSync(file)) return undefined
  try {
    const manifest = JSON.parse(readFileSync(file, "utf8")) as Manifest
    return typeof manifest === "object" &&
      manifest !== null &&
      typeof manifest.tables === "object" &&
      manifest.tables !== null
      ? manifest
      : "unreadable"
  } catch {
    return "unreadable"
  }
}

/** The manifest of an artifact with all its files present, or undefined. Checks no sizes or hashes. */
export function readManifest(dir: string, key: string): Manifest | undefined {
  const manifest = readManifestFile(dir, key)
  if (manifest === undefined || manifest === "unreadable") return undefined
  return Object.values(manifest.tables).every((t) => existsSync(join(artifactDir(dir, key), t.file)))
    ? manifest
    : undefined
}

const tempNameFor = (path: string) => `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`

function fsyncPath(path: string) {
  const fd = openSync(path, "r")
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

const fsyncAsync = async (path: string) => {
  const handle = await open(path, "r")
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/** Write text to `path` atomically (temp file, fsync, rename, fsync the directory). */
export function writeFileAtomic(path: string, text: string, directory: string) {
  const tmp = tempNameFor(path)
  try {
    writeFileSync(tmp, text)
    fsyncPath(tmp)
    renameSync(tmp, path)
  } finally {
    rmSync(tmp, { force: true })
  }
  fsyncPath(directory)
}

/** Look up `key`: its manifest when every file matches its record; damaged when one does not. */
async function lookupArtifact(dir: string, key: string, verify: boolean): Promise<ArtifactLookup> {
  const manifest = readManifestFile(dir, key)
  if (manifest === undefined) return { _tag: "Missing" }
  if (manifest === "unreadable")
    return { _tag: "Damaged", problem: "manifest.json is not a valid manifest (not JSON, or without its tables)" }
  const target = artifactDir(dir, key)
  const check = await checkArtifact(target, manifest, verify)
  if (check._tag === "Damaged") return check
  if (check.touched) {
    // content verified after a touch or copy: record the new mtimes so the next run need not hash again
    try {
      writeFileAtomic(join(target, "manifest.json"), JSON.stringify(check.manifest, null, 2), target)
    } catch {
      // a read-only workspace: the next run hashes again, which is only slower
    }
  }
  return { _tag: "Found", manifest: check.manifest }
}

/** `<table>.parquet`, or `<table>.<token>.parquet` when that name is taken (by the version being replaced). */
function freshName(target: string, table: string): string {
  const plain = `${table}.parquet`
  if (!existsSync(join(target, plain))) return plain
  for (;;) {
    const name = `${table}.${randomBytes(4).toString("hex")}.parquet`
    if (!existsSync(join(target, name))) return name
  }
}

/** Files of `target` no manifest refers to: temp files and files of an unfinished publish (killed before its swap). */
function removeStrays(target: string, keep: ReadonlySet<string>) {
  for (const f of readdirSync(target)) {
    if (f !== "manifest.json" && !keep.has(f)) rmSync(join(target, f), { force: true })
  }
}

const referenced = (m: Manifest | "unreadable" | undefined): Set<string> =>
  new Set(m === undefined || m === "unreadable" ? [] : Object.values(m.tables).map((t) => t.file))

const sizeOf = (path: string) => {
  try {
    return statSync(path).size
  } catch {
    return 0
  }
}

function publishArtifact(
  dir: string,
  sql: SqlShape,
  base: Omit<Manifest, "tables">,
  tables: Readonly<Record<string, PublishTable>>
) {
  return Effect.gen(function* () {
    const target = artifactDir(dir, base.key)
    // the version this one replaces (a forced re-run, or a damaged artifact): kept until the swap.
    // safe to clean around it: meta.duckdb's lock admits one writer per workspace
    const previous = readManifestFile(dir, base.key)
    const keep = referenced(previous)
    yield* Effect.try({
      try: () => {
        mkdirSync(target, { recursive: true })
        removeStrays(target, keep)
      },
      catch: (e) => new ArtifactError({ path: target, reason: String(e) })
    })
    const created: Array<string> = []
    let writing: { table: string; tmp: string } | undefined
    const written: Record<string, ManifestTable> = {}
    const write = Effect.gen(function* () {
      for (const [name, t] of Object.entries(tables)) {
        const file = freshName(target, name)
        const dest = join(target, file)
        const tmp = tempNameFor(dest)
        writing = { table: name, tmp }
        // FORMAT is required: the .tmp suffix would otherwise select CSV. zstd: Snappy barely shrinks text.
        yield* sql.run(
          `COPY (SELECT * FROM ${t.relation}) TO ${sqlString(tmp)} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 100000)`
        )
        const schema = yield* sql.describe(`read_parquet(${sqlString(tmp)})`)
        const rows = yield* sql.count(`read_parquet(${sqlString(tmp)})`)
        const hash = yield* Effect.tryPromise({
          // the hash (CPU, from the page cache) runs while the fsync waits on the disk: the two overlap
          try: async () => {
            faultHook(tmp)
            const [hash] = await Promise.all([hashFile(tmp), fsyncAsync(tmp)])
            return hash
          },
          catch: (e) => e
        })
        const { size, mtimeMs } = yield* Effect.try({
          try: () => {
            renameSync(tmp, dest)
            created.push(dest)
            writing = undefined
            return statSync(dest)
          },
          catch: (e) => e
        })
        written[name] = { file, rows, role: t.role, columns: schema.columns, size, hash, mtimeMs }
      }
      // the swap: once the rename is done the new version is the artifact (the directory's fsync after it
      // is for durability only, so its failure must not undo the new files the manifest now names)
      yield* Effect.try({
        try: () => {
          const manifest = join(target, "manifest.json")
          const tmp = tempNameFor(manifest)
          writing = { table: "manifest.json", tmp }
          writeFileSync(tmp, JSON.stringify({ ...base, tables: written }, null, 2))
          fsyncPath(tmp)
          renameSync(tmp, manifest)
          writing = undefined
        },
        catch: (e) => e
      })
      yield* Effect.sync(() => {
        try {
          fsyncPath(target)
        } catch {
          // see above
        }
      })
    })
    // failed or interrupted before the swap: remove every new file; the previous version is untouched
    const undo = Effect.sync(() => {
      const partial = writing === undefined ? 0 : sizeOf(writing.tmp)
      const done = Object.values(written).reduce((s, t) => s + (t.size ?? 0), 0)
      if (writing !== undefined) rmSync(writing.tmp, { force: true })
      for (const f of created) rmSync(f, { force: true })
      return { bytes: done + partial, table: writing?.table ?? Object.keys(tables).at(-1) ?? "?" }
    })
    yield* write.pipe(
      Effect.onInterrupt(() => undo),
      Effect.catch((e: unknown) =>
        undo.pipe(Effect.flatMap((u) => Effect.fail(publishError(e, base, target, u, previous))))
      )
    )
    // swapped: the previous version's files are garbage now (if deleting one fails, the next publish does it)
    for (const f of keep) {
      try {
        if (!created.includes(join(target, f))) rmSync(join(target, f), { force: true })
      } catch {
        // left for the next publish of this key
      }
    }
    return { ...base, tables: written } satisfies Manifest
  })
}

function publishError(
  e: unknown,
  base: Omit<Manifest, "tables">,
  target: string,
  undone: { readonly bytes: number; readonly table: string },
  previous: Manifest | "unreadable" | undefined
): ArtifactError | DataError | SqlError {
  if (isDiskFull(e)) {
    const sizes =
      previous === undefined || previous === "unreadable" ? [] : Object.values(previous.tables).map((t) => t.size)
    const previousSize =
      sizes.length > 0 && sizes.every((s) => typeof s === "number") ? sizes.reduce((a, b) => a! + b!, 0) : undefined
    return diskFullError({
      node: base.node,
      kind: base.kind,
      directory: target,
      table: undone.table,
      written: undone.bytes,
      previousSize
    })
  }
  if (typeof e === "object" && e !== null && "_tag" in e && (e._tag === "SqlError" || e._tag === "ArtifactError"))
    return e as SqlError
  return new ArtifactError({ path: target, reason: String(e) })
}

export const ParquetStoreLive = (dir: string) => {
  const fileOf = (manifest: Manifest, table: string) =>
    join(artifactDir(dir, manifest.key), manifest.tables[table]?.file ?? `${table}.parquet`)
  return Layer.succeed(
    ArtifactStore,
    ArtifactStore.of({
      lookup: (key, options) => Effect.promise(() => lookupArtifact(dir, key, options?.verify === true)),
      file: fileOf,
      relation: (manifest, table) => `read_parquet(${sqlString(fileOf(manifest, table))})`,
      numberedRelation: (manifest, table, part) =>
        `(SELECT * EXCLUDE (file_row_number), (${part}::BIGINT << 40) + file_row_number AS _wb_row ` +
        `FROM read_parquet(${sqlString(fileOf(manifest, table))}, file_row_number = true))`,
      publish: (sql, base, tables) => publishArtifact(dir, sql, base, tables)
    })
  )
}
