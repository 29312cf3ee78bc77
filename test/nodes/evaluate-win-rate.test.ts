// evaluate.winRate: AlpacaEval's per-model statistics on a hand-computed table, and the length-controlled
// win rate against an independent computation in this file (one dense Newton solve over every
// parameter of the joint fit, then the per-model fit), to 1e-6.
import { describe, expect, it } from "vitest"
import { evaluate } from "../../nodes/evaluate/index.js"
import { runNode } from "./aggregate-helpers.js"

describe("evaluate.winRate on a hand-computed table", () => {
  // X: p_a 0, 0.5, 0.75 → P(win) 1, 0.5, 0.25; Y: hard votes b, a → 1, 0. The vote's meta names the
  // model; pair q3's own generator_b (Z) loses to the vote's meta (Y), as for load.alpacaEval's merges.
  const setup = `
    CREATE TABLE pairs AS SELECT * FROM (VALUES ('q1', 'i1', 'base', 'xx', 'X'), ('q2', 'i2', 'base', 'xxxxxx', 'X'),
      ('q3', 'i1', 'base', 'yyyy', 'Z'), ('q4', 'i3', 'base', 'xxx', 'X'), ('q5', 'i2', 'base', 'y', 'Y')
    ) t(pair_id, prompt, response_a, response_b, generator_b);
    CREATE TABLE votes AS SELECT pair_id, 'gpt4' AS rater, vote, p_a, json_object('generator_b', g)::JSON AS meta FROM (VALUES
      ('q1', 'b', 0.0, 'X'), ('q2', 'tie', 0.5, 'X'), ('q4', 'a', 0.75, 'X'), ('q3', 'b', NULL, 'Y'), ('q5', 'a', NULL, 'Y')
    ) t(pair_id, vote, p_a, g)`

  it("win rate, standard error (sample sd / √n), wins / losses / draws, discrete win rate, per model", async () => {
    const { tables, stats } = await runNode(evaluate.winRate, setup, { votes: "votes", pairs: "pairs" }, { lc: false })
    const rows = tables["per_model"]!
    expect(rows.map((r) => r["model"])).toEqual(["X", "Y"])
    const x = rows[0]!
    expect(x["win_rate"]).toBeCloseTo((100 * 1.75) / 3, 10)
    const m = 1.75 / 3
    const sd = Math.sqrt(((1 - m) ** 2 + (0.5 - m) ** 2 + (0.25 - m) ** 2) / 2)
    expect(x["standard_error"]).toBeCloseTo((100 * sd) / Math.sqrt(3), 10)
    expect([x["wins"], x["losses"], x["draws"], x["discrete_win_rate"], x["avg_length"]]).toEqual([1, 1, 1, 50, 11 / 3])
    expect(rows[1]).toMatchObject({ model: "Y", n: 2, win_rate: 50, standard_error: 50, wins: 1, losses: 1, draws: 0 })
    expect(stats).toMatchObject({ votes_in: 5, votes_used: 5, models: 2 })
  })

  it("slices by a column: every slice has its own per-model rows", async () => {
    const { tables } = await runNode(
      evaluate.winRate,
      setup,
      { votes: "votes", pairs: "pairs" },
      { lc: false, by: "prompt" }
    )
    const i1 = tables["per_model"]!.filter((r) => r["slice_by"] === "prompt" && r["slice"] === "i1")
    expect(i1.map((r) => [r["model"], r["win_rate"]])).toEqual([
      ["X", 100],
      ["Y", 100]
    ])
  })
})

/** A seeded uniform source for the synthetic data (an LCG; independent of the node's). */
function lcg(seed: number) {
  let s = seed
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648
    return s / 2147483648
  }
}

const sig = (z: number) => 1 / (1 + Math.exp(-z))

/** Dense Newton for ridge logistic regression with soft targets: design rows x (n × p), per-column penalty. */
function denseNewton(x: Array<Array<number>>, y: Array<number>, penalty: Array<number>): Array<number> {
  const p = penalty.length
  let beta = new Array<number>(p).fill(0)
  for (let it = 0; it < 200; it++) {
    const g = beta.map((b, j) => penalty[j]! * b)
    const h = Array.from({ length: p }, (_, j) => Array.from({ length: p }, (_, k) => (j === k ? penalty[j]! : 0)))
    x.forEach((row, i) => {
      const q = sig(row.reduce((s, v, j) => s + v * beta[j]!, 0))
      row.forEach((v, j) => {
        g[j]! += (q - y[i]!) * v
        row.forEach((w, k) => (h[j]![k]! += q * (1 - q) * v * w))
      })
    })
    // Gaussian elimination with partial pivoting on [h | −g]
    const a = h.map((r, j) => [...r, -g[j]!])
    for (let c = 0; c < p; c++) {
      const piv = a.slice(c).reduce((best, r, k) => (Math.abs(r[c]!) > Math.abs(a[best]![c]!) ? k + c : best), c)
      ;[a[c], a[piv]] = [a[piv]!, a[c]!]
      for (let r = c + 1; r < p; r++) {
        const f = a[r]![c]! / a[c]![c]!
        for (let k = c; k <= p; k++) a[r]![k]! -= f * a[c]![k]!
      }
    }
    const d = new Array<number>(p).fill(0)
    for (let r = p - 1; r >= 0; r--)
      d[r] = (a[r]![p]! - a[r]!.slice(r + 1, p).reduce((s, v, k) => s + v * d[r + 1 + k]!, 0)) / a[r]![r]!
    beta = beta.map((b, j) => b + d[j]!)
    if (Math.max(...d.map(Math.abs)) < 1e-13) break
  }
  return beta
}

