/**
 * Integrity of published artifacts: every file's size, modification time and content hash are recorded
 * in the manifest when it is written, and checked before an artifact is served.
 *
 * The hash is sha256 from node's crypto (OpenSSL). Measured with `bench/artifact-hash.ts` on this
 * project's 2-core machine (CPU with SHA extensions), 200 MiB in memory: sha256 1,178 MB/s, sha1 1,483,
 * md5 650, blake2b512 761, DuckDB's md5 / sha256 over `read_blob` 451 / 190; a plain-JS XXH32 reached
 * 3,797 MB/s but gives only 32 bits, and a JS XXH64/XXH3 must emulate 64-bit multiplies (several times
 * the work of XXH32, so no faster than native sha256). sha256 is standard (`sha256sum` checks it), long
 * enough to identify content. At publish it runs beside each file's fsync; it costs ~1.2 s per GB of
 * Parquet (875 MB/s streamed), e.g. ~0.2 s for the ~180 MB of artifacts of the 1M-pair bench:dedupe.
 *
 * What is checked when:
 * - size (one `stat` per file) on every cache hit: catches truncation and missing files for free;
 * - the content hash when the mtime differs from the record (a file rewritten in place), and on every
 *   file when asked (`wb run --verify`): catches bit flips. A file whose mtime changed but whose content
 *   is intact gets its new mtime recorded by the caller, so it is hashed once, not on every run.
 */
import { createHash } from "node:crypto"
import { closeSync, createReadStream, openSync, readSync, statSync } from "node:fs"
import { join } from "node:path"
import type { Manifest, ManifestTable } from "../core/report.js"

export const HASH_PREFIX = "sha256:"
const CHUNK = 1024 * 1024

/** `sha256:<hex>` of a file, read in 1 MiB chunks, yielding to the event loop between them. */
export const hashFile = (path: string): Promise<string> =>
  new Promise((resolve, reject) => {
    const hash = createHash("sha256")
    createReadStream(path, { highWaterMark: CHUNK })
      .on("data", (chunk) => hash.update(chunk))
      .on("error", reject)
      .on("end", () => resolve(HASH_PREFIX + hash.digest("hex")))
  })

/** The same, synchronously (for commands that only read, such as `wb show`). */
export function hashFileSync(path: string): string {
  const hash = createHash("sha256")
  const buffer = Buffer.allocUnsafe(CHUNK)
  const fd = openSync(path, "r")
  try {
    for (let n = readSync(fd, buffer, 0, CHUNK, null); n > 0; n = readSync(fd, buffer, 0, CHUNK, null)) {
      hash.update(buffer.subarray(0, n))
    }
  } finally {
    closeSync(fd)
  }
  return HASH_PREFIX + hash.digest("hex")
}

/** One file of an artifact that does not match its record. */
export interface FileDamage {
  readonly file: string
  readonly found: string
  readonly recorded: string
}

export type ArtifactCheck =
  | { readonly _tag: "Intact"; readonly manifest: Manifest; readonly touched: boolean }
  | { readonly _tag: "Damaged"; readonly problem: string }

const bytes = (n: number) => `${n.toLocaleString("en-US")} bytes`
const shortHash = (h: string) => (h.startsWith(HASH_PREFIX) ? `${h.slice(0, HASH_PREFIX.length + 16)}…` : h)

/** Manifests written before integrity records existed lack them: such an artifact cannot be checked. */
const unrecorded = (m: Manifest) =>
  Object.values(m.tables).some(
    (t) => typeof t.size !== "number" || typeof t.hash !== "string" || typeof t.mtimeMs !== "number"
  )

interface Pending {
  readonly table: string
  readonly path: string
  readonly t: ManifestTable
  readonly mtimeMs: number
}

/** The size check (one stat per file), and the files whose content must be hashed. */
function statCheck(directory: string, manifest: Manifest, verify: boolean) {
  const damage: Array<FileDamage> = []
  const pending: Array<Pending> = []
  for (const [table, t] of Object.entries(manifest.tables)) {
    const path = join(directory, t.file)
    let size: number, mtimeMs: number
    try {
      ;({ size, mtimeMs } = statSync(path))
    } catch {
      damage.push({ file: t.file, found: "no file", recorded: bytes(t.size!) })
      continue
    }
    if (size !== t.size) damage.push({ file: t.file, found: bytes(size), recorded: bytes(t.size!) })
    else if (verify || mtimeMs !== t.mtimeMs) pending.push({ table, path, t, mtimeMs })
  }
  return { damage, pending }
}

function conclude(
  manifest: Manifest,
  damage: Array<FileDamage>,
  pending: ReadonlyArray<Pending>,
  hashes: ReadonlyArray<string>
): ArtifactCheck {
  const tables: Record<string, ManifestTable> = { ...manifest.tables }
  let touched = false
  pending.forEach((p, i) => {
    if (hashes[i] !== p.t.hash) {
      damage.push({ file: p.t.file, found: `content hash ${shortHash(hashes[i]!)}`, recorded: shortHash(p.t.hash!) })
    } else if (p.mtimeMs !== p.t.mtimeMs) {
      touched = true
      tables[p.table] = { ...p.t, mtimeMs: p.mtimeMs }
    }
  })
  if (damage.length > 0) {
    return {
      _tag: "Damaged",
      problem: damage.map((d) => `${d.file}: found ${d.found}, the manifest recorded ${d.recorded}`).join("; ")
    }
  }
  return { _tag: "Intact", manifest: { ...manifest, tables }, touched }
}

const NO_RECORDS: ArtifactCheck = {
  _tag: "Damaged",
  problem: "manifest.json has no size and content hash records (written by an older wb), so its files cannot be checked"
}

/**
 * Check every file of an artifact against its record: size always, the content hash when the mtime
 * moved or when `verify` is set. `touched`: intact, but some mtimes moved (the returned manifest has
 * the new ones, for the caller to record).
 */
export async function checkArtifact(directory: string, manifest: Manifest, verify: boolean): Promise<ArtifactCheck> {
  if (unrecorded(manifest)) return NO_RECORDS
  const { damage, pending } = statCheck(directory, manifest, verify)
  const hashes: Array<string> = []
  for (const p of pending) hashes.push(await hashFile(p.path).catch((e) => `unreadable (${String(e)})`))
  return conclude(manifest, damage, pending, hashes)
}

/** The same, synchronously. */
export function checkArtifactSync(directory: string, manifest: Manifest, verify: boolean): ArtifactCheck {
  if (unrecorded(manifest)) return NO_RECORDS
  const { damage, pending } = statCheck(directory, manifest, verify)
  const hashes = pending.map((p) => {
    try {
      return hashFileSync(p.path)
    } catch (e) {
      return `unreadable (${String(e)})`
    }
  })
  return conclude(manifest, damage, pending, hashes)
}
