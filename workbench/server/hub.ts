/**
 * Run events for the browser: every run in the workspace — started here or by `wb run` in a terminal —
 * appends its events to `<workspace>/events/` (io/event-log.ts); the hub tails those files and hands
 * each line to every subscribed event stream. It also remembers the latest run's events (so a tab that
 * opens mid-run catches up), which nodes are running, and each node's last report (failed nodes).
 */
import { tailEventLogs } from "../io/event-log.js"
import type { NodeReport } from "../protocol/report.js"

const REPLAY_CAP = 20_000

export interface Subscriber {
  readonly push: (lines: ReadonlyArray<string>) => void
}

export class EventHub {
  private readonly subs = new Set<Subscriber>()
  private recent: Array<string> = []
  private recentRun: string | undefined
  readonly running = new Map<string, { pipeline: string; nodes: Set<string> }>()
  /** pipeline name -> node -> its last report */
  readonly lastReports = new Map<string, Map<string, NodeReport>>()
  private readonly pipelineOf = new Map<string, string>()
  private readonly tail

  constructor(workspace: string, intervalMs = 20) {
    this.tail = tailEventLogs(workspace, (line) => this.publish(line), intervalMs)
  }

  private publish(line: string) {
    let e: {
      _tag?: string
      runId?: string
      node?: string
      pipeline?: string
      report?: NodeReport & { nodes?: unknown }
    }
    try {
      e = JSON.parse(line)
    } catch {
      return // a torn line of a killed run
    }
    const runId = e.runId ?? ""
    if (e._tag === "RunStarted") {
      this.pipelineOf.set(runId, e.pipeline ?? "")
      this.running.set(runId, { pipeline: e.pipeline ?? "", nodes: new Set() })
      this.recent = []
      this.recentRun = runId
    }
    const run = this.running.get(runId)
    if (e._tag === "NodeStarted" && e.node !== undefined) run?.nodes.add(e.node)
    if (e._tag === "NodeFinished" && e.report !== undefined) {
      run?.nodes.delete(e.report.name)
      const p = this.pipelineOf.get(runId) ?? ""
      if (!this.lastReports.has(p)) this.lastReports.set(p, new Map())
      this.lastReports.get(p)!.set(e.report.name, e.report)
    }
    if (e._tag === "RunFinished") this.running.delete(runId)
    if (runId === this.recentRun && this.recent.length < REPLAY_CAP) this.recent.push(line)
    for (const s of this.subs) s.push([line])
  }

  /** Subscribe; with `replay`, the latest run's events so far come first. */
  subscribe(s: Subscriber, replay: boolean): () => void {
    if (replay && this.recent.length > 0) s.push(this.recent)
    this.subs.add(s)
    return () => this.subs.delete(s)
  }

  /** Nodes of pipeline `name` running now (from any process). */
  runningNodes(name: string): Set<string> {
    const out = new Set<string>()
    for (const r of this.running.values()) if (r.pipeline === name) for (const n of r.nodes) out.add(n)
    return out
  }

  close() {
    this.tail.close()
  }
}

/**
 * An SSE body for one subscriber: `retry`, then batches of `data:` frames, one write per 10 ms tick
 * holding every event due (1,000s of events a second in few writes), a comment every 15 s to keep
 * proxies and the browser from timing out.
 */
export async function* sseBody(
  hub: EventHub,
  replay: boolean,
  signal: { closed: boolean }
): AsyncGenerator<Uint8Array> {
  const enc = new TextEncoder()
  let pending: Array<string> = []
  let wake: (() => void) | undefined
  const unsubscribe = hub.subscribe(
    {
      push: (lines) => {
        for (const l of lines) pending.push(l)
        wake?.()
      }
    },
    replay
  )
  try {
    yield enc.encode("retry: 3000\n\n")
    let lastBeat = Date.now()
    while (!signal.closed) {
      if (pending.length === 0) {
        await new Promise<void>((r) => {
          wake = r
          setTimeout(r, 1000)
        })
        wake = undefined
      } else await new Promise((r) => setTimeout(r, 10))
      if (pending.length > 0) {
        const batch = pending
        pending = []
        yield enc.encode(batch.map((l) => `data: ${l}\n\n`).join(""))
      } else if (Date.now() - lastBeat > 15_000) {
        lastBeat = Date.now()
        yield enc.encode(": keep-alive\n\n")
      }
    }
  } finally {
    unsubscribe()
  }
}
