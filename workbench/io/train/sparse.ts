/**
 * The sparse trainer: the reward model in plain TypeScript. Forward reads only the table rows in each
 * bag; backward accumulates one gradient slot per touched row; the optimizer updates only those rows
 * (lazy Adam: untouched rows' moments do not decay, as TF's LazyAdam). tfjs has no sparse gradients,
 * so its every step runs dense Adam over the whole table: this trainer is 3–5× tfjs-wasm here.
 * Ported from ../shared/guides/tfjs-training-examples/lib/sparse.ts (same maths, same weight layout;
 * the equivalence test holds it to tfjs step by step). Work per batch, each an exact rewrite of the
 * plain sum: a text that several pairs of the batch share (a prompt, a reference answer) is pooled
 * once and its gradient spread once; a bag visits each distinct id once with its count (bags.ts);
 * each touched row gets one Adam update. Hot loops are inlined and unrolled by 4 on purpose (V8 does
 * not vectorise; independent adds keep the pipeline full).
 */
import type { ListSet, ModelConfig, PairSet, TextTable } from "../../core/trainer.js"
import { type Bags, bagsOf } from "./bags.js"
import { BatchTexts } from "./batch-texts.js"
import { adam, addScaled, addScaled32, denseJs, rowGradientJs } from "./kernels.js"
import { type BatchResult, PairLossTally } from "./pair-loss.js"
import { CMD_ADAM, CMD_POOL, CMD_SGD, RowThreads, sharedF32 } from "./row-threads.js"
import { type DenseKernels, jsKernels, type RowKernels, type RowTables, WasmArena } from "./wasm-kernels.js"
import type { Weights } from "./weights.js"

/** Below this many bag entries a batch stays on one thread (handing work over costs more than it saves). */
const PARALLEL_MIN = 20_000

export interface OptimizerSpec {
  readonly kind: "adam" | "sgd"
  lr: number
}

export class SparseModel {
  readonly D: number
  readonly H: number
  private readonly V: number
  private readonly bagInput: boolean
  private readonly g: Weights
  private readonly m: Weights
  private readonly v: Weights
  private slotOf: Int32Array
  private touched = new Int32Array(4096)
  private gEmb: Float32Array
  private nTouched = 0
  private t = 0
  private readonly pp: Float64Array
  private readonly dhSum: Float64Array
  private readonly dh: Float64Array
  private readonly drv: Float64Array
  private readonly pres: Float64Array[] = []
  private readonly hs: Float64Array[] = []
  /** The batch's distinct texts (a slot each); their pooled vectors `tv` and grads `tg`, D per slot. */
  private readonly batch: BatchTexts
  private tv: Float64Array = new Float64Array(0)
  private tg: Float64Array = new Float64Array(0)
  /**
   * The batch's bag entries (text slot, id) grouped by table row, rows ascending: entries
   * `rowStart[k] .. rowStart[k+1]` read row `rows[k]`, each into slot offset `eSlot[e]` with weight
   * `eW[e]` (count / bag length). Pooling and the embedding update walk the table in address order, so
   * each touched row is fetched once per pass and the hardware prefetcher streams the 64 MB table
   * instead of missing the cache (and the TLB) on every random row: this order is what makes the
   * trainer fast on long texts.
   */
  private rowCount: Int32Array
  /** Bit r set: row r has entries this batch (32 rows a word), so listing them costs V/32 + rows, not V. */
  private rowBits: Int32Array
  private rows: Int32Array = new Int32Array(4096)
  private rowStart: Int32Array = new Int32Array(4097)
  private nRows = 0
  private eSlot: Int32Array = new Int32Array(0)
  private eW: Float64Array = new Float64Array(0)
  /** `tg` holds bag gradients that `step` has not applied yet (over the entries above). */
  private pending = false
  private readonly gRow: Float64Array

