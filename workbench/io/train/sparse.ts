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
import { adam, addScaled, addScaled32, rowGrad } from "./kernels.js"
import type { Weights } from "./weights.js"

export interface OptimizerSpec {
  readonly kind: "adam" | "sgd"
  lr: number
}

export interface BatchResult {
  loss: number
  correct: number
  counted: number
}

const softplus = (x: number) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)))
const sigmoid = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)))

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
  /** The batch's distinct texts: text → slot (−1: none), slot → text, pooled vectors and their grads. */
  private textSlot = new Int32Array(0)
  private slotText = new Int32Array(1024)
  private tv = new Float64Array(0)
  private tg = new Float64Array(0)
  private nSlots = 0

  constructor(
    readonly config: ModelConfig,
    readonly w: Weights,
    readonly opt: OptimizerSpec
  ) {
    this.D = config.dim
    this.H = config.hidden
    this.bagInput = config.input === "bag"
    this.V = this.bagInput ? w.emb.length / this.D : 0
    const zeros = (n: number) => new Float32Array(n)
    const like = (x: Weights, slots: boolean): Weights => ({
      emb: zeros(slots ? x.emb.length : 0),
      w1: zeros(x.w1.length),
      b1: zeros(x.b1.length),
      w2: zeros(x.w2.length),
      b2: zeros(1)
    })
    this.g = like(w, false)
    this.m = like(w, opt.kind === "adam")
    this.v = like(w, opt.kind === "adam")
    this.slotOf = new Int32Array(this.V).fill(-1)
    this.gEmb = new Float32Array(4096 * this.D)
    this.pp = new Float64Array(this.H)
    this.dhSum = new Float64Array(this.H)
    this.dh = new Float64Array(this.H)
    this.drv = new Float64Array(this.D)
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
    const D = this.D,
      H = this.H,
      w1 = this.w.w1
    for (let j = 0; j < H; j++) out[j] = this.w.b1[j]!
    for (let k = 0; k < D; k++) addScaled(out, 0, x[xo + k]!, w1, k * H, H)
  }

  private respScore(x: Float64Array, xo: number, pre: Float64Array, h: Float64Array): number {
    const D = this.D,
      H = this.H,
      w1 = this.w.w1,
      w2 = this.w.w2
    for (let j = 0; j < H; j++) pre[j] = this.pp[j]!
    for (let k = 0; k < D; k++) addScaled(pre, 0, x[xo + k]!, w1, (D + k) * H, H)
    let s = this.w.b2[0]!
    for (let j = 0; j < H; j++) {
      const a = pre[j]! > 0 ? pre[j]! : 0
      h[j] = a
      s += a * w2[j]!
    }
    return s
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
    const D = this.D,
      H = this.H,
      dh = this.dh,
      w2 = this.w.w2,
      g = this.g
    g.b2[0]! += ds
    for (let j = 0; j < H; j++) {
      g.w2[j]! += ds * h[j]!
      const d = pre[j]! > 0 ? ds * w2[j]! : 0
      dh[j] = d
      g.b1[j]! += d
      this.dhSum[j]! += d
    }
    for (let k = 0; k < D; k++) out[oo + k]! += rowGrad(g.w1, this.w.w1, (D + k) * H, x[xo + k]!, dh, H)
  }

  /** The prompt half of the backward from dhSum: W1[0:D] grads, dL/d(prompt vector) added to out[oo ..]. */
  private promptBackward(x: Float64Array, xo: number, out: Float64Array, oo: number): void {
    const D = this.D,
      H = this.H
    for (let k = 0; k < D; k++) out[oo + k]! += rowGrad(this.g.w1, this.w.w1, k * H, x[xo + k]!, this.dhSum, H)
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
      this.pres.push(new Float64Array(this.H))
      this.hs.push(new Float64Array(this.H))
    }
    return { pre: this.pres, h: this.hs }
  }

  /** Slot of text t in this batch (pooled later by `poolSlots`). */
  private slot(t: number): number {
    let s = this.textSlot[t]!
    if (s < 0) {
      s = this.nSlots++
      if (s >= this.slotText.length) {
        const a = new Int32Array(s * 2)
        a.set(this.slotText)
        this.slotText = a
      }
      this.textSlot[t] = s
      this.slotText[s] = t
    }
    return s * this.D
  }

  /** The distinct texts of pairs `idx`, each pooled once; offsets of each pair's three vectors in `tv`. */
  private collect(pairs: PairSet, idx: Int32Array, at: Int32Array): void {
    const texts = pairs.texts
    if (this.textSlot.length < texts.count) this.textSlot = new Int32Array(texts.count).fill(-1)
    this.nSlots = 0
    for (let i = 0; i < idx.length; i++) {
      const p = idx[i]!
      at[3 * i] = this.slot(pairs.prompt[p]!)
      at[3 * i + 1] = this.slot(pairs.chosen[p]!)
      at[3 * i + 2] = this.slot(pairs.rejected[p]!)
    }
    const need = this.nSlots * this.D
    if (this.tv.length < need) {
      this.tv = new Float64Array(need * 2)
      this.tg = new Float64Array(need * 2)
    }
    const bags = this.bags(texts)
    for (let s = 0; s < this.nSlots; s++) this.pool(texts, bags, this.slotText[s]!, this.tv, s * this.D)
  }

  private release(): void {
    for (let s = 0; s < this.nSlots; s++) this.textSlot[this.slotText[s]!] = -1
    this.nSlots = 0
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
    if (grad) tg.fill(0, 0, this.nSlots * this.D)
    let wsum = 0
    for (let i = 0; i < idx.length; i++) wsum += pairs.weight[idx[i]!]!
    let total = 0,
      correct = 0,
      counted = 0
    for (let i = 0; i < idx.length; i++) {
      const p = idx[i]!,
        po = at[3 * i]!,
        co = at[3 * i + 1]!,
        ro = at[3 * i + 2]!
      this.promptPre(this.tv, po, this.pp)
      const sc = this.respScore(this.tv, co, pre[0]!, h[0]!)
      const sr = this.respScore(this.tv, ro, pre[1]!, h[1]!)
      const a = pairs.smoothing[p]!,
        w = pairs.weight[p]!,
        d = sc - sr - pairs.margin[p]!
      total += w * ((1 - a) * softplus(-d) + a * softplus(d))
      if (pairs.tie[p] === 0) {
        counted++
        if (sc > sr) correct++
      }
      if (!grad) continue
      const gd = ((sigmoid(d) - (1 - a)) * w) / wsum
      this.dhSum.fill(0)
      this.respBackward(gd, this.tv, co, pre[0]!, h[0]!, tg, co)
      this.respBackward(-gd, this.tv, ro, pre[1]!, h[1]!, tg, ro)
      this.promptBackward(this.tv, po, tg, po)
    }
    if (grad) {
      const bags = this.bags(pairs.texts)
      for (let s = 0; s < this.nSlots; s++) this.spread(bags, this.slotText[s]!, tg, s * this.D)
    }
    this.release()
    return { loss: total / wsum, correct, counted }
  }

  /** Plackett–Luce over the lists `idx` (best first); correct: lists whose best member scores highest. */
  listLoss(lists: ListSet, idx: Int32Array, grad: boolean): BatchResult {
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
        this.tv = new Float64Array((k + 1) * D * 2)
        this.tg = new Float64Array((k + 1) * D * 2)
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
    this.t++
    const D = this.D,
      E = this.w.emb,
      gE = this.gEmb,
      w = this.w,
      g = this.g
    const dense = ["w1", "b1", "w2", "b2"] as const
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
      this.release()
    }
    return { chosen, rejected }
  }
}
