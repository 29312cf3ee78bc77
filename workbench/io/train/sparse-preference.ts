/**
 * The sparse trainer for the pairwise preference model (*Nash Learning from Human Feedback*):
 * g(p, x, y) = w2ᵀ relu(W1ᵀ [p; x; y] + b1) + b2 with W1 [3D, H], and logit P(c ≻ r) = g(p, c, r) −
 * g(p, r, c). The loss is the reward model's on that logit (smoothing, margin, weight, ties alike),
 * so only the forward and backward differ from sparse.ts; the bags (bags.ts), the kernels (kernels.ts)
 * and the lazy Adam over touched rows are the same. Antisymmetric by construction: swapping a and b
 * negates the logit exactly (b2 cancels, and gets a zero gradient), so no position bias can be learnt.
 *
 * Per pair, W1's three D-row blocks give H-vectors P = b1 + W1[0:D]ᵀp, C1/C2 = W1[D:2D]ᵀc / W1[2D:3D]ᵀc
 * and R1/R2 alike; pre(c, r) = P + C1 + R2, pre(r, c) = P + R1 + C2. Each distinct text of a batch is
 * pooled once and its gradient spread once, as in sparse.ts.
 */
import type { ModelConfig, PairSet, TextTable } from "../../core/trainer.js"
import { type Bags, bagsOf } from "./bags.js"
import { BatchTexts } from "./batch-texts.js"
import { adam, addScaled, addScaled32, rowGrad } from "./kernels.js"
import { type BatchResult, PairLossTally } from "./pair-loss.js"
import type { OptimizerSpec } from "./sparse.js"
import type { Weights } from "./weights.js"

const DENSE = ["w1", "b1", "w2", "b2"] as const

export class SparsePreferenceModel {
  /** Its loops are JavaScript only (no WebAssembly kernels yet). */
  readonly kernels = "js" as const
  readonly D: number
  readonly H: number
  private readonly V: number
  private readonly g: Weights
  private readonly m: Weights
  private readonly v: Weights
  private readonly slotOf: Int32Array
  private touched = new Int32Array(4096)
  private gEmb: Float32Array
  private nTouched = 0
  private t = 0
  // H-wide scratch: the prompt block, the four response blocks, both pre-activations and their grads
  private readonly P: Float64Array
  private readonly C1: Float64Array
  private readonly C2: Float64Array
  private readonly R1: Float64Array
  private readonly R2: Float64Array
  private readonly preCR: Float64Array
  private readonly preRC: Float64Array
  private readonly dCR: Float64Array
  private readonly dRC: Float64Array
  private readonly dSum: Float64Array
  /** The batch's distinct texts (a slot each); their pooled vectors `tv`, their grads `tg`, D per slot. */
  private readonly batch: BatchTexts
  private tv = new Float64Array(0)
  private tg = new Float64Array(0)

  constructor(
    readonly config: ModelConfig,
    readonly w: Weights,
    readonly opt: OptimizerSpec
  ) {
    this.D = config.dim
    this.H = config.hidden
    this.V = config.input === "bag" ? w.emb.length / this.D : 0
    this.batch = new BatchTexts(this.D)
    const like = (slots: boolean): Weights => ({
      emb: new Float32Array(slots ? w.emb.length : 0),
      w1: new Float32Array(w.w1.length),
      b1: new Float32Array(w.b1.length),
      w2: new Float32Array(w.w2.length),
      b2: new Float32Array(1)
    })
    this.g = like(false)
    this.m = like(opt.kind === "adam")
    this.v = like(opt.kind === "adam")
    this.slotOf = new Int32Array(this.V).fill(-1)
    this.gEmb = new Float32Array(4096 * this.D)
    const h = () => new Float64Array(this.H)
    this.P = h()
    this.C1 = h()
    this.C2 = h()
    this.R1 = h()
    this.R2 = h()
    this.preCR = h()
    this.preRC = h()
    this.dCR = h()
    this.dRC = h()
    this.dSum = h()
  }

  private bagsFor(texts: TextTable): Bags | null {
    return this.config.input === "bag" ? bagsOf(texts) : null
  }