  readonly w: Weights
  /** Worker threads for the row passes (bag models with `threads` > 1), null: this thread only. */
  private readonly threads: RowThreads | null
  /** The shared buffers changed since the workers last saw them. */
  private reshare = true
  /**
   * Bag models keep the table, Adam's moments, the dense weights and their gradients, and the batch's
   * scratch in one WebAssembly memory and run the row passes and the per-pair dense layers as SIMD
   * kernels there (wasm-kernels.ts); null: JavaScript arrays and kernels.
   */
  private readonly arena: WasmArena | null
  private readonly kern: RowKernels
  /** The per-pair dense layers: wasm with the arena (weights, their grads and the H/D scratch live there), else JS. */
  private readonly dense: DenseKernels

  constructor(
    readonly config: ModelConfig,
    w: Weights,
    readonly opt: OptimizerSpec,
    threads = 1,
    /** false: the JavaScript row and dense kernels even where WebAssembly SIMD is available (comparisons, tests) */
    simd = true
  ) {
    this.D = config.dim
    this.H = config.hidden
    this.bagInput = config.input === "bag"
    this.V = this.bagInput ? w.emb.length / this.D : 0
    this.batch = new BatchTexts(this.D)
    const tableBytes = w.emb.length * 4 * (opt.kind === "adam" ? 3 : 1)
    this.arena = this.bagInput && simd ? WasmArena.create(tableBytes) : null
    this.kern = this.arena?.kernels ?? jsKernels
    this.dense = this.arena?.dense ?? denseJs
    this.threads = this.bagInput && threads > 1 ? new RowThreads(threads - 1, this.arena) : null
    const A = this.arena
    // the wasm kernels read and write the weights in place: copies in the arena
    const copy = (x: Float32Array) => {
      const y = A!.f32(x.length)
      y.set(x)
      return y
    }
    this.w =
      A !== null
        ? { emb: copy(w.emb), w1: copy(w.w1), b1: copy(w.b1), w2: copy(w.w2), b2: copy(w.b2) }
        : this.threads === null
          ? w
          : { ...w, emb: sharedF32(w.emb) }
    const zeros = (n: number) => new Float32Array(n)
    const like = (x: Weights, slots: boolean, at: (n: number) => Float32Array): Weights => ({
      emb: slots ? this.f32(x.emb.length) : zeros(0),
      w1: at(x.w1.length),
      b1: at(x.b1.length),
      w2: at(x.w2.length),
      b2: at(1)
    })
    // the dense gradients are the wasm kernels' output; Adam's dense moments stay JS (step's adam)
    this.g = like(w, false, A !== null ? (n) => A.f32(n) : zeros)
    this.m = like(w, opt.kind === "adam", zeros)
    this.v = like(w, opt.kind === "adam", zeros)
    if (this.threads !== null || this.arena !== null) {
      this.tv = this.f64(0)
      this.tg = this.f64(0)
      this.rows = this.i32(4096)
      this.rowStart = this.i32(4097)
    }
    this.slotOf = new Int32Array(this.V).fill(-1)
    this.rowCount = new Int32Array(this.V)
    this.rowBits = new Int32Array((this.V + 31) >>> 5)
    this.gRow = this.arena?.f64(this.D) ?? new Float64Array(this.D)
    this.gEmb = new Float32Array(4096 * this.D)
    this.pp = this.vec(this.H)
    this.dhSum = this.vec(this.H)
    this.dh = this.vec(this.H)
    this.drv = this.vec(this.D)
  }

  /** Scratch of the dense layers (in the arena when they run as wasm; the workers never read it). */
  private vec(n: number): Float64Array {
    return this.arena?.f64(n) ?? new Float64Array(n)
  }

