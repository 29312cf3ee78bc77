/**
 * What nodes that read files (loaders, judge.recorded) need from the file system, kept in one place
 * (nodes/lib/, as several families share it): resolving a param path against the project root, fingerprints for the cache key, directory listings for "what exists nearby" hints,
 * and a peek at a file's first bytes (gzip-aware) to tell a JSON array from JSON Lines.
 *
 * A fingerprint is each file's path relative to the project root, its size and a hash of its
 * content, so the cache survives what does not change a file's bytes: cloning or copying the
 * project to another path, `touch`, a checkout that rewrites mtimes. Hashing every input on every
 * run would cost ~1 s per GB, so the hashes are remembered in the workspace
 * (`<workspace>/file-hashes.json`, keyed by absolute path, size, mtime and ctime): an unchanged file
 * is only stat'ed, and only a file whose size, mtime or ctime moved is read again.
 *
 * Gotchas
 * - A hash is not remembered for a file modified in the last 2 seconds: a write landing in the same
 *   mtime tick as the hashing would leave a stale entry that still matches (git's "racy clean" case).
 */
import { createHash } from "node:crypto"
import {
  closeSync,
  existsSync,
  fstatSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  statSync,
  type Stats,
  writeFileSync
} from "node:fs"
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path"
import { Worker } from "node:worker_threads"
import { constants, gunzipSync } from "node:zlib"
import { xxh64Range, xxh64WorkerSource } from "./xxh64.js"

/** A param path resolved against the workspace root. */
export const resolvePath = (root: string, path: string): string => (isAbsolute(path) ? path : resolve(root, path))

/** How to show a path to the user: relative to the root when inside it. */
export function displayPath(root: string, abs: string): string {
  const rel = relative(root, abs)
  return rel !== "" && !rel.startsWith("..") && !isAbsolute(rel) ? rel.split(sep).join("/") : abs
}

const statOf = (abs: string) => {
  try {
    return statSync(abs)
  } catch {
    return undefined
  }
}

export const isFile = (abs: string): boolean => statOf(abs)?.isFile() ?? false
export const isDirectory = (abs: string): boolean => statOf(abs)?.isDirectory() ?? false

/** Entries of a directory, sorted, directories marked with a trailing "/"; [] when unreadable. */
export function listDirectory(abs: string): Array<string> {
  try {
    return readdirSync(abs, { withFileTypes: true })
      .map((e) => (e.isDirectory() ? `${e.name}/` : e.name))
      .sort()
  } catch {
    return []
  }
}

/** The nearest existing directory at or above `abs`'s parent, with its entries (for hints). */
export function nearestExisting(abs: string): { readonly dir: string; readonly entries: ReadonlyArray<string> } {
  let dir = dirname(abs)
  while (!isDirectory(dir) && dirname(dir) !== dir) dir = dirname(dir)
  return { dir, entries: listDirectory(dir) }
}

/** The remembered hashes: absolute path -> the size and mtime it had when hashed, and the hash. */
type HashCache = Record<
  string,
  { readonly size: number; readonly mtimeMs: number; readonly ctimeMs?: number; readonly hash: string }
>

const HASH_CACHE = "file-hashes.json"
const RACY_MS = 2000

function readHashCache(workspace: string | undefined): HashCache {
  if (workspace === undefined) return {}
  try {
    const parsed: unknown = JSON.parse(readFileSync(join(workspace, HASH_CACHE), "utf8"))
    return parsed !== null && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as HashCache) : {}
  } catch {
    return {} // no cache yet, or a damaged one: hash again
  }
}

/** Write the cache (atomically: a concurrent reader sees the old or the new file), dropping files that are gone. */
function writeHashCache(workspace: string, cache: HashCache): void {
  if (!existsSync(workspace)) return // `wb ls` before any run: do not create the workspace for a cache
  const kept = Object.fromEntries(Object.entries(cache).filter(([abs]) => existsSync(abs)))
  const tmp = join(workspace, `${HASH_CACHE}.${process.pid}.tmp`)
  try {
    writeFileSync(tmp, JSON.stringify(kept))
    renameSync(tmp, join(workspace, HASH_CACHE))
  } catch {
    // a read-only workspace: the next run hashes again, which is slower but still right
  }
}