  /** The vector of text t (mean of its bag's rows, or its dense vector) into out[oo ..]. */
  private pool(texts: TextTable, bags: Bags | null, t: number, out: Float64Array, oo: number): void {
    const D = this.D
    if (bags === null) {
      for (let k = 0; k < D; k++) out[oo + k] = texts.vectors![t * D + k]!
      return
    }
    out.fill(0, oo, oo + D)
    for (let i = bags.offsets[t]!; i < bags.offsets[t + 1]!; i++)
      addScaled(out, oo, bags.counts[i]!, this.w.emb, bags.ids[i]! * D, D)
    const inv = bags.inv[t]!
    for (let k = 0; k < D; k++) out[oo + k]! *= inv
  }

  /** dL/d(text t's mean) = grad[go ..] onto the bag's distinct rows (one gradient slot per touched row). */
  private spread(bags: Bags | null, t: number, grad: Float64Array, go: number): void {
    if (bags === null) return
    const D = this.D,
      inv = bags.inv[t]!
    for (let i = bags.offsets[t]!; i < bags.offsets[t + 1]!; i++) {
      const row = bags.ids[i]!
      let s = this.slotOf[row]!
      if (s < 0) {
        s = this.nTouched++
        if (s >= this.touched.length) {
          const t2 = new Int32Array(this.touched.length * 2)
          t2.set(this.touched)
          this.touched = t2
          const g2 = new Float32Array(this.gEmb.length * 2)
          g2.set(this.gEmb)
          this.gEmb = g2
        }
        this.slotOf[row] = s
        this.touched[s] = row
      }
      addScaled32(this.gEmb, s * D, bags.counts[i]! * inv, grad, go, D)
    }
  }

  /** Pools the distinct texts of pairs `idx` once; at[3i ..] = offsets of pair i's p, c, r in `tv`. */
  private collect(pairs: PairSet, idx: Int32Array, bags: Bags | null): Int32Array {
    const texts = pairs.texts,
      batch = this.batch
    batch.begin(texts.count)
    const at = new Int32Array(3 * idx.length)
    for (let i = 0; i < idx.length; i++) {
      at[3 * i] = batch.slot(pairs.prompt[idx[i]!]!)
      at[3 * i + 1] = batch.slot(pairs.chosen[idx[i]!]!)
      at[3 * i + 2] = batch.slot(pairs.rejected[idx[i]!]!)
    }
    const n = batch.count,
      slotText = batch.slotText,
      need = n * this.D
    if (this.tv.length < need) {
      this.tv = new Float64Array(need * 2)
      this.tg = new Float64Array(need * 2)
    }
    for (let s = 0; s < n; s++) this.pool(texts, bags, slotText[s]!, this.tv, s * this.D)
    return at
  }

  /** out = W1[block]ᵀ x (x = tv[xo ..]), plus `base` when given. */
  private project(block: number, xo: number, out: Float64Array, base: Float32Array | null): void {
    const D = this.D,
      H = this.H
    if (base === null) out.fill(0)
    else for (let j = 0; j < H; j++) out[j] = base[j]!
    for (let k = 0; k < D; k++) addScaled(out, 0, this.tv[xo + k]!, this.w.w1, (block * D + k) * H, H)
  }

  /** g(p, c, r) and g(p, r, c) for the pair whose vectors sit at po, co, ro; fills pre and P/C/R. */
  private forward(po: number, co: number, ro: number): [number, number] {
    const H = this.H,
      w2 = this.w.w2
    this.project(0, po, this.P, this.w.b1)
    this.project(1, co, this.C1, null)
    this.project(2, co, this.C2, null)
    this.project(1, ro, this.R1, null)
    this.project(2, ro, this.R2, null)
    let gcr = this.w.b2[0]!,
      grc = this.w.b2[0]!
    for (let j = 0; j < H; j++) {
      const a = (this.preCR[j] = this.P[j]! + this.C1[j]! + this.R2[j]!),
        b = (this.preRC[j] = this.P[j]! + this.R1[j]! + this.C2[j]!)
      if (a > 0) gcr += a * w2[j]!
      if (b > 0) grc += b * w2[j]!
    }
    return [gcr, grc]
  }