  /** Arrays the workers read live in shared memory; without workers, plain ones. */
  private f32(n: number): Float32Array {
    if (this.arena !== null) return this.arena.f32(n)
    return this.threads === null ? new Float32Array(n) : new Float32Array(new SharedArrayBuffer(n * 4))
  }
  private f64(n: number): Float64Array {
    this.reshare = true
    if (this.arena !== null) return this.arena.f64(n)
    return this.threads === null ? new Float64Array(n) : new Float64Array(new SharedArrayBuffer(n * 8))
  }
  private i32(n: number): Int32Array {
    this.reshare = true
    if (this.arena !== null) return this.arena.i32(n)
    return this.threads === null ? new Int32Array(n) : new Int32Array(new SharedArrayBuffer(n * 4))
  }

  /** Which kernels run the row passes and dense layers: WebAssembly SIMD, or the JavaScript fallback. */
  get kernels(): "wasm-simd" | "js" {
    return this.arena !== null ? "wasm-simd" : "js"
  }

  /** Stop the worker threads (the model stays usable on this thread alone). */
  close(): void {
    this.threads?.close()
  }

  /** The workers' view of the buffers, re-sent after any of them was reallocated. */
  private shareWithThreads(): RowThreads {
    const th = this.threads!
    if (this.reshare) {
      th.share(this.tables(), this.tv.length)
      this.reshare = false
    }
    return th
  }

  /** The row passes' arrays as they are now. */
  private tables(): RowTables {
    return {
      D: this.D,
      emb: this.w.emb,
      m: this.m.emb,
      v: this.v.emb,
      rows: this.rows,
      rowStart: this.rowStart,
      eSlot: this.eSlot,
      eW: this.eW,
      tg: this.tg
    }
  }

  /**
   * Lane boundaries over the rows: lane i takes rows [b[i], b[i+1]), balanced by `rowCost` per row
   * plus one per entry.
   */
  private lanes(count: number, rowCost: number): Int32Array {
    const b = new Int32Array(count + 1),
      start = this.rowStart,
      n = this.nRows
    const total = start[n]! + rowCost * n
    let lane = 1
    for (let k = 0; k < n && lane < count; k++) {
      if (start[k]! + rowCost * k >= (total * lane) / count) b[lane++] = k
    }
    while (lane <= count) b[lane++] = n
    return b
  }

  private bags(texts: TextTable): Bags | null {
    return this.bagInput ? bagsOf(texts) : null
  }

  /** The vector of text t (mean of its bag's rows, or its dense vector) into out[oo ..]. */
  private pool(texts: TextTable, bags: Bags | null, t: number, out: Float64Array, oo: number): void {
    const D = this.D
    if (bags === null) {
      const x = texts.vectors!,
        o = t * D
      for (let k = 0; k < D; k++) out[oo + k] = x[o + k]!
      return
    }
    const E = this.w.emb,
      ids = bags.ids,
      c = bags.counts,
      to = bags.offsets[t + 1]!
    out.fill(0, oo, oo + D)
    for (let i = bags.offsets[t]!; i < to; i++) addScaled(out, oo, c[i]!, E, ids[i]! * D, D)
    const inv = bags.inv[t]!
    for (let k = 0; k < D; k++) out[oo + k]! *= inv
  }

  /** Spread dL/d(bag mean) = grad[go ..] over the bag's distinct rows (one slot per touched row). */
  private spread(bags: Bags | null, t: number, grad: Float64Array, go: number): void {
    if (bags === null) return
    const D = this.D,
      ids = bags.ids,
      c = bags.counts,
      inv = bags.inv[t]!,
      slotOf = this.slotOf,
      to = bags.offsets[t + 1]!
    for (let i = bags.offsets[t]!; i < to; i++) {
      const row = ids[i]!
      let s = slotOf[row]!
      if (s < 0) {
        s = this.nTouched++
        if (s >= this.touched.length) this.grow()
        slotOf[row] = s
        this.touched[s] = row
      }
      addScaled32(this.gEmb, s * D, c[i]! * inv, grad, go, D)
    }
  }

  /** b1 + W1[0:D]ᵀ p: the prompt half of layer 1, shared by the prompt's responses. */
  private promptPre(x: Float64Array, xo: number, out: Float64Array): void {
    this.dense.promptPre(this.w, x, xo, out, this.D, this.H)
  }