/** sha1 of bytes [start, end) of an open file, read in 4 MiB chunks. */
function sha1Range(fd: number, start: number, end: number): string {
  const hash = createHash("sha1")
  const buf = Buffer.alloc(1 << 22)
  for (let at = start; at < end; ) {
    const n = readSync(fd, buf, 0, Math.min(buf.length, end - at), at)
    if (n === 0) break // the file shrank while being read: the stat after the run catches it
    hash.update(buf.subarray(0, n))
    at += n
  }
  return hash.digest("hex")
}

/** From this size on, a file is hashed as two halves with XXH64, one on a worker thread (see `hashFile`). */
const SPLIT_MIN = 64 * 1024 * 1024

/**
 * The worker that hashes the second half: plain JS (`eval: true`) so it runs the same from the sources
 * and from the built package. state[0]: 0 running, 1 done (hex in `out`), 2 failed; state[1]: MiB read.
 */
const halfWorker = () => `
const { workerData } = require("node:worker_threads")
const state = new Int32Array(workerData.state)
try {
  const { openSync, closeSync } = require("node:fs")
  ${xxh64WorkerSource()}
  const { path, start, end, out } = workerData
  const fd = openSync(path, "r")
  try {
    const hex = xxh64Range(fd, start, end, (bytes) => Atomics.store(state, 1, 1 + Math.floor(bytes / 1048576)))
    new Uint8Array(out).set(Buffer.from(hex, "latin1"))
  } finally {
    closeSync(fd)
  }
  Atomics.store(state, 0, 1)
} catch {
  Atomics.store(state, 0, 2)
}
Atomics.notify(state, 0)
`

/**
 * A worker that has not read its first MiB this long after this thread finished its half (it never
 * started), or that stops making progress for STALL_MS, is given up on: this thread hashes its half itself.
 */
const START_MS = 5_000
const STALL_MS = 30_000

/**
 * The content hash of a file. Below 64 MiB: sha1 (`sha1:<hex>`), fast enough there and what existing
 * caches hold. From 64 MiB: XXH64 of each half at once, the second on a worker thread, named by both
 * (`xxh64x2:<first>.<second>`): 0.25 s on the 855 MB JSONL of `npm run bench:dedupe` with 2 cores,
 * against 0.95 s for one sha1 (1.5 GB/s) and 0.45 s for sha1 halves, time every first run pays before
 * anything starts. Content naming for the cache, not security (no adversary picks the bytes): 2 × 64
 * bits leaves accidental collisions out of reach. The split does not depend on the machine, so a file
 * has the same hash everywhere; this thread waits for the worker (the fingerprint API is synchronous)
 * and hashes the second half itself if the worker fails or stalls.
 */
export function hashFile(abs: string, workerSource: () => string = halfWorker): string {
  const fd = openSync(abs, "r")
  try {
    const size = fstatSync(fd).size
    // without WebAssembly (node --jitless) no XXH64: one sha1, slower but the same guarantee
    if (size < SPLIT_MIN || typeof WebAssembly === "undefined") return `sha1:${sha1Range(fd, 0, size)}`
    const half = Math.floor(size / 2)
    const state = new SharedArrayBuffer(8),
      out = new SharedArrayBuffer(16)
    const flags = new Int32Array(state)
    let worker: Worker | undefined
    try {
      worker = new Worker(workerSource(), { eval: true, workerData: { path: abs, start: half, end: size, state, out } })
      worker.unref()
      // a worker that dies before its try (it cannot start) says so here, after this thread gave up on it
      worker.on("error", () => {})
    } catch {
      Atomics.store(flags, 0, 2) // no worker threads here: both halves on this thread
    }
    const first = xxh64Range(fd, 0, half)
    // state[1]: 0 until the worker has read its first chunk, then 1 + MiB read
    let progress = 0,
      since = Date.now()
    while (Atomics.load(flags, 0) === 0) {
      Atomics.wait(flags, 0, 0, 250)
      const now = Atomics.load(flags, 1)
      if (now !== progress) {
        progress = now
        since = Date.now()
      } else if (Date.now() - since > (progress === 0 ? START_MS : STALL_MS)) break
    }
    const second =
      Atomics.load(flags, 0) === 1 ? Buffer.from(new Uint8Array(out)).toString("latin1") : xxh64Range(fd, half, size)
    if (Atomics.load(flags, 0) === 0) void worker?.terminate()
    return `xxh64x2:${first}.${second}`
  } finally {
    closeSync(fd)
  }
}

