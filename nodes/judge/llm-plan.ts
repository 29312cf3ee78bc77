/**
 * The pure core of the LLM judges: which requests a pair needs (orders x samples [x aspects]), how a
 * verdict on the displayed outputs becomes a vote on the pair's a/b, how the votes fold into one
 * judgment per pair, and what the requests cost. No I/O, no clock; the order draw is a seeded hash.
 */
import type { Displayed } from "./parse.js"

export type Order = "ab" | "ba"
export type OrdersParam = "both" | "ab" | "random-seeded"
export type InconsistentParam = "tie" | "drop" | "keep-first"
export type Vote = "a" | "b" | "tie"

/** FNV-1a over a string: a small, stable hash (the order draw must not change between releases). */
const fnv1a = (text: string): number => {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

/** The orders a pair is shown in. */
export function ordersOf(pairId: string, orders: OrdersParam, seed: number): ReadonlyArray<Order> {
  if (orders === "both") return ["ab", "ba"]
  if (orders === "ab") return ["ab"]
  return fnv1a(`${seed}\u001f${pairId}`) % 2 === 0 ? ["ab"] : ["ba"]
}

/**
 * The seed sent with sample `sample`: the user's seed plus the sample index. One seed for all n samples
 * would make a seed-honouring server (llama.cpp, vLLM) return n identical answers, defeating
 * self-consistency; sample 0 keeps the user's seed, so `samples: 1` asks exactly what was asked.
 */
export const sampleSeed = (seed: number, sample: number): number => seed + sample

/** One planned request: a pair (by index) in one order, one sample, and the aspect for aspect ratings. */
export interface Job<A extends string = string> {
  readonly pair: number
  readonly order: Order
  readonly sample: number
  readonly aspect: A | null
}

/** Every request of a run, pair by pair (so a budget stop leaves whole pairs judged where it can). */
export function planJobs<A extends string>(
  pairIds: ReadonlyArray<string>,
  options: { readonly orders: OrdersParam; readonly seed: number; readonly samples: number },
  aspects: ReadonlyArray<A> | null
): Array<Job<A>> {
  const jobs: Array<Job<A>> = []
  pairIds.forEach((id, pair) => {
    for (const order of ordersOf(id, options.orders, options.seed)) {
      for (let sample = 0; sample < options.samples; sample++) {
        if (aspects === null) jobs.push({ pair, order, sample, aspect: null })
        else for (const aspect of aspects) jobs.push({ pair, order, sample, aspect })
      }
    }
  })
  return jobs
}

/** The outputs as shown: in order 'ab' response_a first, in 'ba' response_b first. */
export const displayed = <T>(order: Order, a: T, b: T): readonly [T, T] => (order === "ab" ? [a, b] : [b, a])

/** A verdict on the displayed outputs as a vote on the pair. */
export const voteOf = (verdict: Displayed, order: Order): Vote =>
  verdict === "tie" ? "tie" : (verdict === "first") === (order === "ab") ? "a" : "b"

/** P(first displayed wins) as P(a wins). */
export const pAOf = (pFirst: number | null, order: Order): number | null =>
  pFirst === null ? null : order === "ab" ? pFirst : 1 - pFirst

/** Which side of the pair a displayed text (1 or 2) is. */
export const sideOf = (text: 1 | 2, order: Order): "a" | "b" => ((text === 1) === (order === "ab") ? "a" : "b")

export interface CastVote {
  readonly pair_id: string
  readonly order: Order
  readonly sample: number
  readonly vote: Vote
  readonly p_a: number | null
}

export interface Judgment {
  readonly pair_id: string
  readonly vote: Vote
  readonly p_a: number | null
  readonly position_consistent: boolean | null
  readonly n: number
  readonly confidence: number
}

/** The most common vote; a tie when two votes are equally common (or there are none). */
export function majority(votes: ReadonlyArray<Vote>): Vote {
  const count = (v: Vote) => votes.filter((x) => x === v).length
  const [a, b, t] = [count("a"), count("b"), count("tie")]
  return a > b && a > t ? "a" : b > a && b > t ? "b" : "tie"
}

/**
 * Fold each pair's votes into one judgment: per order the majority of its samples; orders that agree
 * give their vote, orders that disagree follow `inconsistent` (tie, drop: no judgment, keep-first: the
 * a-first order's); a pair judged in one order (by the param, or because the other order failed) has
 * position_consistent NULL. Pairs come out in the order their first vote came in.
 */
export function foldJudgments(votes: ReadonlyArray<CastVote>, inconsistent: InconsistentParam): Array<Judgment> {
  const byPair = new Map<string, Array<CastVote>>()
  for (const v of votes) {
    const list = byPair.get(v.pair_id)
    if (list === undefined) byPair.set(v.pair_id, [v])
    else list.push(v)
  }
  const out: Array<Judgment> = []
  for (const [pair_id, list] of byPair) {
    const ofOrder = (o: Order) => list.filter((v) => v.order === o).map((v) => v.vote)
    const ab = ofOrder("ab")
    const ba = ofOrder("ba")
    const both = ab.length > 0 && ba.length > 0
    const consistent = both ? majority(ab) === majority(ba) : null
    let vote: Vote
    if (consistent === false) {
      if (inconsistent === "drop") continue
      vote = inconsistent === "tie" ? "tie" : majority(ab)
    } else {
      vote = majority(list.map((v) => v.vote))
    }
    const ps = list.map((v) => v.p_a).filter((p): p is number => p !== null)
    out.push({
      pair_id,
      vote,
      p_a: ps.length === 0 ? null : ps.reduce((s, p) => s + p, 0) / ps.length,
      position_consistent: consistent,
      n: list.length,
      confidence: list.filter((v) => v.vote === vote).length / list.length
    })
  }
  return out
}

/** What tokens cost, at prices per 1M tokens. */
export const costOf = (
  tokens: { readonly prompt: number; readonly completion: number },
  prices: { readonly prompt: number; readonly completion: number }
): number => (tokens.prompt * prices.prompt + tokens.completion * prices.completion) / 1_000_000