  private respScore(x: Float64Array, xo: number, pre: Float64Array, h: Float64Array): number {
    return this.dense.respScore(this.w, x, xo, this.pp, pre, h, this.D, this.H)
  }

  /** dL/ds = ds through one response: dense grads of its half, dL/dpre into dhSum, dL/d(vector) added to out[oo ..]. */
  private respBackward(
    ds: number,
    x: Float64Array,
    xo: number,
    pre: Float64Array,
    h: Float64Array,
    out: Float64Array,
    oo: number
  ): void {
    this.dense.respBackward(ds, this.w, this.g, x, xo, pre, h, this.dh, this.dhSum, out, oo, this.D, this.H)
  }

  /** The prompt half of the backward from dhSum: W1[0:D] grads, dL/d(prompt vector) added to out[oo ..]. */
  private promptBackward(x: Float64Array, xo: number, out: Float64Array, oo: number): void {
    this.dense.promptBackward(this.w, this.g, x, xo, this.dhSum, out, oo, this.D, this.H)
  }

  private grow(): void {
    const t = new Int32Array(this.touched.length * 2)
    t.set(this.touched)
    this.touched = t
    const g = new Float32Array(this.gEmb.length * 2)
    g.set(this.gEmb)
    this.gEmb = g
  }

  private scratch(n: number): { pre: Float64Array[]; h: Float64Array[] } {
    while (this.pres.length < n) {
      this.pres.push(this.vec(this.H))
      this.hs.push(this.vec(this.H))
    }
    return { pre: this.pres, h: this.hs }
  }

  /** The distinct texts of pairs `idx`, each pooled once; offsets of each pair's three vectors in `tv`. */
  private collect(pairs: PairSet, idx: Int32Array, at: Int32Array): void {
    this.flushPending()
    const texts = pairs.texts,
      batch = this.batch
    batch.begin(texts.count)
    for (let i = 0; i < idx.length; i++) {
      const p = idx[i]!
      at[3 * i] = batch.slot(pairs.prompt[p]!)
      at[3 * i + 1] = batch.slot(pairs.chosen[p]!)
      at[3 * i + 2] = batch.slot(pairs.rejected[p]!)
    }
    const n = batch.count,
      need = n * this.D
    if (this.tv.length < need) {
      this.tv = this.f64(need * 2)
      this.tg = this.f64(need * 2)
    }
    const bags = this.bags(texts)
    if (bags === null) {
      const slotText = batch.slotText
      for (let s = 0; s < n; s++) this.pool(texts, bags, slotText[s]!, this.tv, s * this.D)
      return
    }
    this.entries(bags)
    this.poolByRow()
  }

  /** Group the batch's bag entries by row (a counting sort over the touched rows). */
  private entries(bags: Bags): void {
    const D = this.D,
      cnt = this.rowCount,
      bits = this.rowBits,
      ids = bags.ids,
      off = bags.offsets,
      nSlots = this.batch.count,
      slotText = this.batch.slotText
    let total = 0
    for (let s = 0; s < nSlots; s++) {
      const t = slotText[s]!,
        to = off[t + 1]!
      total += to - off[t]!
      for (let i = off[t]!; i < to; i++) {
        const r = ids[i]!
        cnt[r]!++
        bits[r >>> 5]! |= 1 << (r & 31)
      }
    }
    if (this.eSlot.length < total) {
      this.eSlot = this.i32(total * 2)
      this.eW = this.f64(total * 2)
    }
    // rows ascending (words in order, each word's bits lowest first) with their first entry; cnt[row]
    // becomes the row's write cursor. The bitmap is 1/32 of the table's rows and sits in cache; a scan
    // of every row's count was a 1 MB pass with an unpredictable branch per row.
    let n = 0,
      at = 0
    for (let wi = 0; wi < bits.length; wi++) {
      let b = bits[wi]!
      if (b === 0) continue
      bits[wi] = 0
      if (n + 32 >= this.rows.length) this.growRows()
      const base = wi << 5
      while (b !== 0) {
        const low = b & -b
        b ^= low
        const r = base + 31 - Math.clz32(low),
          c = cnt[r]!
        this.rows[n] = r
        this.rowStart[n++] = at
        cnt[r] = at
        at += c
      }
    }
    this.rowStart[n] = at
    this.nRows = n
    const c = bags.counts,
      eSlot = this.eSlot,
      eW = this.eW
    for (let s = 0; s < nSlots; s++) {
      const t = slotText[s]!,
        to = off[t + 1]!,
        inv = bags.inv[t]!
      for (let i = off[t]!; i < to; i++) {
        const e = cnt[ids[i]!]!++
        eSlot[e] = s * D
        eW[e] = c[i]! * inv
      }
    }
    for (let k = 0; k < n; k++) cnt[this.rows[k]!] = 0
  }