/** How a fingerprint names a file: relative to the root when inside it, so a moved project keeps its keys. */
const portablePath = (root: string, abs: string) => displayPath(root, abs)

/**
 * Cache-key material for the files a loader reads: for each, its path relative to `root`, its size
 * and its content hash, or "missing". Paths are resolved against `root`; a directory contributes
 * every file directly inside it. `workspace`: where the hashes are remembered between runs (none:
 * every file is hashed each time).
 */
export function fileFingerprint(root: string, paths: ReadonlyArray<string>, workspace?: string): string {
  if (workspace === "") workspace = undefined
  const cache = readHashCache(workspace)
  let changed = false
  const entry = (abs: string, st: Stats) => {
    const known = cache[abs]
    // ctime too: an edit that keeps the size, with its mtime put back (touch -r, cp -p, rsync -t), moves
    // only the ctime, which no tool can set back (a chmod or a copy moves it as well: one hash more)
    if (known !== undefined && known.size === st.size && known.mtimeMs === st.mtimeMs && known.ctimeMs === st.ctimeMs) {
      return known.hash
    }
    const hash = hashFile(abs)
    if (Date.now() - Math.max(st.mtimeMs, st.ctimeMs) > RACY_MS) {
      cache[abs] = { size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, hash }
      changed = true
    }
    return hash
  }
  const parts: Array<string> = []
  for (const p of paths) {
    const abs = resolvePath(root, p)
    const st = statOf(abs)
    if (st === undefined) parts.push(`${portablePath(root, abs)}:missing`)
    else if (st.isDirectory()) {
      for (const name of listDirectory(abs).filter((n) => !n.endsWith("/"))) {
        const f = resolve(abs, name)
        const fst = statOf(f)
        if (fst !== undefined) parts.push(`${portablePath(root, f)}:${fst.size}:${entry(f, fst)}`)
      }
    } else parts.push(`${portablePath(root, abs)}:${st.size}:${entry(abs, st)}`)
  }
  if (changed && workspace !== undefined) writeHashCache(workspace, cache)
  return parts.join("\n")
}

/** The first bytes of a file, decompressed when it is gzip'd; empty when unreadable. */
export function peekText(abs: string, bytes = 4096): string {
  let fd: number | undefined
  try {
    fd = openSync(abs, "r")
    const buf = Buffer.alloc(bytes)
    const n = readSync(fd, buf, 0, bytes, 0)
    const head = buf.subarray(0, n)
    const gz = head[0] === 0x1f && head[1] === 0x8b
    // a truncated gzip stream: flush what was decoded instead of failing on the missing end
    return (gz ? gunzipSync(head, { finishFlush: constants.Z_SYNC_FLUSH }) : head).toString("utf8")
  } catch {
    return ""
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}

/** A file name without directory and without data/compression extensions ("a/b.jsonl.gz" -> "b"). */
export const fileStem = (path: string): string =>
  basename(path)
    .replace(/\.(gz|gzip|zst|zstd)$/i, "")
    .replace(/\.(jsonl|ndjson|json|csv|tsv|parquet|pq)$/i, "")
