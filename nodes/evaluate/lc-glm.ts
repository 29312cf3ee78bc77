/**
 * Length-controlled win rate (Dubois et al. 2024, *Length-Controlled AlpacaEval*), pure TypeScript.
 *
 * AlpacaEval fits, per model m against the baseline, a logistic GLM on the judge's soft preference y
 * (P(m wins), in [0, 1]):  logit q = θ_m + φ_m·tanh(Δ/sd) + ψ_m·γ_x, with Δ = len(model output) −
 * len(baseline output) on instruction x, sd its sample standard deviation over the model's rows, and
 * γ_x a per-instruction difficulty that AlpacaEval estimated once, jointly over its leaderboard's
 * models. The LC win rate is 100 · mean over the model's rows of σ(θ_m + ψ_m·γ_x): the length term at 0.
 *
 * Here γ is fitted over the models present, in two stages as AlpacaEval does:
 * 1. jointly: logit q = θ_m + φ_m·t + γ_x over every row, with an L2 penalty `difficultyL2`·γ²/2 (it
 *    pins γ's level, which θ could otherwise trade against) and `l2`·(θ² + φ²)/2; exact Newton steps
 *    through the Schur complement of the instruction block (the Hessian is model blocks + a diagonal
 *    over instructions + their cross terms), with step halving;
 * 2. per model, γ fixed: logit q = θ + φ·t + ψ·γ_x (penalty `l2`), by Newton on 3 parameters.
 * The loss is the cross-entropy with soft targets, which is what AlpacaEval's duplicated-row trick
 * (each row twice, weights y and 1 − y) computes.
 */

export interface LcRows {
  /** Model index of each row (0 … models − 1). */
  readonly model: ArrayLike<number>
  /** Instruction index of each row (0 … instructions − 1). */
  readonly instruction: ArrayLike<number>
  /** P(the model's output wins), in [0, 1]. */
  readonly y: ArrayLike<number>
  /** len(model output) − len(baseline output). */
  readonly delta: ArrayLike<number>
  readonly models: number
  readonly instructions: number
}

export interface LcOptions {
  readonly difficultyL2: number
  readonly l2: number
}

export interface LcFit {
  /** Per model: LC win rate (%), θ, φ, ψ of stage 2. */
  readonly lcWinRate: Float64Array
  readonly theta: Float64Array
  readonly phi: Float64Array
  readonly psi: Float64Array
  /** Per instruction: γ of stage 1. */
  readonly difficulty: Float64Array
  readonly iterations: number
}

const sigmoid = (z: number) => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)))
/** −[y log σ(z) + (1 − y) log(1 − σ(z))], stable for large |z|. */
const crossEntropy = (y: number, z: number) => Math.max(z, 0) - y * z + Math.log1p(Math.exp(-Math.abs(z)))

/** Solve the symmetric positive definite system a·x = b (a: n×n row-major, overwritten) by Cholesky. */
export function solveSpd(a: Float64Array, b: Float64Array, n: number): Float64Array {
  for (let j = 0; j < n; j++) {
    let d = a[j * n + j]!
    for (let k = 0; k < j; k++) d -= a[j * n + k]! ** 2
    const ljj = Math.sqrt(Math.max(d, 1e-300))
    a[j * n + j] = ljj
    for (let i = j + 1; i < n; i++) {
      let s = a[i * n + j]!
      for (let k = 0; k < j; k++) s -= a[i * n + k]! * a[j * n + k]!
      a[i * n + j] = s / ljj
    }
  }
  const x = Float64Array.from(b)
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < i; k++) x[i]! -= a[i * n + k]! * x[k]!
    x[i]! /= a[i * n + i]!
  }
  for (let i = n - 1; i >= 0; i--) {
    for (let k = i + 1; k < n; k++) x[i]! -= a[k * n + i]! * x[k]!
    x[i]! /= a[i * n + i]!
  }
  return x
}