  private growRows(): void {
    const r = this.i32(this.rows.length * 2)
    r.set(this.rows)
    this.rows = r
    const a = this.i32(r.length + 1)
    a.set(this.rowStart)
    this.rowStart = a
  }

  /** Every slot's bag mean, reading each touched row once, in address order. */
  private poolByRow(): void {
    const tv = this.tv,
      start = this.rowStart
    const n = this.batch.count * this.D
    let k1 = this.nRows
    const th = this.threads !== null && start[this.nRows]! >= PARALLEL_MIN ? this.shareWithThreads() : null
    if (th !== null) {
      const b = this.lanes(th.count + 1, 0)
      k1 = b[1]!
      for (let i = 0; i < th.count; i++) th.start(i, CMD_POOL, b[i + 1]!, b[i + 2]!, n)
    }
    tv.fill(0, 0, n)
    this.kern.pool(this.tables(), tv, 0, k1)
    if (th === null) return
    th.wait()
    for (let i = 0; i < th.count; i++) {
      const part = th.part(i)
      for (let j = 0; j < n; j++) tv[j]! += part[j]!
    }
  }

  /** Bag gradients still in `tg` (a second loss before a step): spread them into per-row slots. */
  private flushPending(): void {
    if (!this.pending) return
    this.pending = false
    const D = this.D,
      g = this.gRow
    for (let k = 0; k < this.nRows; k++) {
      rowGradientJs(this.tables(), g, k)
      const row = this.rows[k]!
      let s = this.slotOf[row]!
      if (s < 0) {
        s = this.nTouched++
        if (s >= this.touched.length) this.grow()
        this.slotOf[row] = s
        this.touched[s] = row
      }
      addScaled32(this.gEmb, s * D, 1, g, 0, D)
    }
  }

  private at = new Int32Array(3 * 256)
  private atFor(n: number): Int32Array {
    if (this.at.length < 3 * n) this.at = new Int32Array(3 * n)
    return this.at
  }

  /**
   * Bradley–Terry loss over the pairs `idx` (accumulating gradients when `grad`): per pair
   * (1−α)·softplus(−d) + α·softplus(d), d = s_c − s_r − margin; returns Σwℓ/Σw and the non-tie pairs
   * ranked right (s_c > s_r).
   */
  pairLoss(pairs: PairSet, idx: Int32Array, grad: boolean): BatchResult {
    const { pre, h } = this.scratch(2)
    const at = this.atFor(idx.length)
    this.collect(pairs, idx, at)
    const tg = this.tg
    if (grad) tg.fill(0, 0, this.batch.count * this.D)
    const tally = new PairLossTally(pairs, idx)
    for (let i = 0; i < idx.length; i++) {
      const po = at[3 * i]!,
        co = at[3 * i + 1]!,
        ro = at[3 * i + 2]!
      this.promptPre(this.tv, po, this.pp)
      const sc = this.respScore(this.tv, co, pre[0]!, h[0]!)
      const sr = this.respScore(this.tv, ro, pre[1]!, h[1]!)
      const gd = tally.add(idx[i]!, sc, sr)
      if (!grad) continue
      this.dhSum.fill(0)
      this.respBackward(gd, this.tv, co, pre[0]!, h[0]!, tg, co)
      this.respBackward(-gd, this.tv, ro, pre[1]!, h[1]!, tg, ro)
      this.promptBackward(this.tv, po, tg, po)
    }
    // the bag rows' gradients are summed per row and applied in `step`, in one pass in row order
    if (grad && this.bagInput) this.pending = true
    this.batch.release()
    return tally.result()
  }

