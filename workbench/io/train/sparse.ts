/**
 * The sparse trainer: the reward model in plain TypeScript. Forward reads only the table rows in each
 * bag; backward accumulates one gradient slot per touched row; the optimizer updates only those rows
 * (lazy Adam: untouched rows' moments do not decay, as TF's LazyAdam). tfjs has no sparse gradients,
 * so its every step runs dense Adam over the whole table: this trainer is 3–5× tfjs-wasm here.
 * Ported from ../shared/guides/tfjs-training-examples/lib/sparse.ts (same maths, same weight layout;
 * the equivalence test holds it to tfjs step by step). Hot loops are inlined on purpose.
 */
import type { ListSet, ModelConfig, PairSet, TextTable } from "../../core/trainer.js"
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
  private readonly bagInput: boolean
  private readonly g: Weights
  private readonly m: Weights
  private readonly v: Weights
  private slotOf: Int32Array
  private touched = new Int32Array(4096)
  private gEmb: Float32Array
  private nTouched = 0
  private t = 0
  private readonly pv: Float64Array
  private readonly pp: Float64Array
  private readonly dhSum: Float64Array
  private readonly dh: Float64Array
  private readonly drv: Float64Array
  private readonly dpv: Float64Array
  private readonly vecs: Float64Array[] = []
  private readonly pres: Float64Array[] = []
  private readonly hs: Float64Array[] = []

  constructor(
    readonly config: ModelConfig,
    readonly w: Weights,
    readonly opt: OptimizerSpec
  ) {
    this.D = config.dim
    this.H = config.hidden
    this.bagInput = config.input === "bag"
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
    this.slotOf = new Int32Array(this.bagInput ? w.emb.length / this.D : 0).fill(-1)
    this.gEmb = new Float32Array(4096 * this.D)
    const D = this.D,
      H = this.H
    this.pv = new Float64Array(D)
    this.pp = new Float64Array(H)
    this.dhSum = new Float64Array(H)
    this.dh = new Float64Array(H)
    this.drv = new Float64Array(D)
    this.dpv = new Float64Array(D)
  }

  /** The vector of text t (mean of its bag's rows, or its dense vector) into out. */
  private text(texts: TextTable, t: number, out: Float64Array): void {
    const D = this.D
    if (!this.bagInput) {
      const x = texts.vectors!,
        o = t * D
      for (let k = 0; k < D; k++) out[k] = x[o + k]!
      return
    }
    const E = this.w.emb,
      ids = texts.ids!,
      from = texts.offsets![t]!,
      to = texts.offsets![t + 1]!
    out.fill(0)
    for (let i = from; i < to; i++) {
      const r = ids[i]! * D
      for (let k = 0; k < D; k++) out[k]! += E[r + k]!
    }
    const inv = 1 / (to - from)
    for (let k = 0; k < D; k++) out[k]! *= inv
  }

  /** b1 + W1[0:D]ᵀ p: the prompt half of layer 1, shared by the prompt's responses. */
  private promptPre(pv: Float64Array, out: Float64Array): void {
    const D = this.D,
      H = this.H,
      w1 = this.w.w1,
      b1 = this.w.b1
    for (let j = 0; j < H; j++) out[j] = b1[j]!
    for (let k = 0; k < D; k++) {
      const x = pv[k]!,
        r = k * H
      for (let j = 0; j < H; j++) out[j]! += x * w1[r + j]!
    }
  }

  private respScore(pp: Float64Array, rv: Float64Array, pre: Float64Array, h: Float64Array): number {
    const D = this.D,
      H = this.H,
      w1 = this.w.w1,
      w2 = this.w.w2
    for (let j = 0; j < H; j++) pre[j] = pp[j]!
    for (let k = 0; k < D; k++) {
      const x = rv[k]!,
        r = (D + k) * H
      for (let j = 0; j < H; j++) pre[j]! += x * w1[r + j]!
    }
    let s = this.w.b2[0]!
    for (let j = 0; j < H; j++) {
      const a = pre[j]! > 0 ? pre[j]! : 0
      h[j] = a
      s += a * w2[j]!
    }
    return s
  }

  /** dL/ds = ds through one response: dense grads of its half, dL/dpre into dhSum, dL/d(vector) into drv. */
  private respBackward(ds: number, rv: Float64Array, pre: Float64Array, h: Float64Array): void {
    const D = this.D,
      H = this.H,
      dh = this.dh,
      dhSum = this.dhSum,
      drv = this.drv
    const w1 = this.w.w1,
      w2 = this.w.w2,
      g = this.g
    g.b2[0]! += ds
    for (let j = 0; j < H; j++) {
      g.w2[j]! += ds * h[j]!
      const d = pre[j]! > 0 ? ds * w2[j]! : 0
      dh[j] = d
      g.b1[j]! += d
      dhSum[j]! += d
    }
    for (let k = 0; k < D; k++) {
      const x = rv[k]!,
        r = (D + k) * H
      let acc = 0
      for (let j = 0; j < H; j++) {
        const d = dh[j]!
        g.w1[r + j]! += x * d
        acc += w1[r + j]! * d
      }
      drv[k] = acc
    }
  }

  private promptBackward(): void {
    const D = this.D,
      H = this.H,
      w1 = this.w.w1,
      g = this.g.w1,
      pv = this.pv,
      dhSum = this.dhSum
    for (let k = 0; k < D; k++) {
      const x = pv[k]!,
        r = k * H
      let acc = 0
      for (let j = 0; j < H; j++) {
        const d = dhSum[j]!
        g[r + j]! += x * d
        acc += w1[r + j]! * d
      }
      this.dpv[k] = acc
    }
  }

  /** Spread dL/d(bag mean) over the bag's rows (one slot per touched row). */
  private textBackward(texts: TextTable, t: number, grad: Float64Array): void {
    if (!this.bagInput) return
    const D = this.D,
      ids = texts.ids!,
      from = texts.offsets![t]!,
      to = texts.offsets![t + 1]!
    const inv = 1 / (to - from)
    for (let i = from; i < to; i++) {
      const row = ids[i]!
      let s = this.slotOf[row]!
      if (s < 0) {
        s = this.nTouched++
        if (s >= this.touched.length) this.grow()
        this.slotOf[row] = s
        this.touched[s] = row
      }
      const o = s * D,
        gE = this.gEmb
      for (let k = 0; k < D; k++) gE[o + k]! += grad[k]! * inv
    }
  }

  private grow(): void {
    const t = new Int32Array(this.touched.length * 2)
    t.set(this.touched)
    this.touched = t
    const g = new Float32Array(this.gEmb.length * 2)
    g.set(this.gEmb)
    this.gEmb = g
  }

  private scratch(n: number): { vec: Float64Array[]; pre: Float64Array[]; h: Float64Array[] } {
    while (this.vecs.length < n) {
      this.vecs.push(new Float64Array(this.D))
      this.pres.push(new Float64Array(this.H))
      this.hs.push(new Float64Array(this.H))
    }
    return { vec: this.vecs, pre: this.pres, h: this.hs }
  }

  /**
   * Bradley–Terry loss over the pairs `idx` (accumulating gradients when `grad`): per pair
   * (1−α)·softplus(−d) + α·softplus(d), d = s_c − s_r − margin; returns Σwℓ/Σw and the non-tie pairs
   * ranked right (s_c > s_r).
   */
  pairLoss(pairs: PairSet, idx: Int32Array, grad: boolean): BatchResult {
    const { vec, pre, h } = this.scratch(2)
    const [cv, rv] = vec as [Float64Array, Float64Array]
    let wsum = 0
    for (let i = 0; i < idx.length; i++) wsum += pairs.weight[idx[i]!]!
    let total = 0,
      correct = 0,
      counted = 0
    for (let i = 0; i < idx.length; i++) {
      const p = idx[i]!,
        pt = pairs.prompt[p]!,
        ct = pairs.chosen[p]!,
        rt = pairs.rejected[p]!
      this.text(pairs.texts, pt, this.pv)
      this.promptPre(this.pv, this.pp)
      this.text(pairs.texts, ct, cv)
      const sc = this.respScore(this.pp, cv, pre[0]!, h[0]!)
      this.text(pairs.texts, rt, rv)
      const sr = this.respScore(this.pp, rv, pre[1]!, h[1]!)
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
      this.respBackward(gd, cv, pre[0]!, h[0]!)
      this.textBackward(pairs.texts, ct, this.drv)
      this.respBackward(-gd, rv, pre[1]!, h[1]!)
      this.textBackward(pairs.texts, rt, this.drv)
      this.promptBackward()
      this.textBackward(pairs.texts, pt, this.dpv)
    }
    return { loss: total / wsum, correct, counted }
  }

  /** Plackett–Luce over the lists `idx` (best first); correct: lists whose best member scores highest. */
  listLoss(lists: ListSet, idx: Int32Array, grad: boolean): BatchResult {
    let total = 0,
      correct = 0
    for (let i = 0; i < idx.length; i++) {
      const l = idx[i]!,
        from = lists.starts[l]!,
        k = lists.starts[l + 1]! - from
      const { vec, pre, h } = this.scratch(k)
      this.text(lists.texts, lists.prompt[l]!, this.pv)
      this.promptPre(this.pv, this.pp)
      const s = new Float64Array(k),
        ds = new Float64Array(k)
      for (let j = 0; j < k; j++) {
        this.text(lists.texts, lists.members[from + j]!, vec[j]!)
        s[j] = this.respScore(this.pp, vec[j]!, pre[j]!, h[j]!)
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
      for (let j = 0; j < k; j++) {
        this.respBackward(ds[j]! / idx.length, vec[j]!, pre[j]!, h[j]!)
        this.textBackward(lists.texts, lists.members[from + j]!, this.drv)
      }
      this.promptBackward()
      this.textBackward(lists.texts, lists.prompt[l]!, this.dpv)
    }
    return { loss: total / idx.length, correct, counted: idx.length }
  }

  /** Apply the accumulated gradients at learning rate `lr` (touched rows only), then clear them. */
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
      const b1 = 0.9,
        b2 = 0.999,
        eps = 1e-7
      const c1 = 1 - b1 ** this.t,
        c2 = 1 - b2 ** this.t
      const upd = (
        p: Float32Array,
        m: Float32Array,
        v: Float32Array,
        gr: Float32Array,
        po: number,
        go: number,
        n: number
      ) => {
        for (let i = 0; i < n; i++) {
          const gi = gr[go + i]!,
            pi = po + i
          const mi = (m[pi] = b1 * m[pi]! + (1 - b1) * gi)
          const vi = (v[pi] = b2 * v[pi]! + (1 - b2) * gi * gi)
          p[pi]! -= (lr * (mi / c1)) / (Math.sqrt(vi / c2) + eps)
        }
      }
      for (let s = 0; s < this.nTouched; s++) upd(E, this.m.emb, this.v.emb, gE, this.touched[s]! * D, s * D, D)
      for (const n of dense) upd(w[n], this.m[n], this.v[n], g[n], 0, 0, w[n].length)
    }
    for (let s = 0; s < this.nTouched; s++) this.slotOf[this.touched[s]!] = -1
    gE.fill(0, 0, this.nTouched * D)
    this.nTouched = 0
    for (const n of dense) g[n].fill(0)
  }

  /** Scores of the chosen and rejected text of each pair. */
  scorePairs(pairs: PairSet): { chosen: Float32Array; rejected: Float32Array } {
    const n = pairs.prompt.length,
      chosen = new Float32Array(n),
      rejected = new Float32Array(n)
    const { vec, pre, h } = this.scratch(1)
    for (let p = 0; p < n; p++) {
      this.text(pairs.texts, pairs.prompt[p]!, this.pv)
      this.promptPre(this.pv, this.pp)
      this.text(pairs.texts, pairs.chosen[p]!, vec[0]!)
      chosen[p] = this.respScore(this.pp, vec[0]!, pre[0]!, h[0]!)
      this.text(pairs.texts, pairs.rejected[p]!, vec[0]!)
      rejected[p] = this.respScore(this.pp, vec[0]!, pre[0]!, h[0]!)
    }
    return { chosen, rejected }
  }
}
