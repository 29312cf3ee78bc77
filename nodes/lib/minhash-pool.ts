/**
 * Sketch texts on worker threads while the caller is still reading them: `push` batches as they
 * stream out of the table engine, `finish` waits for the last one and returns the sketches by document
 * index.
 *
 * When to use: more than a few tens of thousands of texts (a worker costs ~150 ms of CPU to start, to
 * compile the kernel and to warm it up); below `INLINE_BELOW` texts, or with 0 workers, batches are
 * sketched on this thread as they arrive.
 *
 * How: each worker owns `IN_FLIGHT` slots of shared memory (SharedArrayBuffers, reused for every batch):
 * a batch of `BATCH` texts is packed into a free slot as UTF-16 code units (packTexts: one native copy
 * per text), the worker writes the sketches into the same slot, and this thread copies them out. So
 * this thread only copies characters and never hashes; strings are never structured-cloned (a copy on
 * each side plus a string per text in the worker), and no memory is allocated or transferred per batch
 * (fresh buffers cost page faults, and transferred ones the garbage collections of "external memory
 * pressure", which are expensive in a thread holding all the texts). A worker gets a new batch as soon
 * as it has a free slot; the rest wait here (packed only then), so a worker slowed down by other load
 * simply takes fewer batches. While documents arrive in order (a table scan), sketches are appended to
 * the result as they come, while the workers are busy: `finish` then has almost nothing left to copy.
 * Out-of-order batches are put together at the end (assembleSketches).
 *
 * Gotchas: the worker entry is plain JavaScript (minhash-worker.js), because a `.ts` worker entry fails
 * under tsx and vitest on Node 20. Always `close()` (the node wrapper does it in a finaliser).
 */
import { availableParallelism } from "node:os"
import { Worker } from "node:worker_threads"
import { packedLength, packTexts } from "./minhash-kernel.js"
import { assembleSketches, sketchTexts, type SketchBatch, type SketchOptions } from "./minhash.js"

/** Below this many texts, sketch on the calling thread. */
export const INLINE_BELOW = 20_000
/** Texts per batch: small enough that the workers end within one batch of each other. */
const BATCH = 2048
/** UTF-16 units per batch at most (long texts: fewer per batch, so that slots stay a few MB). */
const BATCH_UNITS = 1 << 21
/** Batches sent to a worker before it answers (its slots; the rest wait in this thread's queue). */
const IN_FLIGHT = 3

interface Part {
  readonly at: Int32Array
  readonly batch: SketchBatch
}
interface Job {
  readonly id: number
  readonly at: Int32Array
  readonly texts: ArrayLike<unknown>
  slot?: Slot
}
interface Reply {
  readonly id: number
  readonly ok: boolean
  /** Length of the batch's sets (in the slot, or in `overflow`). */
  readonly used?: number
  readonly overflow?: Uint32Array
  readonly error?: string
}

type SlotBuffers = Record<"units" | "ends" | "bandHashes" | "offsets" | "sizes" | "sets", SharedArrayBuffer>

/** Shared memory for one batch at a time: its packed texts and its sketches. */
class Slot {
  private sent = false
  private readonly buffers: SlotBuffers
  constructor(readonly id: number) {
    const none = new SharedArrayBuffer(0)
    this.buffers = { units: none, ends: none, bandHashes: none, offsets: none, sizes: none, sets: none }
  }

  /** Make room for a batch of n texts, `chars` units, `bands` band hashes and `sets` set values. */
  fit(n: number, chars: number, bands: number, sets: number): void {
    const need = {
      units: 2 * chars,
      ends: 4 * n,
      bandHashes: 4 * n * bands,
      offsets: 4 * (n + 1),
      sizes: 4 * n,
      sets: 4 * sets
    }
    for (const k of Object.keys(need) as Array<keyof typeof need>) {
      if (this.buffers[k].byteLength >= need[k]) continue
      // a quarter more than needed, so that the next batches fit too
      this.buffers[k] = new SharedArrayBuffer(Math.ceil((need[k] * 1.25) / 8) * 8)
      this.sent = false
    }
  }