  /** Plackett–Luce over the lists `idx` (best first); correct: lists whose best member scores highest. */
  listLoss(lists: ListSet, idx: Int32Array, grad: boolean): BatchResult {
    this.flushPending()
    const D = this.D,
      texts = lists.texts,
      bags = this.bags(texts)
    let total = 0,
      correct = 0
    for (let i = 0; i < idx.length; i++) {
      const l = idx[i]!,
        from = lists.starts[l]!,
        k = lists.starts[l + 1]! - from
      const { pre, h } = this.scratch(k)
      // the prompt's vector at 0, member j's at (j + 1)·D
      if (this.tv.length < (k + 1) * D) {
        this.tv = this.f64((k + 1) * D * 2)
        this.tg = this.f64((k + 1) * D * 2)
      }
      const tv = this.tv
      this.pool(texts, bags, lists.prompt[l]!, tv, 0)
      this.promptPre(tv, 0, this.pp)
      const s = new Float64Array(k),
        ds = new Float64Array(k)
      for (let j = 0; j < k; j++) {
        this.pool(texts, bags, lists.members[from + j]!, tv, (j + 1) * D)
        s[j] = this.respScore(tv, (j + 1) * D, pre[j]!, h[j]!)
      }
      let best = 0
      for (let j = 1; j < k; j++) if (s[j]! > s[best]!) best = j
      if (best === 0) correct++
      for (let a = 0; a < k - 1; a++) {
        let mx = -Infinity
        for (let j = a; j < k; j++) mx = Math.max(mx, s[j]!)
        let z = 0
        for (let j = a; j < k; j++) z += Math.exp(s[j]! - mx)
        total += mx + Math.log(z) - s[a]!
        ds[a]! -= 1
        for (let j = a; j < k; j++) ds[j]! += Math.exp(s[j]! - mx) / z
      }
      if (!grad) continue
      this.dhSum.fill(0)
      const drv = this.drv
      for (let j = 0; j < k; j++) {
        drv.fill(0)
        this.respBackward(ds[j]! / idx.length, tv, (j + 1) * D, pre[j]!, h[j]!, drv, 0)
        this.spread(bags, lists.members[from + j]!, drv, 0)
      }
      drv.fill(0)
      this.promptBackward(tv, 0, drv, 0)
      this.spread(bags, lists.prompt[l]!, drv, 0)
    }
    return { loss: total / idx.length, correct, counted: idx.length }
  }

