/**
 * Artifacts as immutable Parquet files: `<dir>/artifacts/<key>/<table>.parquet` plus `manifest.json`.
 * Each file is written under a temporary name, fsynced and renamed; the manifest is written last, so
 * an artifact without a manifest is unfinished and never served from cache (a killed run leaves at
 * most stray temp files, which the next write replaces).
 */
import { Effect, Layer } from "effect"
import { existsSync, mkdirSync, openSync, readdirSync, closeSync, fsyncSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs"
import { randomBytes } from "node:crypto"
import { join } from "node:path"
import { ArtifactError } from "../core/errors.js"
import type { Manifest, ManifestTable } from "../core/report.js"
import { ArtifactStore } from "../core/services.js"
import { sqlString } from "./sql-text.js"

export const artifactDir = (dir: string, key: string): string => join(dir, "artifacts", key)

/** The manifest of a complete artifact, or undefined (absent, unfinished, or with a file missing). */
export function readManifest(dir: string, key: string): Manifest | undefined {
  const file = join(artifactDir(dir, key), "manifest.json")
  if (!existsSync(file)) return undefined
  try {
    const manifest = JSON.parse(readFileSync(file, "utf8")) as Manifest
    const complete = Object.values(manifest.tables).every((t) => existsSync(join(artifactDir(dir, key), t.file)))
    return complete ? manifest : undefined
  } catch {
    return undefined
  }
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

/** Write text to `path` atomically (temp file, fsync, rename, fsync the directory). */
export function writeFileAtomic(path: string, text: string, directory: string) {
  const tmp = tempNameFor(path)
  writeFileSync(tmp, text)
  fsyncPath(tmp)
  renameSync(tmp, path)
  fsyncPath(directory)
}

export const ParquetStoreLive = (dir: string) =>
  Layer.succeed(ArtifactStore, ArtifactStore.of({
    lookup: (key) => Effect.sync(() => readManifest(dir, key)),
    file: (manifest, table) => join(artifactDir(dir, manifest.key), manifest.tables[table]?.file ?? `${table}.parquet`),
    relation: (manifest, table) =>
      `read_parquet(${sqlString(join(artifactDir(dir, manifest.key), manifest.tables[table]?.file ?? `${table}.parquet`))})`,
    numberedRelation: (manifest, table, part) => {
      const file = join(artifactDir(dir, manifest.key), manifest.tables[table]?.file ?? `${table}.parquet`)
      return `(SELECT * EXCLUDE (file_row_number), (${part}::BIGINT << 40) + file_row_number AS _wb_row ` +
        `FROM read_parquet(${sqlString(file)}, file_row_number = true))`
    },
    publish: (sql, base, tables) =>
      Effect.gen(function*() {
        const target = artifactDir(dir, base.key)
        yield* Effect.try({
          try: () => {
            mkdirSync(target, { recursive: true })
            rmSync(join(target, "manifest.json"), { force: true }) // a forced re-run replaces the old artifact
            // temp files of a killed run; safe to remove: meta.duckdb's lock admits one writer per workspace
            for (const f of readdirSync(target)) if (f.endsWith(".tmp")) rmSync(join(target, f), { force: true })
          },
          catch: (e) => new ArtifactError({ path: target, reason: String(e) })
        })
        const written: Record<string, ManifestTable> = {}
        for (const [name, t] of Object.entries(tables)) {
          const file = `${name}.parquet`
          const dest = join(target, file)
          const tmp = tempNameFor(dest)
          written[name] = yield* Effect.gen(function*() {
            // FORMAT is required: the .tmp suffix would otherwise select CSV. zstd: Snappy barely shrinks text.
            yield* sql.run(`COPY (SELECT * FROM ${t.relation}) TO ${sqlString(tmp)} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 100000)`)
            const schema = yield* sql.describe(`read_parquet(${sqlString(tmp)})`)
            const rows = yield* sql.count(`read_parquet(${sqlString(tmp)})`)
            yield* Effect.try({
              try: () => {
                fsyncPath(tmp)
                renameSync(tmp, dest)
              },
              catch: (e) => new ArtifactError({ path: dest, reason: String(e) })
            })
            return { file, rows, role: t.role, columns: schema.columns }
          }).pipe(
            // failed or interrupted (Ctrl-C) half way: no temp file stays behind; after the rename there is none
            Effect.ensuring(Effect.sync(() => rmSync(tmp, { force: true })))
          )
        }
        const manifest: Manifest = { ...base, tables: written }
        yield* Effect.try({
          try: () => writeFileAtomic(join(target, "manifest.json"), JSON.stringify(manifest, null, 2), target),
          catch: (e) => new ArtifactError({ path: join(target, "manifest.json"), reason: String(e) })
        })
        return manifest
      })
  }))
