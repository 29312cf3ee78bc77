/**
 * The one event stream of this tab (`/api/events`): Chrome allows 6 connections per host, and each
 * open EventSource holds one for good, so every view subscribes here instead of opening its own.
 * Events are deduplicated by (runId, seq): a reconnect replays the latest run.
 */
import type { RunEvent } from "./types.ts"

type Listener = (e: RunEvent) => void
const listeners = new Set<Listener>()
const seen = new Set<string>()
let source: EventSource | undefined

export function subscribe(listener: Listener): () => void {
  listeners.add(listener)
  if (source === undefined) {
    source = new EventSource("/api/events")
    source.onmessage = (m) => {
      const e = JSON.parse(m.data as string) as RunEvent
      const key = `${e.runId}:${e.seq}`
      if (seen.has(key)) return
      seen.add(key)
      for (const l of listeners) l(e)
    }
  }
  return () => listeners.delete(listener)
}
