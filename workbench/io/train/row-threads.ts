/**
 * Worker threads for the sparse trainer's two row-ordered passes (pooling bags, and each touched row's
 * gradient + optimizer update): on long texts these are most of a step, and both split cleanly by
 * table row — rows `[0, k1)` on the calling thread, the rest on workers, each worker writing only its
 * own rows of the tables (the update) or its own partial pooled vectors (pooling), so no two threads
 * ever write the same memory. The tables live in SharedArrayBuffers; commands go through a small
 * shared control block and `Atomics.wait`/`notify` (microseconds per command, no message queue).
 *
 * The worker is a plain-JS string (`eval: true`) rather than a module file on purpose: it then runs
 * the same under tsx, vitest's module runner and the packed `dist/`, with no path or loader to
 * resolve. With a `WasmArena` (the model's tables in a shared WebAssembly memory) each worker
 * instantiates the same SIMD kernels over that memory; without one it runs its copies of the
 * JavaScript kernels of kernels.ts (kept in step by the test that compares a threaded model with a
 * single-threaded one step by step).
 *
 * Determinism: with a fixed thread count, results are bit-identical run to run (the split depends on
 * the batch only). Different thread counts differ in the last bits of the pooled sums (partial sums
 * added in another order), as any parallel reduction does.
 */
import { MessageChannel, Worker } from "node:worker_threads"
import type { RowTables, WasmArena } from "./wasm-kernels.js"

const SEQ = 0,
  DONE = 1,
  CMD = 2,
  K0 = 3,
  K1 = 4,
  N = 5,
  FAILED = 6
export const CMD_BUFFERS = 0,
  CMD_POOL = 1,
  CMD_ADAM = 2,
  CMD_SGD = 3,
  CMD_EXIT = 4

/** What the workers read and write; re-sent whenever the trainer grows one of them. */
export type SharedTables = RowTables

const WORKER = `
const { workerData, receiveMessageOnPort } = require("node:worker_threads")
const ctrl = new Int32Array(workerData.ctrl), par = new Float64Array(workerData.par), port = workerData.port
let T = null, part = null, g = null, K = null
function pool(k0, k1, n) {
  if (K !== null) {
    part.fill(0, 0, n)
    return K.pool(T.emb.byteOffset, T.rows.byteOffset, T.rowStart.byteOffset, T.eSlot.byteOffset, T.eW.byteOffset, part.byteOffset, k0, k1, T.D)
  }
  const D = T.D, E = T.emb, rows = T.rows, start = T.rowStart, eSlot = T.eSlot, eW = T.eW, y = part
  y.fill(0, 0, n)
  for (let k = k0; k < k1; k++) {
    const r = rows[k] * D, to = start[k + 1]
    for (let e = start[k]; e < to; e++) {
      const a = eW[e], yo = eSlot[e]
      let j = 0
      for (; j + 3 < D; j += 4) {
        y[yo + j] += a * E[r + j]; y[yo + j + 1] += a * E[r + j + 1]
        y[yo + j + 2] += a * E[r + j + 2]; y[yo + j + 3] += a * E[r + j + 3]
      }
      for (; j < D; j++) y[yo + j] += a * E[r + j]
    }
  }
}
function rowGradient(k) {
  const D = T.D, tg = T.tg, eSlot = T.eSlot, eW = T.eW, to = T.rowStart[k + 1]
  g.fill(0)
  for (let e = T.rowStart[k]; e < to; e++) {
    const a = eW[e], xo = eSlot[e]
    let j = 0
    for (; j + 3 < D; j += 4) {
      g[j] += a * tg[xo + j]; g[j + 1] += a * tg[xo + j + 1]
      g[j + 2] += a * tg[xo + j + 2]; g[j + 3] += a * tg[xo + j + 3]
    }
    for (; j < D; j++) g[j] += a * tg[xo + j]
  }
}
function adam(k0, k1, a, s) {
  if (K !== null)
    return K.adamRows(T.emb.byteOffset, T.m.byteOffset, T.v.byteOffset, T.rows.byteOffset, T.rowStart.byteOffset,
      T.eSlot.byteOffset, T.eW.byteOffset, T.tg.byteOffset, g.byteOffset, k0, k1, T.D, a, s)
  const D = T.D, p = T.emb, m = T.m, v = T.v
  for (let k = k0; k < k1; k++) {
    rowGradient(k)
    const po = T.rows[k] * D
    for (let i = 0; i < D; i++) {
      const gi = Math.fround(g[i]), pi = po + i
      const mi = (m[pi] = 0.9 * m[pi] + 0.1 * gi)
      const vi = (v[pi] = 0.999 * v[pi] + 0.001 * gi * gi)
      p[pi] -= (a * mi) / (Math.sqrt(vi) * s + 1e-7)
    }
  }
}
function sgd(k0, k1, lr) {
  if (K !== null)
    return K.sgdRows(T.emb.byteOffset, T.rows.byteOffset, T.rowStart.byteOffset, T.eSlot.byteOffset, T.eW.byteOffset,
      T.tg.byteOffset, g.byteOffset, k0, k1, T.D, lr)
  const D = T.D, E = T.emb
  for (let k = k0; k < k1; k++) {
    rowGradient(k)
    const r = T.rows[k] * D
    for (let j = 0; j < D; j++) E[r + j] -= lr * g[j]
  }
}
for (let seen = 0; ; ) {
  Atomics.wait(ctrl, ${SEQ}, seen)
  seen = Atomics.load(ctrl, ${SEQ})
  const cmd = ctrl[${CMD}]
  if (cmd === ${CMD_EXIT}) break
  try {
    if (cmd === ${CMD_BUFFERS}) {
      const msg = receiveMessageOnPort(port).message
      T = msg.tables
      part = msg.part
      g = msg.g
      if (msg.wasm !== null && K === null)
        K = new WebAssembly.Instance(msg.wasm.module, { env: { memory: msg.wasm.memory } }).exports
    } else if (cmd === ${CMD_POOL}) pool(ctrl[${K0}], ctrl[${K1}], ctrl[${N}])
    else if (cmd === ${CMD_ADAM}) adam(ctrl[${K0}], ctrl[${K1}], par[0], par[1])
    else if (cmd === ${CMD_SGD}) sgd(ctrl[${K0}], ctrl[${K1}], par[0])
  } catch (e) {
    ctrl[${FAILED}] = 1
  }
  Atomics.store(ctrl, ${DONE}, seen)
  Atomics.notify(ctrl, ${DONE})
}
`