/** Per model, the tanh of its rows' standardised length differences (0 where they do not vary). */
export function lengthTerms(rows: LcRows): Float64Array {
  const n = rows.y.length
  const sum = new Float64Array(rows.models)
  const sq = new Float64Array(rows.models)
  const count = new Float64Array(rows.models)
  for (let i = 0; i < n; i++) {
    const m = rows.model[i]!
    sum[m]! += rows.delta[i]!
    count[m]! += 1
  }
  for (let i = 0; i < n; i++) {
    const m = rows.model[i]!
    sq[m]! += (rows.delta[i]! - sum[m]! / count[m]!) ** 2
  }
  const t = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    const m = rows.model[i]!
    const sd = count[m]! > 1 ? Math.sqrt(sq[m]! / (count[m]! - 1)) : 0
    t[i] = sd > 0 ? Math.tanh(rows.delta[i]! / sd) : 0
  }
  return t
}

/** Stage 1: θ, φ per model and γ per instruction, jointly. */
function fitJoint(rows: LcRows, t: Float64Array, o: LcOptions) {
  const { models: M, instructions: X } = rows
  const n = rows.y.length
  const P = 2 * M
  const beta = new Float64Array(P)
  const gamma = new Float64Array(X)
  const objective = (b: Float64Array, g: Float64Array) => {
    let f = 0
    for (let i = 0; i < n; i++) {
      const m = rows.model[i]!
      f += crossEntropy(rows.y[i]!, b[2 * m]! + b[2 * m + 1]! * t[i]! + g[rows.instruction[i]!]!)
    }
    for (const v of b) f += (o.l2 * v * v) / 2
    for (const v of g) f += (o.difficultyL2 * v * v) / 2
    return f
  }
  let f = objective(beta, gamma)
  let iterations = 0
  for (; iterations < 100; iterations++) {
    const gB = new Float64Array(P)
    const gG = new Float64Array(X)
    const A = new Float64Array(P * P)
    const D = new Float64Array(X)
    // cross terms B[(2m | 2m+1), x], kept per instruction as a sparse map model → (Σw, Σw·t)
    const cross: Array<Map<number, [number, number]>> = Array.from({ length: X }, () => new Map())
    for (let i = 0; i < n; i++) {
      const m = rows.model[i]!
      const x = rows.instruction[i]!
      const ti = t[i]!
      const p = sigmoid(beta[2 * m]! + beta[2 * m + 1]! * ti + gamma[x]!)
      const r = p - rows.y[i]!
      const w = p * (1 - p)
      gB[2 * m]! += r
      gB[2 * m + 1]! += r * ti
      gG[x]! += r
      A[2 * m * P + 2 * m]! += w
      A[2 * m * P + 2 * m + 1]! += w * ti
      A[(2 * m + 1) * P + 2 * m + 1]! += w * ti * ti
      D[x]! += w
      const c = cross[x]!.get(m)
      if (c === undefined) cross[x]!.set(m, [w, w * ti])
      else {
        c[0] += w
        c[1] += w * ti
      }
    }
    for (let j = 0; j < P; j++) {
      gB[j]! += o.l2 * beta[j]!
      A[j * P + j]! += o.l2
    }
    for (let m = 0; m < M; m++) A[(2 * m + 1) * P + 2 * m] = A[2 * m * P + 2 * m + 1]!
    for (let x = 0; x < X; x++) {
      gG[x]! += o.difficultyL2 * gamma[x]!
      D[x]! += o.difficultyL2
    }
    // Schur complement S = A − B D⁻¹ Bᵀ and right side −gB + B D⁻¹ gG
    const rhs = Float64Array.from(gB, (v) => -v)
    for (let x = 0; x < X; x++) {
      const entries = [...cross[x]!.entries()].flatMap(
        ([m, [w, wt]]): Array<readonly [number, number]> => [
          [2 * m, w],
          [2 * m + 1, wt]
        ]
      )
      for (const [j, bj] of entries) {
        rhs[j]! += (bj * gG[x]!) / D[x]!
        for (const [k, bk] of entries) A[j * P + k]! -= (bj * bk) / D[x]!
      }
    }
    const dB = solveSpd(A, rhs, P)
    const dG = new Float64Array(X)
    for (let x = 0; x < X; x++) {
      let s = -gG[x]!
      for (const [m, [w, wt]] of cross[x]!) s -= w * dB[2 * m]! + wt * dB[2 * m + 1]!
      dG[x] = s / D[x]!
    }
    let step = 1
    let next = f
    let nb = beta
    let ng = gamma
    for (let h = 0; h < 30; h++, step /= 2) {
      nb = Float64Array.from(beta, (v, j) => v + step * dB[j]!)
      ng = Float64Array.from(gamma, (v, x) => v + step * dG[x]!)
      next = objective(nb, ng)
      if (next <= f) break
    }
    if (!(next <= f)) break
    const change = Math.max(...dB.map(Math.abs), ...dG.map(Math.abs)) * step
    beta.set(nb)
    gamma.set(ng)
    f = next
    if (change < 1e-10) break
  }
  return { beta, gamma, iterations: iterations + 1 }
}