  /** The buffers, the first time the worker needs them (it keeps them). */
  news(): SlotBuffers | undefined {
    if (this.sent) return undefined
    this.sent = true
    return this.buffers
  }

  get units(): Uint16Array {
    return new Uint16Array(this.buffers.units)
  }
  get ends(): Int32Array {
    return new Int32Array(this.buffers.ends)
  }

  /** The sketches of the batch of n texts the worker wrote here (views of the shared memory). */
  batch(n: number, bands: number, used: number, overflow: Uint32Array | undefined): SketchBatch {
    const b = this.buffers
    return {
      n,
      bands,
      bandHashes: new Uint32Array(b.bandHashes, 0, n * bands),
      offsets: new Int32Array(b.offsets, 0, n + 1),
      sizes: new Int32Array(b.sizes, 0, n),
      sets: overflow ?? new Uint32Array(b.sets, 0, used)
    }
  }
}

/** A SketchBatch in memory of its own (the slot it came in is reused). */
const copied = (b: SketchBatch): SketchBatch => ({
  n: b.n,
  bands: b.bands,
  bandHashes: b.bandHashes.slice(),
  offsets: b.offsets.slice(),
  sizes: b.sizes.slice(),
  sets: b.sets.slice()
})

/** Worker threads worth starting for n texts on this machine. */
export const workersFor = (n: number): number =>
  n < INLINE_BELOW ? 0 : Math.max(1, Math.min(4, availableParallelism()))

/**
 * This process's Node options minus module loaders (`--import tsx` and the like): the worker and the
 * kernel are plain JavaScript, and a loader would be started again in every worker (tsx: its own
 * start-up, and its parser compiled again, on the CPUs the workers need).
 */
function workerExecArgv(): Array<string> {
  const loaders = new Set(["--import", "--loader", "--experimental-loader", "--require", "-r"])
  const out: Array<string> = []
  const args = process.execArgv
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!,
      eq = a.indexOf("=")
    if (loaders.has(eq < 0 ? a : a.slice(0, eq))) {
      if (eq < 0) i++ // its value is the next argument
      continue
    }
    out.push(a)
  }
  return out
}

/** A worker with this process's Node options minus loaders (V8 options, refused there, apply anyway). */
function startWorker(): Worker {
  // beside this module in the sources and in dist/ alike (the build copies the plain-JS worker)
  const url = new URL("./minhash-worker.js", import.meta.url)
  try {
    return new Worker(url, { execArgv: workerExecArgv() })
  } catch (e) {
    if ((e as { code?: string }).code !== "ERR_WORKER_INVALID_EXEC_ARGV") throw e
    return new Worker(url, { execArgv: [] })
  }
}

/** First document of `at` when its documents are consecutive (at[i] = at[0] + i), else -1. */
function runStart(at: Int32Array): number {
  for (let i = 1; i < at.length; i++) if (at[i] !== at[0]! + i) return -1
  return at.length === 0 ? -1 : at[0]!
}

function grown<T extends Uint32Array | Int32Array>(a: T, atLeast: number): T {
  if (a.length >= atLeast) return a
  const next = new (a.constructor as new (n: number) => T)(Math.max(atLeast, a.length * 2, 1024))
  next.set(a)
  return next
}

/** Sketches of documents 0..count-1, appended batch by batch as they come back in document order. */
class InOrder {
  count = 0
  used = 0
  bandHashes = new Uint32Array(0)
  sizes = new Int32Array(0)
  offsets = new Int32Array(1)
  sets = new Uint32Array(0)
  constructor(
    private readonly bands: number,
    private readonly expectedDocs: number
  ) {
    if (expectedDocs > 0) {
      this.bandHashes = new Uint32Array(expectedDocs * bands)
      this.sizes = new Int32Array(expectedDocs)
      this.offsets = new Int32Array(expectedDocs + 1)
    }
  }

