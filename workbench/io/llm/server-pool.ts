/**
 * A pool of OpenAI-compatible servers: each request goes to the server with the fewest requests in
 * flight (least outstanding, which adapts to slow and fast servers), never past a server's
 * concurrency. A server that fails `faultsToRest` times in a row (connection errors, timeouts, 5xx)
 * rests for `restMs`, doubling each time it fails again after a rest, and is tried again afterwards;
 * while every server is resting, requests wait for the first to come back. A 429 with Retry-After
 * pauses that server for as long as it asked, without counting as a fault.
 */
import { Effect } from "effect"
import type { ServerAddress } from "./server-address.js"

export interface PoolServer {
  readonly address: ServerAddress
  /** Requests in flight now. */
  outstanding: number
  /** Requests sent so far. */
  sent: number
  /** Faults in a row since the last success. */
  faults: number
  /** Not picked before this time (ms since the epoch); 0: available. */
  restUntil: number
  /** The length of the next rest. */
  nextRestMs: number
}

export type ServerVerdict = "ok" | "fault" | "neutral"

export interface ServerPool {
  readonly servers: ReadonlyArray<PoolServer>
  /**
   * A server with a free slot, not resting; the least outstanding, other than `avoid` when another
   * can take the request (a retry goes elsewhere when it can). Waits while none can.
   */
  readonly acquire: (avoid?: PoolServer) => Effect.Effect<PoolServer>
  /** Frees the slot and records how the request went. */
  readonly release: (server: PoolServer, verdict: ServerVerdict) => void
  /** Keep a server out of the rotation for `ms` (its Retry-After). */
  readonly pause: (server: PoolServer, ms: number) => void
}

export interface PoolOptions {
  readonly concurrency: number
  readonly faultsToRest: number
  readonly restMs: number
  readonly restMaxMs: number
  readonly now?: () => number
}

interface Waiter {
  readonly avoid: PoolServer | undefined
  readonly resume: (server: PoolServer) => void
  granted: PoolServer | undefined
}

export function makeServerPool(addresses: ReadonlyArray<ServerAddress>, options: PoolOptions): ServerPool {
  const now = options.now ?? Date.now
  const servers: Array<PoolServer> = addresses.map((address) => ({
    address,
    outstanding: 0,
    sent: 0,
    faults: 0,
    restUntil: 0,
    nextRestMs: options.restMs
  }))
  const waiters: Array<Waiter> = []
  let timer: ReturnType<typeof setTimeout> | undefined
  let timerAt = Number.POSITIVE_INFINITY

  const pick = (avoid: PoolServer | undefined, t: number): PoolServer | undefined => {
    let best: PoolServer | undefined
    let fallback: PoolServer | undefined
    for (const s of servers) {
      if (s.outstanding >= options.concurrency || s.restUntil > t) continue
      // ties go to the server that has had fewer requests, so an idle pool still spreads work
      const better = (b: PoolServer | undefined) =>
        b === undefined || s.outstanding < b.outstanding || (s.outstanding === b.outstanding && s.sent < b.sent)
      if (s === avoid) fallback = s
      else if (better(best)) best = s
    }
    return best ?? fallback
  }

  const take = (s: PoolServer) => {
    s.outstanding++
    s.sent++
    return s
  }

  // resuming a waiter runs its fiber on the spot, which may call back into the pool: loop until stable
  let waking = false
  let again = false
  const wake = () => {
    if (waking) {
      again = true
      return
    }
    waking = true
    do {
      again = false
      while (waiters.length > 0) {
        const w = waiters[0]!
        const s = pick(w.avoid, now())
        if (s === undefined) break
        waiters.shift()
        w.granted = take(s)
        w.resume(s)
      }
    } while (again)
    waking = false
    if (waiters.length > 0) wakeAfterRest()
  }

  /** Every server with room is resting: come back when the first rest ends. */
  const wakeAfterRest = () => {
    const t = now()
    let at = Number.POSITIVE_INFINITY
    for (const s of servers) if (s.outstanding < options.concurrency && s.restUntil > t) at = Math.min(at, s.restUntil)
    if (at === Number.POSITIVE_INFINITY || at >= timerAt) return
    if (timer !== undefined) clearTimeout(timer)
    timerAt = at
    timer = setTimeout(
      () => {
        timer = undefined
        timerAt = Number.POSITIVE_INFINITY
        wake()
      },
      at - t + 1
    )
  }

  const acquire = (avoid?: PoolServer): Effect.Effect<PoolServer> =>
    Effect.suspend(() => {
      if (waiters.length === 0) {
        const s = pick(avoid, now())
        if (s !== undefined) return Effect.succeed(take(s))
      }
      return Effect.callback<PoolServer>((resume) => {
        const waiter: Waiter = { avoid, resume: (s) => resume(Effect.succeed(s)), granted: undefined }
        waiters.push(waiter)
        wake()
        return Effect.sync(() => {
          // interrupted while waiting; a slot granted at that very moment goes back
          const i = waiters.indexOf(waiter)
          if (i >= 0) waiters.splice(i, 1)
          else if (waiter.granted !== undefined) release(waiter.granted, "neutral")
          // a pending timer would keep the process alive for the rest of a long rest
          if (waiters.length === 0 && timer !== undefined) {
            clearTimeout(timer)
            timer = undefined
            timerAt = Number.POSITIVE_INFINITY
          }
        })
      })
    })

  const release = (s: PoolServer, verdict: ServerVerdict) => {
    s.outstanding--
    const t = now()
    if (verdict === "ok") {
      s.faults = 0
      s.nextRestMs = options.restMs
    } else if (verdict === "fault") {
      s.faults++
      // requests in flight when the rest began fail too: they do not lengthen it
      if (s.faults >= options.faultsToRest && s.restUntil <= t) {
        s.restUntil = t + s.nextRestMs
        s.nextRestMs = Math.min(options.restMaxMs, s.nextRestMs * 2)
      }
    }
    wake()
  }

  const pause = (s: PoolServer, ms: number) => {
    s.restUntil = Math.max(s.restUntil, now() + ms)
    wake()
  }

  return { servers, acquire, release, pause }
}
