/**
 * What loaders need from the file system, kept in one place: resolving a param path against the
 * workspace root, fingerprints for the cache key (path + size + mtime, so an edited file invalidates
 * cached outputs), directory listings for "what exists nearby" hints, and a peek at a file's first
 * bytes (gzip-aware) to tell a JSON array from JSON Lines.
 */
import { closeSync, openSync, readdirSync, readSync, statSync } from "node:fs"
import { basename, dirname, isAbsolute, relative, resolve, sep } from "node:path"
import { constants, gunzipSync } from "node:zlib"

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

/**
 * Cache-key material for the files a loader reads: path, size and mtime of each, or "missing".
 * Paths are resolved against `root`; directories contribute every file directly inside them.
 */
export function fileFingerprint(root: string, paths: ReadonlyArray<string>): string {
  const parts: Array<string> = []
  for (const p of paths) {
    const abs = resolvePath(root, p)
    const st = statOf(abs)
    if (st === undefined) parts.push(`${abs}:missing`)
    else if (st.isDirectory()) {
      for (const name of listDirectory(abs).filter((n) => !n.endsWith("/"))) {
        const f = statOf(resolve(abs, name))
        if (f !== undefined) parts.push(`${resolve(abs, name)}:${f.size}:${f.mtimeMs}`)
      }
    } else parts.push(`${abs}:${st.size}:${st.mtimeMs}`)
  }
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
  basename(path).replace(/\.(gz|gzip)$/i, "").replace(/\.(jsonl|ndjson|json|csv|tsv|parquet|pq)$/i, "")
