/**
 * Requests per minute and tokens per minute, shared by every server of a pool (a provider's limits
 * are per key, not per server). A sliding window: a request is sent only when the requests and the
 * tokens sent in the last window, plus this one, fit both limits. Tokens are estimated before sending
 * (prompt characters / 4 plus max_tokens) and corrected with the server's usage once it answers.
 */
import { Effect } from "effect"

export interface RateSlot {
  readonly at: number
  tokens: number
  /** Still inside the window (its tokens count towards the window's sum). */
  live: boolean
}

export interface RateLimiter {
  /** Waits until a request of `tokens` (estimated) fits the window, then counts it. */
  readonly take: (tokens: number) => Effect.Effect<RateSlot>
  /** Replace a slot's estimate with what the server reported. */
  readonly correct: (slot: RateSlot, tokens: number) => void
}

export interface RateLimits {
  /** null: no limit. */
  readonly requests: number | null
  readonly tokens: number | null
  /** 60,000 for "per minute"; tests shorten it. */
  readonly windowMs: number
}

/** Estimated tokens of a request before the server has counted them. */
export function estimateTokens(promptChars: number, maxTokens: number): number {
  return Math.ceil(promptChars / 4) + maxTokens
}

export function makeRateLimiter(limits: RateLimits, now: () => number = Date.now): RateLimiter {
  if (limits.requests === null && limits.tokens === null) {
    return { take: () => Effect.succeed({ at: 0, tokens: 0, live: false }), correct: () => {} }
  }
  const slots: Array<RateSlot> = []
  let head = 0
  let tokensInWindow = 0

  const prune = (t: number) => {
    while (head < slots.length && slots[head]!.at <= t - limits.windowMs) {
      const old = slots[head++]!
      old.live = false
      tokensInWindow -= old.tokens
    }
    if (head > 1024 && head * 2 > slots.length) {
      slots.splice(0, head)
      head = 0
    }
  }

  /** Milliseconds until a request of `tokens` fits; 0 when it fits now. */
  const waitFor = (tokens: number, t: number): number => {
    let wait = 0
    if (limits.requests !== null && slots.length - head >= limits.requests) {
      wait = slots[slots.length - limits.requests]!.at + limits.windowMs - t
    }
    // a request larger than the whole budget still goes, alone in its window, rather than never
    if (limits.tokens !== null && tokensInWindow > 0 && tokensInWindow + tokens > limits.tokens) {
      let freed = 0
      for (let i = head; i < slots.length; i++) {
        freed += slots[i]!.tokens
        if (tokensInWindow - freed + tokens <= limits.tokens || i === slots.length - 1) {
          wait = Math.max(wait, slots[i]!.at + limits.windowMs - t)
          break
        }
      }
    }
    return Math.max(0, wait)
  }

  const take = (tokens: number): Effect.Effect<RateSlot> =>
    Effect.suspend(() => {
      const t = now()
      prune(t)
      const wait = waitFor(tokens, t)
      if (wait > 0) return Effect.andThen(Effect.sleep(wait + 1), take(tokens))
      const slot: RateSlot = { at: t, tokens, live: true }
      slots.push(slot)
      tokensInWindow += tokens
      return Effect.succeed(slot)
    })

  const correct = (slot: RateSlot, tokens: number) => {
    if (slot.live) tokensInWindow += tokens - slot.tokens
    slot.tokens = tokens
  }
  return { take, correct }
}
