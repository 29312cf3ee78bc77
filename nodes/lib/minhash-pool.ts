/**
 * Sketch texts on worker threads while the caller is still reading them: `push` batches as they
 * stream out of the table engine, `finish` waits for the last one and reassembles by document index.
 *
 * When to use: more than a few tens of thousands of texts (a worker costs ~30-50 ms to start); below
 * `INLINE_BELOW` texts, or with 0 workers, batches are sketched on this thread as they arrive.
 *
 * Gotchas: the worker entry is plain JavaScript (minhash-worker.js), because a `.ts` worker entry fails
 * under tsx and vitest on Node 20. Texts are copied to the workers (structured clone); the typed
 * arrays come back transferred. Always `close()` (the node wrapper does it in a finaliser).
 */
import { availableParallelism } from "node:os"
import { Worker } from "node:worker_threads"
import { assembleSketches, sketchTexts, type SketchBatch, type SketchOptions } from "./minhash.js"

/** Below this many texts, sketch on the calling thread. */
export const INLINE_BELOW = 20_000
const BATCH = 4096

interface Part { readonly at: Int32Array; readonly batch: SketchBatch }

/** Worker threads worth starting for n texts on this machine. */
export const workersFor = (n: number): number => (n < INLINE_BELOW ? 0 : Math.max(1, Math.min(4, availableParallelism())))

export class SketchPool {
  private readonly workers: Array<Worker> = []
  private readonly load: Array<number> = []
  private readonly parts: Array<Part> = []
  private readonly waiting = new Map<number, { at: Int32Array; resolve: () => void; reject: (e: Error) => void }>()
  private readonly pending: Array<Promise<void>> = []
  private bufAt: Array<number> = []
  private bufTexts: Array<string | null> = []
  private nextId = 0
  private failure: Error | undefined
  /** Texts sketched so far (for progress). */
  done = 0

  constructor(private readonly options: SketchOptions, workers: number) {
    for (let w = 0; w < workers; w++) {
      const worker = new Worker(new URL("./minhash-worker.js", import.meta.url))
      worker.on("message", (msg: { id: number; ok: boolean; out?: SketchBatch; error?: string }) => {
        const job = this.waiting.get(msg.id)
        if (job === undefined) return
        this.waiting.delete(msg.id)
        this.load[w]!--
        if (msg.ok && msg.out !== undefined) {
          this.parts.push({ at: job.at, batch: msg.out })
          this.done += msg.out.n
          job.resolve()
        } else job.reject(new Error(`minhash worker failed: ${msg.error ?? "no reason given"}`))
      })
      worker.on("error", (e) => this.fail(e))
      this.workers.push(worker)
      this.load.push(0)
    }
  }

  private fail(e: Error) {
    this.failure ??= e
    for (const job of this.waiting.values()) job.reject(e)
    this.waiting.clear()
  }

  /** Queue texts; `at[i]` is the document index of texts[i]. */
  push(at: ArrayLike<number>, texts: ArrayLike<unknown>): void {
    for (let i = 0; i < texts.length; i++) {
      this.bufAt.push(at[i]!)
      const t = texts[i]
      this.bufTexts.push(typeof t === "string" ? t : null)
    }
    if (this.bufAt.length >= BATCH) this.flush()
  }

  private flush(): void {
    if (this.bufAt.length === 0) return
    const at = Int32Array.from(this.bufAt), texts = this.bufTexts
    this.bufAt = []
    this.bufTexts = []
    if (this.workers.length === 0) {
      const batch = sketchTexts(texts, this.options)
      this.parts.push({ at, batch })
      this.done += batch.n
      return
    }
    let w = 0
    for (let k = 1; k < this.workers.length; k++) if (this.load[k]! < this.load[w]!) w = k
    const id = this.nextId++
    this.load[w]!++
    this.pending.push(new Promise<void>((resolve, reject) => {
      if (this.failure !== undefined) return reject(this.failure)
      this.waiting.set(id, { at, resolve, reject })
      this.workers[w]!.postMessage({ id, texts, options: this.options })
    }))
  }

  /** Wait for every batch and assemble the sketches of documents 0..n-1. */
  async finish(n: number): Promise<SketchBatch> {
    this.flush()
    await Promise.all(this.pending)
    return assembleSketches(n, this.options.bands, this.parts)
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()))
  }
}