/**
 * Newton for a small weighted logistic regression with soft targets: rows' features `x` (n × p,
 * row-major), targets y, ridge penalty l2 on every coefficient. Returns the coefficients.
 */
export function fitSmallLogistic(x: Float64Array, y: ArrayLike<number>, p: number, l2: number): Float64Array {
  const n = y.length
  let beta = new Float64Array(p)
  const objective = (b: Float64Array) => {
    let f = 0
    for (let i = 0; i < n; i++) {
      let z = 0
      for (let j = 0; j < p; j++) z += x[i * p + j]! * b[j]!
      f += crossEntropy(y[i]!, z)
    }
    return f + (l2 * b.reduce((s, v) => s + v * v, 0)) / 2
  }
  let f = objective(beta)
  for (let it = 0; it < 100; it++) {
    const g = Float64Array.from(beta, (v) => l2 * v)
    const h = new Float64Array(p * p)
    for (let j = 0; j < p; j++) h[j * p + j] = l2
    for (let i = 0; i < n; i++) {
      let z = 0
      for (let j = 0; j < p; j++) z += x[i * p + j]! * beta[j]!
      const q = sigmoid(z)
      const w = q * (1 - q)
      for (let j = 0; j < p; j++) {
        g[j]! += (q - y[i]!) * x[i * p + j]!
        for (let k = 0; k < p; k++) h[j * p + k]! += w * x[i * p + j]! * x[i * p + k]!
      }
    }
    const d = solveSpd(
      h,
      Float64Array.from(g, (v) => -v),
      p
    )
    let step = 1
    let next = beta
    let nf = f
    for (let k = 0; k < 30; k++, step /= 2) {
      next = Float64Array.from(beta, (v, j) => v + step * d[j]!)
      nf = objective(next)
      if (nf <= f) break
    }
    if (!(nf <= f)) break
    const change = Math.max(...d.map(Math.abs)) * step
    beta = next
    f = nf
    if (change < 1e-12) break
  }
  return beta
}

/** The two-stage fit, and each model's LC win rate. */
export function lengthControlledWinRates(rows: LcRows, options: LcOptions): LcFit {
  const t = lengthTerms(rows)
  const joint = fitJoint(rows, t, options)
  const M = rows.models
  const byModel: Array<Array<number>> = Array.from({ length: M }, () => [])
  for (let i = 0; i < rows.y.length; i++) byModel[rows.model[i]!]!.push(i)
  const fit: LcFit = {
    lcWinRate: new Float64Array(M),
    theta: new Float64Array(M),
    phi: new Float64Array(M),
    psi: new Float64Array(M),
    difficulty: joint.gamma,
    iterations: joint.iterations
  }
  for (let m = 0; m < M; m++) {
    const idx = byModel[m]!
    if (idx.length === 0) {
      fit.lcWinRate[m] = Number.NaN
      continue
    }
    const x = new Float64Array(idx.length * 3)
    idx.forEach((i, r) => {
      x[r * 3] = 1
      x[r * 3 + 1] = t[i]!
      x[r * 3 + 2] = joint.gamma[rows.instruction[i]!]!
    })
    const [theta, phi, psi] = fitSmallLogistic(
      x,
      idx.map((i) => rows.y[i]!),
      3,
      options.l2
    )
    fit.theta[m] = theta!
    fit.phi[m] = phi!
    fit.psi[m] = psi!
    let s = 0
    for (const i of idx) s += sigmoid(theta! + psi! * joint.gamma[rows.instruction[i]!]!)
    fit.lcWinRate[m] = (100 * s) / idx.length
  }
  return fit
}
