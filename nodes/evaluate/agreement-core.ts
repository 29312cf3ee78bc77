/**
 * evaluate.agreement's pure core, over one rater's pair rows: each row's counts of the rater's votes
 * (a / b / tie, in each order) and the reference verdict (the label, or another rater's majority).
 */
import { type Interval, bootstrap, seededRandom, seedFor } from "./stats.js"

export type Verdict = "a" | "b" | "tie"
export const VERDICTS: ReadonlyArray<Verdict> = ["a", "b", "tie"]

/** One pair row as a rater judged it. */
export interface RaterRow {
  /** The rater's verdict: the majority of its votes on the row (a tie when no side has most). */
  readonly verdict: Verdict | null
  /** The same over its votes in order 'ab' / 'ba' (null when none in that order). */
  readonly ab: Verdict | null
  readonly ba: Verdict | null
  readonly against: Verdict | null
  /** Decisive votes, of those how many chose the first-seen side; decisive votes where lengths differ, and for the longer. */
  readonly decisive: number
  readonly first: number
  readonly withLengths: number
  readonly longer: number
}

/** The majority of counts a / b / tie (a tie when no side has most), null without votes. */
export function majority(a: number, b: number, t: number): Verdict | null {
  if (a + b + t === 0) return null
  return a > b && a > t ? "a" : b > a && b > t ? "b" : "tie"
}

/** Cohen's kappa of paired verdicts (a / b / tie): (po − pe) / (1 − pe); NaN when pe = 1 or no items. */
export function cohenKappa(x: ReadonlyArray<Verdict>, y: ReadonlyArray<Verdict>): number {
  const n = x.length
  if (n === 0) return Number.NaN
  let agree = 0
  const cx = new Map<Verdict, number>()
  const cy = new Map<Verdict, number>()
  for (let i = 0; i < n; i++) {
    if (x[i] === y[i]) agree++
    cx.set(x[i]!, (cx.get(x[i]!) ?? 0) + 1)
    cy.set(y[i]!, (cy.get(y[i]!) ?? 0) + 1)
  }
  const pe = VERDICTS.reduce((s, k) => s + ((cx.get(k) ?? 0) / n) * ((cy.get(k) ?? 0) / n), 0)
  return pe === 1 ? Number.NaN : (agree / n - pe) / (1 - pe)
}

type Stat = (rows: ReadonlyArray<RaterRow>) => { value: number; n: number }

const ratio = (num: number, den: number) => (den === 0 ? Number.NaN : num / den)
const compared = (rows: ReadonlyArray<RaterRow>, side: (r: RaterRow) => Verdict | null) =>
  rows.filter((r) => side(r) !== null && r.against !== null)

/** The metrics, each a function of a list of rows (so a resample is just another list). */
export const AGREEMENT_STATS: ReadonlyArray<readonly [string, Stat]> = [
  [
    "accuracy",
    (rows) => {
      const c = compared(rows, (r) => r.verdict)
      return { value: ratio(c.filter((r) => r.verdict === r.against).length, c.length), n: c.length }
    }
  ],
  [
    "kappa",
    (rows) => {
      const c = compared(rows, (r) => r.verdict)
      return {
        value: cohenKappa(
          c.map((r) => r.verdict!),
          c.map((r) => r.against!)
        ),
        n: c.length
      }
    }
  ],
  [
    "p_prefer_longer",
    (rows) => {
      const s = rows.reduce((acc, r) => [acc[0]! + r.longer, acc[1]! + r.withLengths], [0, 0])
      return { value: ratio(s[0]!, s[1]!), n: s[1]! }
    }
  ],
  [
    "p_prefer_first",
    (rows) => {
      const s = rows.reduce((acc, r) => [acc[0]! + r.first, acc[1]! + r.decisive], [0, 0])
      return { value: ratio(s[0]!, s[1]!), n: s[1]! }
    }
  ],
  [
    "agree_ab",
    (rows) => {
      const c = compared(rows, (r) => r.ab)
      return { value: ratio(c.filter((r) => r.ab === r.against).length, c.length), n: c.length }
    }
  ],
  [
    "agree_ba",
    (rows) => {
      const c = compared(rows, (r) => r.ba)
      return { value: ratio(c.filter((r) => r.ba === r.against).length, c.length), n: c.length }
    }
  ],
  [
    "agree_both",
    (rows) => {
      const c = rows.filter((r) => r.ab !== null && r.ba !== null && r.against !== null)
      return { value: ratio(c.filter((r) => r.ab === r.against && r.ba === r.against).length, c.length), n: c.length }
    }
  ],
  [
    "order_inconsistent",
    (rows) => {
      const c = rows.filter((r) => r.ab !== null && r.ba !== null)
      return { value: c.filter((r) => r.ab !== r.ba).length, n: c.length }
    }
  ],
  [
    "order_inconsistent_rate",
    (rows) => {
      const c = rows.filter((r) => r.ab !== null && r.ba !== null)
      return { value: ratio(c.filter((r) => r.ab !== r.ba).length, c.length), n: c.length }
    }
  ]
]

/** Every metric over `rows`, with a seeded bootstrap interval (none for the order_inconsistent count). */
export function agreementMetrics(
  rows: ReadonlyArray<RaterRow>,
  resamples: number,
  seed: number,
  key: string
): Array<{ metric: string; value: number; n: number; ci: Interval }> {
  const hasOrders = rows.some((r) => r.ab !== null || r.ba !== null)
  return AGREEMENT_STATS.filter(([m]) => hasOrders || !(m.startsWith("agree_") || m.startsWith("order_"))).map(
    ([metric, stat]) => {
      const { value, n } = stat(rows)
      const random = seededRandom(seedFor(seed, `${metric}\u0000${key}`))
      const ci =
        metric === "order_inconsistent"
          ? { lo: null, hi: null }
          : bootstrap(rows.length, resamples, random, (idx) => stat(Array.from(idx, (i) => rows[i]!)).value)
      return { metric, value, n, ci }
    }
  )
}