  /** Backward of gd · (g(p, c, r) − g(p, r, c)) into the dense grads and tg at po, co, ro. */
  private backward(gd: number, po: number, co: number, ro: number): void {
    const D = this.D,
      H = this.H,
      g = this.g,
      w1 = this.w.w1,
      tv = this.tv,
      tg = this.tg
    g.b2[0]! += gd
    g.b2[0]! -= gd
    for (let j = 0; j < H; j++) {
      const a = this.preCR[j]!,
        b = this.preRC[j]!,
        w2j = this.w.w2[j]!
      g.w2[j]! += gd * ((a > 0 ? a : 0) - (b > 0 ? b : 0))
      const da = a > 0 ? gd * w2j : 0,
        db = b > 0 ? -gd * w2j : 0
      this.dCR[j] = da
      this.dRC[j] = db
      this.dSum[j] = da + db
      g.b1[j]! += da + db
    }
    for (let k = 0; k < D; k++) {
      tg[po + k]! += rowGrad(g.w1, w1, k * H, tv[po + k]!, this.dSum, H)
      tg[co + k]! += rowGrad(g.w1, w1, (D + k) * H, tv[co + k]!, this.dCR, H)
      tg[co + k]! += rowGrad(g.w1, w1, (2 * D + k) * H, tv[co + k]!, this.dRC, H)
      tg[ro + k]! += rowGrad(g.w1, w1, (2 * D + k) * H, tv[ro + k]!, this.dCR, H)
      tg[ro + k]! += rowGrad(g.w1, w1, (D + k) * H, tv[ro + k]!, this.dRC, H)
    }
  }

  /**
   * The reward model's pair loss on the preference logit over pairs `idx` (gradients when `grad`):
   * (1−α)·softplus(−d) + α·softplus(d), d = g(p, c, r) − g(p, r, c) − margin; Σwℓ/Σw; correct: d + margin > 0.
   */
  pairLoss(pairs: PairSet, idx: Int32Array, grad: boolean): BatchResult {
    const bags = this.bagsFor(pairs.texts)
    const at = this.collect(pairs, idx, bags)
    if (grad) this.tg.fill(0, 0, this.batch.count * this.D)
    const tally = new PairLossTally(pairs, idx)
    for (let i = 0; i < idx.length; i++) {
      const po = at[3 * i]!,
        co = at[3 * i + 1]!,
        ro = at[3 * i + 2]!
      const [gcr, grc] = this.forward(po, co, ro)
      const gd = tally.add(idx[i]!, gcr, grc)
      if (grad) this.backward(gd, po, co, ro)
    }
    if (grad) {
      const n = this.batch.count,
        slotText = this.batch.slotText
      for (let s = 0; s < n; s++) this.spread(bags, slotText[s]!, this.tg, s * this.D)
    }
    this.batch.release()
    return tally.result()
  }

  /** Apply the accumulated gradients (touched rows only, each once; lazy Adam or SGD), then clear them. */
  step(lr: number): void {
    this.t++
    const D = this.D,
      w = this.w,
      g = this.g,
      gE = this.gEmb
    const rows = this.touched.slice(0, this.nTouched).sort()
    if (this.opt.kind === "sgd") {
      for (const r of rows) {
        const o = this.slotOf[r]! * D
        for (let k = 0; k < D; k++) w.emb[r * D + k]! -= lr * gE[o + k]!
      }
      for (const n of DENSE) for (let i = 0; i < w[n].length; i++) w[n][i]! -= lr * g[n][i]!
    } else {
      const a = lr / (1 - 0.9 ** this.t),
        sc = 1 / Math.sqrt(1 - 0.999 ** this.t)
      for (const r of rows) adam(w.emb, this.m.emb, this.v.emb, gE, r * D, this.slotOf[r]! * D, D, a, sc)
      for (const n of DENSE) adam(w[n], this.m[n], this.v[n], g[n], 0, 0, w[n].length, a, sc)
    }
    for (const r of rows) this.slotOf[r] = -1
    gE.fill(0, 0, this.nTouched * D)
    this.nTouched = 0
    for (const n of DENSE) g[n].fill(0)
  }

  /** g(p, a, b) as `chosen` and g(p, b, a) as `rejected` for every pair: logit P(a ≻ b) is their difference. */
  scorePairs(pairs: PairSet): { chosen: Float32Array; rejected: Float32Array } {
    const n = pairs.prompt.length,
      chosen = new Float32Array(n),
      rejected = new Float32Array(n),
      bags = this.bagsFor(pairs.texts)
    for (let from = 0; from < n; from += 1024) {
      const idx = Int32Array.from({ length: Math.min(1024, n - from) }, (_, i) => from + i)
      const at = this.collect(pairs, idx, bags)
      for (let i = 0; i < idx.length; i++) {
        const [gab, gba] = this.forward(at[3 * i]!, at[3 * i + 1]!, at[3 * i + 2]!)
        chosen[from + i] = gab
        rejected[from + i] = gba
      }
      this.batch.release()
    }
    return { chosen, rejected }
  }
}