interface Lane {
  readonly worker: Worker
  readonly ctrl: Int32Array
  readonly par: Float64Array
  readonly port: MessagePort
  /** this worker's partial pooled vectors */
  part: Float64Array
  /** this worker's row-gradient scratch */
  g: Float64Array
  seq: number
}

type MessagePort = InstanceType<typeof MessageChannel>["port1"]

/** `count` worker threads (the caller's thread is one more lane). */
export class RowThreads {
  private readonly lanes: Lane[] = []

  /** `arena`: the model's tables live there, and the workers run its wasm kernels (else JavaScript). */
  constructor(
    count: number,
    private readonly arena: WasmArena | null = null
  ) {
    for (let i = 0; i < count; i++) {
      const ctrl = new Int32Array(new SharedArrayBuffer(8 * 4)),
        par = new Float64Array(new SharedArrayBuffer(4 * 8))
      const { port1, port2 } = new MessageChannel()
      const worker = new Worker(WORKER, {
        eval: true,
        workerData: { ctrl: ctrl.buffer, par: par.buffer, port: port2 },
        transferList: [port2]
      })
      // a model that is never closed must not keep the process alive
      worker.unref()
      port1.unref()
      this.lanes.push({ worker, ctrl, par, port: port1, part: new Float64Array(0), g: new Float64Array(0), seq: 0 })
    }
  }

  get count(): number {
    return this.lanes.length
  }

  /** Hand the workers the current tables (after any of them was reallocated) and partials of `partSize`. */
  share(tables: SharedTables, partSize: number): void {
    const a = this.arena
    const f64 = (n: number) => a?.f64(n) ?? new Float64Array(new SharedArrayBuffer(n * 8))
    for (const lane of this.lanes) {
      if (lane.part.length < partSize) lane.part = f64(partSize)
      if (lane.g.length < tables.D) lane.g = f64(tables.D)
      const wasm = a === null ? null : { module: a.module, memory: a.memory }
      lane.port.postMessage({ tables, part: lane.part, g: lane.g, wasm })
      this.send(lane, CMD_BUFFERS, 0, 0, 0)
    }
    this.wait()
  }

  /** Worker i (0-based) runs `cmd` over rows [k0, k1); `n`: the pooled length to clear (pool only). */
  start(i: number, cmd: number, k0: number, k1: number, n: number, p0 = 0, p1 = 0): void {
    const lane = this.lanes[i]!
    lane.par[0] = p0
    lane.par[1] = p1
    this.send(lane, cmd, k0, k1, n)
  }

  /** Block until every worker has finished its command. */
  wait(): void {
    for (const lane of this.lanes) {
      let d: number
      while ((d = Atomics.load(lane.ctrl, DONE)) !== lane.seq) Atomics.wait(lane.ctrl, DONE, d)
      if (lane.ctrl[FAILED] === 1) throw new Error("a sparse-trainer worker thread failed")
    }
  }

  /** Worker i's partial pooled vectors (valid after a pool command and `wait`). */
  part(i: number): Float64Array {
    return this.lanes[i]!.part
  }

  close(): void {
    for (const lane of this.lanes) {
      this.send(lane, CMD_EXIT, 0, 0, 0)
      void lane.worker.terminate()
      lane.port.close()
    }
    this.lanes.length = 0
  }

  private send(lane: Lane, cmd: number, k0: number, k1: number, n: number): void {
    lane.ctrl[CMD] = cmd
    lane.ctrl[K0] = k0
    lane.ctrl[K1] = k1
    lane.ctrl[N] = n
    lane.seq++
    Atomics.store(lane.ctrl, SEQ, lane.seq)
    Atomics.notify(lane.ctrl, SEQ)
  }
}

/** A float32 copy of `x` in shared memory. */
export const sharedF32 = (x: Float32Array): Float32Array => {
  const y = new Float32Array(new SharedArrayBuffer(x.length * 4))
  y.set(x)
  return y
}