  append(batch: SketchBatch): void {
    const n = batch.n,
      bands = this.bands,
      from = this.count
    this.bandHashes = grown(this.bandHashes, (from + n) * bands)
    this.sizes = grown(this.sizes, from + n)
    this.offsets = grown(this.offsets, from + n + 1)
    const setsNeed = this.used + batch.sets.length
    if (this.sets.length < setsNeed) {
      // room for the expected documents at the mean set size so far (+10%), else double
      const mean = setsNeed / (from + n),
        guess = Math.ceil(mean * this.expectedDocs * 1.1)
      this.sets = grown(this.sets, guess > setsNeed ? guess : setsNeed)
    }
    this.bandHashes.set(batch.bandHashes, from * bands)
    this.sizes.set(batch.sizes, from)
    for (let i = 1; i <= n; i++) this.offsets[from + i] = this.used + batch.offsets[i]!
    this.sets.set(batch.sets, this.used)
    this.used += batch.sets.length
    this.count += n
  }

  /**
   * The sketches so far, as views of the arrays grown so far; with `exact`, an array with more than a
   * quarter spare room is copied out at its size instead (the arrays grow by doubling).
   */
  result(exact: boolean): SketchBatch {
    const n = this.count,
      cut = <T extends Uint32Array | Int32Array>(a: T, len: number): T =>
        (exact && a.length > len + (len >>> 2) ? a.slice(0, len) : a.subarray(0, len)) as T
    return {
      n,
      bands: this.bands,
      bandHashes: cut(this.bandHashes, n * this.bands),
      offsets: cut(this.offsets, n + 1),
      sizes: cut(this.sizes, n),
      sets: cut(this.sets, this.used)
    }
  }
}

export class SketchPool {
  private readonly workers: Array<Worker> = []
  /** Free slots per worker. */
  private readonly free: Array<Array<Slot>> = []
  private readonly queue: Array<Job> = []
  private readonly running = new Map<number, Job>()
  private readonly inOrder: InOrder
  /** Parts that came back before the parts before them (by first document). */
  private readonly early = new Map<number, SketchBatch>()
  /** Parts whose documents are not consecutive: put together in finish. */
  private readonly loose: Array<Part> = []
  private bufAt: Array<number> = []
  private bufTexts: Array<unknown> = []
  private bufUnits = 0
  private nextId = 0
  private closing = false
  private failure: Error | undefined
  private settle: { resolve: () => void; reject: (e: Error) => void } | undefined
  /** Texts sketched so far (for progress). */
  done = 0

  /**
   * `expectedDocs` (optional): about how many documents will come, to size the result once instead of
   * growing it.
   */
  constructor(
    private readonly options: SketchOptions,
    workers: number,
    expectedDocs = 0
  ) {
    this.inOrder = new InOrder(options.bands, expectedDocs)
    for (let w = 0; w < workers; w++) {
      const worker = startWorker()
      worker.on("message", (msg: Reply) => {
        const job = this.running.get(msg.id)
        if (job === undefined || job.slot === undefined) return
        this.running.delete(msg.id)
        if (!msg.ok || msg.used === undefined)
          return this.fail(new Error(`minhash worker failed: ${msg.error ?? "no reason given"}`))
        const slot = job.slot
        this.take(job.at, slot.batch(job.at.length, this.options.bands, msg.used, msg.overflow))
        this.free[w]!.push(slot)
        this.dispatch()
        this.checkSettled()
      })
      worker.on("error", (e) => this.fail(e))
      worker.on("exit", (code) => {
        if (!this.closing) this.fail(new Error(`minhash worker stopped (exit code ${code})`))
      })
      this.workers.push(worker)
      this.free.push(Array.from({ length: IN_FLIGHT }, (_, k) => new Slot(w * IN_FLIGHT + k)))
    }
  }

  private fail(e: Error) {
    this.failure ??= e
    this.settle?.reject(this.failure)
  }

