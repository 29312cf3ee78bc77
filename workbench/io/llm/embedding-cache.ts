/**
 * The durable embedding cache: `<workspace>/llm-cache/embed-<provider>-<model>-<hash>.f32`, one
 * binary record per text: the sha256 of (provider, model, text) (32 bytes), the vector's length (u32
 * LE) and the vector (float32 LE). Binary, not JSON lines: a 100k-pair set at 768 dimensions is
 * ~900 MB of floats, which JSON would triple and parse slowly.
 *
 * Like the response cache (response-cache.ts): vectors are appended as they arrive (one write per turn
 * of the event loop), fsync'd at least every second and when the last client closes; a torn last
 * record (a kill mid-write) is cut off on load, so later records stay aligned. The file is read on
 * the first lookup, not on open: a judge's client never loads it. Shared per file, counted references.
 */
import type { Effect, Scope } from "effect"
import { createHash, hash } from "node:crypto"
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, truncateSync, writeSync } from "node:fs"
import { join } from "node:path"
import { openSharedFile } from "./shared-cache-file.js"
import type { DataError } from "../../core/errors.js"
import type { ModelIdentity } from "./response-cache.js"

const KEY_BYTES = 32

/** The cache key of one text for one model (base64 of a sha256). */
export const embedKey = (identity: ModelIdentity, text: string): string =>
  hash("sha256", JSON.stringify(["wb-embed-1", identity.provider, identity.model, text]), "base64")

export interface EmbeddingCache {
  readonly file: string
  readonly get: (key: string) => Float32Array | undefined
  readonly put: (key: string, vector: Float32Array) => void
  readonly size: () => number
}

class EmbeddingFile implements EmbeddingCache {
  private vectors: Map<string, Float32Array> | undefined
  private pending: Array<Buffer> = []
  private fd: number | undefined
  private dirty = false
  private scheduled = false
  private broken: string | undefined
  private readonly syncTimer: ReturnType<typeof setInterval>
  refs = 0

  constructor(readonly file: string) {
    this.syncTimer = setInterval(() => this.sync(), 1000)
    this.syncTimer.unref()
  }

  /** Read the file once; records after a torn one cannot be trusted to align, so the tail is cut. */
  private loaded(): Map<string, Float32Array> {
    if (this.vectors !== undefined) return this.vectors
    const vectors = new Map<string, Float32Array>()
    if (existsSync(this.file)) {
      const buf = readFileSync(this.file)
      let at = 0
      while (at + KEY_BYTES + 4 <= buf.length) {
        const dim = buf.readUInt32LE(at + KEY_BYTES)
        const end = at + KEY_BYTES + 4 + dim * 4
        if (end > buf.length) break
        const v = new Float32Array(dim)
        // a copy: a Buffer's offset need not be a multiple of 4, which a Float32Array view requires
        new Uint8Array(v.buffer).set(buf.subarray(at + KEY_BYTES + 4, end))
        vectors.set(buf.toString("base64", at, at + KEY_BYTES), v)
        at = end
      }
      if (at < buf.length) truncateSync(this.file, at)
    }
    this.vectors = vectors
    return vectors
  }

  get = (key: string) => this.loaded().get(key)
  size = () => this.loaded().size

  put = (key: string, vector: Float32Array) => {
    const vectors = this.loaded()
    if (vectors.has(key)) return
    vectors.set(key, vector)
    const record = Buffer.alloc(KEY_BYTES + 4 + vector.length * 4)
    Buffer.from(key, "base64").copy(record, 0)
    record.writeUInt32LE(vector.length, KEY_BYTES)
    Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).copy(record, KEY_BYTES + 4)
    this.pending.push(record)
    if (!this.scheduled) {
      this.scheduled = true
      setImmediate(() => this.write())
    }
  }

  write() {
    this.scheduled = false
    if (this.pending.length === 0 || this.broken !== undefined) return
    const data = Buffer.concat(this.pending)
    this.pending = []
    try {
      this.fd ??= openSync(this.file, "a")
      writeSync(this.fd, data)
      this.dirty = true
    } catch (e) {
      this.fail(e)
    }
  }

  sync() {
    if (!this.dirty || this.fd === undefined || this.broken !== undefined) return
    try {
      fsyncSync(this.fd)
      this.dirty = false
    } catch (e) {
      this.fail(e)
    }
  }

  close() {
    clearInterval(this.syncTimer)
    this.write()
    this.sync()
    if (this.fd !== undefined) closeSync(this.fd)
    this.fd = undefined
  }

  private fail(e: unknown) {
    // vectors still reach the run; only a re-run loses them, so say so once and go on
    this.broken = e instanceof Error ? e.message : String(e)
    process.stderr.write(
      `wb: the embedding cache ${this.file} could not be written (${this.broken}); ` +
        "vectors from now on are not kept for a re-run. Check disk space and permissions.\n"
    )
  }
}

const fileName = (identity: ModelIdentity) => {
  const slug = `${identity.provider}-${identity.model}`.replace(/[^A-Za-z0-9._-]+/g, "_").slice(0, 80)
  const h = createHash("sha256")
    .update(JSON.stringify([identity.provider, identity.model]))
    .digest("hex")
  return `embed-${slug}-${h.slice(0, 12)}.f32`
}

/** The embedding cache of one model identity under `workspaceDir`, shared while any client holds it. */
export const openEmbeddingCache = (
  workspaceDir: string,
  identity: ModelIdentity,
  where: string
): Effect.Effect<EmbeddingCache, DataError, Scope.Scope> => {
  const file = join(workspaceDir, "llm-cache", fileName(identity))
  return openSharedFile(file, (f) => new EmbeddingFile(f), "the embedding cache", where)
}