describe("evaluate.winRate: length-controlled win rate", () => {
  it("equals an independent dense fit of the same two-stage GLM to 1e-6", async () => {
    const random = lcg(7)
    const M = 3
    const X = 12
    const rows: Array<{ m: number; x: number; lenA: number; lenB: number; pA: number }> = []
    const gamma = Array.from({ length: X }, () => random() * 2 - 1)
    for (let m = 0; m < M; m++) {
      for (let x = 0; x < X; x++) {
        const lenA = 50 + Math.floor(random() * 50)
        const lenB = 20 + Math.floor(random() * (60 + 60 * m))
        const z = m - 1 + 1.5 * Math.tanh((lenB - lenA) / 40) + gamma[x]! + (random() - 0.5)
        rows.push({ m, x, lenA, lenB, pA: Math.round((1 - sig(z)) * 1000) / 1000 })
      }
    }
    const values = rows
      .map((r, i) => `('p${i}', 'i${r.x}', '${"a".repeat(r.lenA)}', '${"b".repeat(r.lenB)}', 'M${r.m}', ${r.pA})`)
      .join(", ")
    const setup = `CREATE TABLE pairs AS SELECT * FROM (VALUES ${values}) t(pair_id, prompt, response_a, response_b, generator_b, p_a);
      CREATE TABLE votes AS SELECT pair_id, 'judge' AS rater, p_a FROM pairs`
    const { tables } = await runNode(
      evaluate.winRate,
      setup,
      { votes: "votes", pairs: "pairs" },
      { difficultyL2: 1, l2: 0.0001 }
    )

    // independent: t = tanh(Δ / sample sd of Δ per model); stage 1 over [θ (M), φ (M), γ (X)]
    const delta = rows.map((r) => r.lenB - r.lenA)
    const t = rows.map((r, i) => {
      const ds = rows.flatMap((s, j) => (s.m === r.m ? [delta[j]!] : []))
      const mean = ds.reduce((a, b) => a + b, 0) / ds.length
      const sd = Math.sqrt(ds.reduce((a, b) => a + (b - mean) ** 2, 0) / (ds.length - 1))
      return Math.tanh(delta[i]! / sd)
    })
    const y = rows.map((r) => 1 - r.pA)
    const design = rows.map((r, i) =>
      Array.from({ length: 2 * M + X }, (_, j) => (j === r.m ? 1 : j === M + r.m ? t[i]! : j === 2 * M + r.x ? 1 : 0))
    )
    const joint = denseNewton(design, y, [...new Array<number>(2 * M).fill(0.0001), ...new Array<number>(X).fill(1)])
    const g = joint.slice(2 * M)
    const gaps: Array<number> = []
    for (let m = 0; m < M; m++) {
      const mine = rows.flatMap((r, i) => (r.m === m ? [i] : []))
      const [theta, , psi] = denseNewton(
        mine.map((i) => [1, t[i]!, g[rows[i]!.x]!]),
        mine.map((i) => y[i]!),
        [0.0001, 0.0001, 0.0001]
      )
      const lc = (100 * mine.reduce((s, i) => s + sig(theta! + psi! * g[rows[i]!.x]!), 0)) / mine.length
      const row = tables["per_model"]!.find((r) => r["model"] === `M${m}`)!
      expect(Math.abs((row["lc_win_rate"] as number) - lc)).toBeLessThan(1e-6)
      const raw = (100 * mine.reduce((s, i) => s + y[i]!, 0)) / mine.length
      expect(Math.abs((row["win_rate"] as number) - raw)).toBeLessThan(1e-9)
      gaps.push(Math.abs(lc - raw))
    }
    // the length term matters here, so agreeing with the dense fit is not agreeing with the raw win rate
    expect(Math.max(...gaps)).toBeGreaterThan(1)
  })
})
