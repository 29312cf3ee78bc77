/** A running node's progress as events: its own row counts, or the engine's estimate while it has none. */
import { Effect } from "effect"
import type { RunEventBody } from "./events.js"
import { Progress, type SqlShape } from "./services.js"

/** Emits an event, stamped with the run id, sequence number and time. */
export type Emit = (event: RunEventBody) => Effect.Effect<void>

export function makeProgress(node: string, emit: Emit) {
  let last = 0
  return {
    /** When the node itself last reported rows (ms), so engine estimates do not overwrite them. */
    lastReport: () => last,
    ...Progress.of({
      rows: (done, total, unit = "rows") =>
        Effect.suspend(() => {
          const now = performance.now()
          if (now - last < 100 && (total === undefined || done < total)) return Effect.void
          last = now
          return emit({ _tag: "NodeProgress", node, done, unit, ...(total === undefined ? {} : { total }) })
        }),
      note: (text) => emit({ _tag: "NodeNote", node, text })
    })
  }
}

/**
 * Never ends: every 250 ms, while the node reports no rows of its own, forwards the engine's estimate
 * for the running statement, so long SQL steps still get a bar.
 */
export const reportEngineProgress = (
  node: string,
  sql: SqlShape,
  progress: ReturnType<typeof makeProgress>,
  emit: Emit
) =>
  Effect.gen(function* () {
    let shown = -1
    for (;;) {
      yield* Effect.sleep("250 millis")
      const pct = sql.progress()
      if (pct < 0 || pct === shown || performance.now() - progress.lastReport() < 1000) continue
      shown = pct
      yield* emit({ _tag: "NodeProgress", node, done: Math.round(pct), total: 100, unit: "%" })
    }
  }).pipe(Effect.andThen(Effect.never))