  private checkSettled() {
    if (this.settle !== undefined && this.running.size === 0 && this.queue.length === 0) this.settle.resolve()
  }

  /** Send queued batches to workers with a free slot, most free slots first. */
  private dispatch(): void {
    const { bands, setCap } = this.options
    while (this.queue.length > 0 && this.failure === undefined) {
      let w = 0
      for (let k = 1; k < this.workers.length; k++) if (this.free[k]!.length > this.free[w]!.length) w = k
      const slot = this.free[w]!.pop()
      if (slot === undefined) return
      const job = this.queue.shift()!
      job.slot = slot
      this.running.set(job.id, job)
      // packed only now, into the slot; its sets get room for ~128 shingles per text (more: overflow)
      const n = job.texts.length,
        chars = packedLength(job.texts)
      slot.fit(n, chars, bands, n * Math.min(setCap, 128))
      packTexts(job.texts, slot.units, slot.ends)
      this.workers[w]!.postMessage({ id: job.id, slot: slot.id, buffers: slot.news(), n, chars, options: this.options })
    }
  }

  /**
   * File the sketches of one batch: appended if they continue the documents so far, else kept aside
   * (copied: they may be in a slot, which is reused).
   */
  private take(at: Int32Array, batch: SketchBatch): void {
    this.done += batch.n
    const from = runStart(at)
    if (from < 0 || from < this.inOrder.count) {
      this.loose.push({ at, batch: this.workers.length === 0 ? batch : copied(batch) })
      return
    }
    if (from > this.inOrder.count) {
      this.early.set(from, this.workers.length === 0 ? batch : copied(batch))
      return
    }
    this.inOrder.append(batch)
    for (let next = this.early.get(this.inOrder.count); next !== undefined; next = this.early.get(this.inOrder.count)) {
      this.early.delete(this.inOrder.count)
      this.inOrder.append(next)
    }
  }

  /** Queue texts; `at[i]` is the document index of texts[i]. */
  push(at: ArrayLike<number>, texts: ArrayLike<unknown>): void {
    for (let i = 0; i < texts.length; i++) {
      const t = texts[i]
      this.bufAt.push(at[i]!)
      this.bufTexts.push(t)
      if (typeof t === "string") this.bufUnits += t.length
      if (this.bufAt.length >= BATCH || this.bufUnits >= BATCH_UNITS) this.flush()
    }
  }

  private flush(): void {
    if (this.bufAt.length === 0) return
    const at = Int32Array.from(this.bufAt),
      texts = this.bufTexts
    this.bufAt = []
    this.bufTexts = []
    this.bufUnits = 0
    if (this.workers.length === 0) {
      this.take(at, sketchTexts(texts as ReadonlyArray<unknown> as ReadonlyArray<string | null>, this.options))
      return
    }
    this.queue.push({ id: this.nextId++, at, texts })
    this.dispatch()
  }

  /** Wait for every batch and assemble the sketches of documents 0..n-1. */
  async finish(n: number): Promise<SketchBatch> {
    this.flush()
    if (this.failure !== undefined) throw this.failure
    await new Promise<void>((resolve, reject) => {
      this.settle = { resolve, reject }
      this.checkSettled()
    })
    const inOrder = this.inOrder
    if (this.loose.length === 0 && this.early.size === 0 && inOrder.count === n) return inOrder.result(true)
    const parts: Array<Part> = [
      ...this.loose,
      ...Array.from(this.early, ([from, batch]) => ({ at: consecutive(from, batch.n), batch }))
    ]
    if (inOrder.count > 0) parts.unshift({ at: consecutive(0, inOrder.count), batch: inOrder.result(false) })
    return assembleSketches(n, this.options.bands, parts)
  }

  async close(): Promise<void> {
    this.closing = true
    await Promise.all(this.workers.map((w) => w.terminate()))
  }
}

const consecutive = (from: number, n: number) => Int32Array.from({ length: n }, (_, i) => from + i)