  /** Apply the accumulated gradients at learning rate `lr` (touched rows only, once each), then clear them. */
  step(lr: number): void {
    // gradients from lists (slots) and from pairs (row entries) at once: rare; fold them into slots
    if (this.pending && this.nTouched > 0) this.flushPending()
    this.t++
    const D = this.D,
      E = this.w.emb,
      gE = this.gEmb,
      w = this.w,
      g = this.g
    const dense = ["w1", "b1", "w2", "b2"] as const
    if (this.pending) this.stepRows(lr)
    if (this.opt.kind === "sgd") {
      for (let s = 0; s < this.nTouched; s++) {
        const r = this.touched[s]! * D,
          o = s * D
        for (let k = 0; k < D; k++) E[r + k]! -= lr * gE[o + k]!
      }
      for (const n of dense) for (let i = 0; i < w[n].length; i++) w[n][i]! -= lr * g[n][i]!
    } else {
      // lr·m̂/(√v̂ + ε) with m̂ = m/(1−β1ᵗ), √v̂ = √v/√(1−β2ᵗ): the corrections folded into two scalars
      const a = lr / (1 - 0.9 ** this.t),
        sc = 1 / Math.sqrt(1 - 0.999 ** this.t)
      const mE = this.m.emb,
        vE = this.v.emb
      // rows in address order, not first-touch order: E, m and v stream through memory (3 of the 4
      // arrays the update reads are 2^bucketsLog2 rows: random rows cost a cache miss each)
      const slotOf = this.slotOf
      if (this.nTouched * 8 > this.V) {
        for (let r = 0; r < this.V; r++) if (slotOf[r]! >= 0) adam(E, mE, vE, gE, r * D, slotOf[r]! * D, D, a, sc)
      } else {
        const rows = this.touched.slice(0, this.nTouched).sort()
        for (let i = 0; i < rows.length; i++) adam(E, mE, vE, gE, rows[i]! * D, slotOf[rows[i]!]! * D, D, a, sc)
      }
      for (const n of dense) adam(w[n], this.m[n], this.v[n], g[n], 0, 0, w[n].length, a, sc)
    }
    for (let s = 0; s < this.nTouched; s++) this.slotOf[this.touched[s]!] = -1
    gE.fill(0, 0, this.nTouched * D)
    this.nTouched = 0
    for (const n of dense) g[n].fill(0)
  }

  /** The embedding update for the pending row entries: each row's gradient summed, then applied. */
  private stepRows(lr: number): void {
    this.pending = false
    const a = lr / (1 - 0.9 ** this.t),
      sc = 1 / Math.sqrt(1 - 0.999 ** this.t)
    let k1 = this.nRows
    const th = this.threads !== null && this.rowStart[this.nRows]! >= PARALLEL_MIN ? this.shareWithThreads() : null
    if (th !== null) {
      // an update costs about three entries' work per row (sqrt, divide, three tables)
      const b = this.lanes(th.count + 1, 3)
      k1 = b[1]!
      const sgd = this.opt.kind === "sgd"
      for (let i = 0; i < th.count; i++)
        th.start(i, sgd ? CMD_SGD : CMD_ADAM, b[i + 1]!, b[i + 2]!, 0, sgd ? lr : a, sc)
    }
    this.stepRowRange(k1, lr, a, sc)
    th?.wait()
  }

  /** The update of rows [0, k1) on this thread. */
  private stepRowRange(k1: number, lr: number, a: number, sc: number): void {
    if (this.opt.kind === "sgd") this.kern.sgd(this.tables(), this.gRow, 0, k1, lr)
    else this.kern.adam(this.tables(), this.gRow, 0, k1, a, sc)
  }

  /** Scores of the chosen and rejected text of each pair (in chunks, each shared text pooled once). */
  scorePairs(pairs: PairSet): { chosen: Float32Array; rejected: Float32Array } {
    const n = pairs.prompt.length,
      chosen = new Float32Array(n),
      rejected = new Float32Array(n)
    const { pre, h } = this.scratch(1)
    const CHUNK = 1024,
      idx = new Int32Array(CHUNK),
      at = this.atFor(CHUNK)
    for (let from = 0; from < n; from += CHUNK) {
      const m = Math.min(CHUNK, n - from)
      for (let i = 0; i < m; i++) idx[i] = from + i
      this.collect(pairs, idx.subarray(0, m), at)
      for (let i = 0; i < m; i++) {
        this.promptPre(this.tv, at[3 * i]!, this.pp)
        chosen[from + i] = this.respScore(this.tv, at[3 * i + 1]!, pre[0]!, h[0]!)
        rejected[from + i] = this.respScore(this.tv, at[3 * i + 2]!, pre[0]!, h[0]!)
      }
      this.batch.release()
    }
    return { chosen, rejected }
  }
}
