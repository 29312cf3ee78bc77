/** A running node's progress as events: its own row counts, or the engine's estimate while it has none. */
import { Effect } from "effect"
import type { RunEventBody } from "./events.js"
import { type MetricsAt, Progress, type SqlShape } from "./services.js"

/** Emits an event, stamped with the run id, sequence number and time. */
export type Emit = (event: RunEventBody) => Effect.Effect<void>

type MetricsEvent = Extract<RunEventBody, { _tag: "NodeMetrics" }>

/** The least time between two metrics events of one node and series set: at most 10 a second. */
export const METRICS_GAP_MS = 100

/**
 * The one place metrics are thinned, so a fast run (thousands of steps a second) does not flood the
 * event stream, the event log and the browser. Each set of names (a trainer's per-step loss/accuracy,
 * its per-epoch val_loss) has its own budget, so rare series are never starved by frequent ones. An
 * event inside the gap is held, replacing any held before it, and goes out at `flush` (the node's end)
 * unless a later one went out first; the last step (`step >= steps`) always goes out at once.
 */
export function metricsThrottle(gapMs = METRICS_GAP_MS, now: () => number = () => performance.now()) {
  const sets = new Map<string, { sent: number; held: MetricsEvent | undefined }>()
  return {
    /** The events to emit now for `event`: itself, or none (held). */
    offer(event: MetricsEvent): Array<MetricsEvent> {
      const key = Object.keys(event.values).sort().join("\u0000")
      const set = sets.get(key) ?? { sent: Number.NEGATIVE_INFINITY, held: undefined }
      sets.set(key, set)
      const t = now()
      const last = event.steps !== undefined && event.step >= event.steps
      if (!last && t - set.sent < gapMs) {
        set.held = event
        return []
      }
      set.sent = t
      set.held = undefined
      return [event]
    },
    /** The held events (the latest of each set not sent), in step order; none are held afterwards. */
    flush(): Array<MetricsEvent> {
      const held = [...sets.values()].flatMap((s) => (s.held === undefined ? [] : [s.held]))
      for (const s of sets.values()) s.held = undefined
      return held.sort((a, b) => a.step - b.step)
    }
  }
}

function metricsEvent(node: string, values: Readonly<Record<string, number>>, at: MetricsAt): MetricsEvent | null {
  const finite = Object.entries(values).filter(([, v]) => Number.isFinite(v))
  if (finite.length === 0 || !Number.isFinite(at.step)) return null
  return {
    _tag: "NodeMetrics",
    node,
    step: at.step,
    ...(at.steps === undefined ? {} : { steps: at.steps }),
    ...(at.epoch === undefined ? {} : { epoch: at.epoch }),
    values: Object.fromEntries(finite)
  }
}

export function makeProgress(node: string, emit: Emit, throttle = metricsThrottle()) {
  let last = 0
  return {
    /** When the node itself last reported rows (ms), so engine estimates do not overwrite them. */
    lastReport: () => last,
    /** Emits the metrics the throttle still holds: the runner calls it when the node's run ends. */
    flushMetrics: Effect.suspend(() => Effect.forEach(throttle.flush(), emit, { discard: true })),
    ...Progress.of({
      rows: (done, total, unit = "rows") =>
        Effect.suspend(() => {
          const now = performance.now()
          if (now - last < 100 && (total === undefined || done < total)) return Effect.void
          last = now
          return emit({ _tag: "NodeProgress", node, done, unit, ...(total === undefined ? {} : { total }) })
        }),
      note: (text) => emit({ _tag: "NodeNote", node, text }),
      metrics: (values, at) =>
        Effect.suspend(() => {
          const event = metricsEvent(node, values, at)
          return event === null ? Effect.void : Effect.forEach(throttle.offer(event), emit, { discard: true })
        })
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
