/**
 * A small mixing problem, as data: six pairs whose label is the AI label, three annotators (some
 * pairs unlabelled by them) and two AI raters in one votes table told apart by rater_kind, and an
 * independent computation of what the agreement report must say.
 */
export interface FixturePair {
  readonly id: string
  readonly ai: "a" | "b" | "tie" | null
  readonly a: string
  readonly b: string
  readonly strength: number
  readonly inconsistent: number
}
export interface FixtureVote {
  readonly id: string
  readonly rater: string
  readonly kind: "human" | "ai"
  readonly vote: string | null
  readonly order: "ab" | "ba" | null
}

export const PAIRS: ReadonlyArray<FixturePair> = [
  { id: "m1", ai: "a", a: "short", b: "a longer answer", strength: 0.9, inconsistent: 0 },
  { id: "m2", ai: "b", a: "the longest answer of all", b: "brief", strength: 0.1, inconsistent: 0 },
  { id: "m3", ai: "a", a: "one", b: "one two three", strength: 0.5, inconsistent: 1 },
  { id: "m4", ai: "tie", a: "same size", b: "size same", strength: -0.05, inconsistent: 0 },
  { id: "m5", ai: null, a: "x", b: "xyz", strength: 0, inconsistent: 0 },
  { id: "m6", ai: "b", a: "y", b: "yy", strength: 0.3, inconsistent: 0 }
]

const h = (id: string, votes: ReadonlyArray<string>): Array<FixtureVote> =>
  votes.map((vote, i) => ({ id, rater: `h${i + 1}`, kind: "human", vote, order: null }))
const ai = (id: string, rater: string, vote: string | null, order: "ab" | "ba" | null = null): FixtureVote => ({
  id,
  rater,
  kind: "ai",
  vote,
  order
})

export const VOTES: ReadonlyArray<FixtureVote> = [
  ...h("m1", ["a", "a", "b"]),
  ...h("m2", ["a", "a", "a"]),
  ...h("m4", ["tie", "tie", "b"]),
  ...h("m5", ["b", "b", "b"]),
  ai("m1", "r1", "a"),
  ai("m1", "r2", "a"),
  ai("m2", "r1", "b"),
  ai("m2", "r2", "a"),
  ai("m3", "r1", "a", "ab"),
  ai("m3", "r1", "b", "ba"),
  ai("m4", "r1", "tie"),
  ai("m4", "r2", "b"),
  ai("m6", "r1", "b"),
  ai("m6", "r2", "b"),
  ai("m6", "r2", null)
]

const lit = (x: string | number | null) => (x === null ? "NULL" : typeof x === "number" ? String(x) : `'${x}'`)

export const SETUP = `
  CREATE TABLE pairs AS SELECT * FROM (VALUES ${PAIRS.map(
    (p, i) => `(${[p.id, "prompt " + p.id, p.a, p.b, p.ai, "ai", i, p.strength, p.inconsistent].map(lit).join(", ")})`
  ).join(", ")}) t(pair_id, prompt, response_a, response_b, label, label_source, source_row, strength, n_inconsistent);
  CREATE TABLE votes AS SELECT * FROM (VALUES ${VOTES.map(
    (v) => `(${[v.id, v.rater, v.kind, v.vote, v.order].map(lit).join(", ")})`
  ).join(", ")}) t(pair_id, rater, rater_kind, vote, "order");`

/** The majority of votes: the most common of a / b / tie, a tie when none has most, null without votes. */
export function majority(votes: ReadonlyArray<string | null>): string | null {
  const n = { a: 0, b: 0, tie: 0 }
  for (const v of votes) if (v === "a" || v === "b" || v === "tie") n[v]++
  if (n.a + n.b + n.tie === 0) return null
  if (n.a > n.b && n.a > n.tie) return "a"
  if (n.b > n.a && n.b > n.tie) return "b"
  return "tie"
}

/** Cohen's kappa of two label lists of equal length (textbook: (po − pe) / (1 − pe)). */
export function cohensKappa(x: ReadonlyArray<string>, y: ReadonlyArray<string>): number {
  const n = x.length
  const labels = [...new Set([...x, ...y])]
  const po = x.filter((v, i) => v === y[i]).length / n
  const pe = labels.reduce(
    (s, k) => s + (x.filter((v) => v === k).length / n) * (y.filter((v) => v === k).length / n),
    0
  )
  return (po - pe) / (1 - pe)
}

/** The human label of each pair: the majority of its human votes. */
export const humanLabel = (id: string) =>
  majority(VOTES.filter((v) => v.id === id && v.kind === "human").map((v) => v.vote))
