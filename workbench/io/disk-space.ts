/**
 * A full disk while publishing an artifact: how to recognise it (a Node error code, or DuckDB's text
 * for a failed write), and the message a user can act on: which disk (the directory written to), how
 * much is free, about how much the artifact needs.
 *
 * `WB_FAULT_PUBLISH=enospc` makes every publish fail as a full disk would, right after the first table
 * file has been written (tests use it where a small filesystem cannot be mounted).
 */
import { readFileSync, statfsSync } from "node:fs"
import { DataError } from "../core/errors.js"

const DISK_FULL = /ENOSPC|No space left on device|disk is full|not enough space/i

export const isDiskFull = (e: unknown): boolean =>
  (typeof e === "object" && e !== null && (e as { code?: unknown }).code === "ENOSPC") ||
  DISK_FULL.test(
    e instanceof Error ? e.message : typeof e === "object" && e !== null && "reason" in e ? String(e.reason) : String(e)
  )

/** Throws as a full disk would, when the fault hook asks for it. */
export function faultHook(path: string): void {
  if (process.env["WB_FAULT_PUBLISH"] === "enospc") {
    throw Object.assign(
      new Error(`ENOSPC: no space left on device, write '${path}' (simulated by WB_FAULT_PUBLISH=enospc)`),
      {
        code: "ENOSPC"
      }
    )
  }
}

/** Free bytes for an unprivileged writer on the disk holding `path`, or undefined when unknown. */
export function freeBytes(path: string): number | undefined {
  try {
    const s = statfsSync(path)
    return s.bavail * s.bsize
  } catch {
    return undefined
  }
}

export function formatBytes(n: number): string {
  const units = ["bytes", "KB", "MB", "GB", "TB"]
  let value = n
  let unit = 0
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000
    unit++
  }
  return unit === 0 ? `${n} bytes` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`
}

export interface DiskFullContext {
  readonly node: string
  readonly kind: string
  /** The artifact directory being written. */
  readonly directory: string
  readonly table: string
  /** Bytes of the new artifact written before the failure (finished tables plus the partial file). */
  readonly written: number
  /** Total size of the artifact this one replaces (same key, so the same content), when there is one. */
  readonly previousSize: number | undefined
}

/** The filesystem holding `path` (mount point and type), from /proc/self/mounts where there is one. */
export function mountOf(path: string): { readonly mountPoint: string; readonly type: string } | undefined {
  try {
    let best: { mountPoint: string; type: string } | undefined
    for (const line of readFileSync("/proc/self/mounts", "utf8").split("\n")) {
      const [, raw, type] = line.split(" ")
      if (raw === undefined || type === undefined) continue
      const mountPoint = raw.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)))
      const inside = mountPoint === "/" || path === mountPoint || path.startsWith(`${mountPoint}/`)
      if (inside && (best === undefined || mountPoint.length >= best.mountPoint.length)) best = { mountPoint, type }
    }
    return best
  } catch {
    return undefined
  }
}

/** The full-disk message: where, what was found (free space), what is needed, what to do. */
export function diskFullError(c: DiskFullContext): DataError {
  const free = freeBytes(c.directory)
  const mount = mountOf(c.directory)
  const disk = mount === undefined ? c.directory : `${c.directory} (${mount.type} mounted at ${mount.mountPoint})`
  const needed =
    c.previousSize !== undefined
      ? `about ${formatBytes(c.previousSize)} free for the new artifact (the size of the one it replaces)`
      : `more than ${formatBytes(c.written)} free for the new artifact (written before the disk filled up)`
  return new DataError({
    where: `node "${c.node}" (${c.kind}), writing ${c.table === "manifest.json" ? "the manifest" : `table ${c.table}`} of its artifact`,
    found:
      `no space left on the disk holding ${disk}, after ${formatBytes(c.written)} of the new artifact` +
      `${free === undefined ? "" : `; ${formatBytes(free)} free there now`}`,
    expected: needed,
    fix:
      `free space on that disk, or run with --workspace on a disk with room. ` +
      (c.previousSize !== undefined
        ? "The previous artifact of this node was kept as it was, and the partial new files were removed"
        : "The partial files were removed; nothing else in the workspace changed")
  })
}
