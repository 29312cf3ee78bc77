/**
 * The live view of `wb run`: a header, then one line per node. On a TTY the block is redrawn in place
 * about ten times a second; otherwise one plain line is written per state change (started, done,
 * failed, skipped) and per note once it is superseded, plus, every `HEARTBEAT_MS`, a line per running
 * node with its progress, so a CI log shows a long node moving. Without a terminal nothing is redrawn:
 * no ANSI codes, no carriage returns, no spinner frames.
 */
import type { RunEventBody } from "../core/events.js"
import type { NodeReport } from "../core/report.js"
import { bar, count, duration, padEnd, rate, seconds, truncate } from "./format.js"

/** Where the view writes: stdout, stderr (with --json), or a test double. */
export interface ViewOutput {
  readonly write: (text: string) => void
  readonly isTTY: boolean
  /** Terminal width, when known. */
  readonly columns?: number | undefined
}

type NodeState = "waiting" | "running" | "done" | "failed" | "skipped"

interface NodeRow {
  readonly name: string
  readonly kind: string
  state: NodeState
  startedAt?: number
  progress?: { done: number; total?: number; unit: string }
  note?: string
  /**
   * Whether the note still says what the node is doing: a progress report after it (rows read since
   * "reading x.jsonl") makes it stale, and a finished node's line shows only a note that is not.
   */
  noteFresh?: boolean
  /** The latest value of each series the node reported (NodeMetrics), and its epoch when given. */
  metrics?: { values: Record<string, number>; epoch?: number }
  report?: NodeReport
}

/** How often a log without a terminal hears from running nodes. */
export const HEARTBEAT_MS = 10_000

const SPINNER = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"]
// a running node's symbol without a terminal: a fixed mark, never a spinner frame (a log is not animated)
const SYMBOL: Record<NodeState, string> = { waiting: "·", running: "▸", done: "✓", failed: "✗", skipped: "–" }

export class RunView {
  private readonly rows: Array<NodeRow> = []
  private drawnLines = 0
  private frame = 0
  private timer: ReturnType<typeof setInterval> | undefined
  private dirty = false

  constructor(
    private readonly out: ViewOutput,
    private readonly workspaceLabel: string,
    private readonly now: () => number = () => performance.now()
  ) {}

  /** Feed one run event (the runner's `onEvent`); the view needs no stamps (run id, seq, time). */
  readonly onEvent = (event: RunEventBody): void => {
    switch (event._tag) {
      case "RunStarted": {
        const n = event.nodes.length
        this.out.write(`${event.pipeline} · ${n} node${n === 1 ? "" : "s"} · workspace ${this.workspaceLabel}\n`)
        for (const node of event.nodes) this.rows.push({ name: node.name, kind: node.kind, state: "waiting" })
        if (this.out.isTTY) {
          this.redraw()
          this.timer = setInterval(() => this.tick(), 100)
        } else {
          this.timer = setInterval(() => this.heartbeat(), HEARTBEAT_MS)
        }
        this.timer.unref?.()
        return
      }
      case "NodeStarted":
        return this.change(event.node, (row) => {
          row.state = "running"
          row.startedAt = this.now()
        })
      case "NodeProgress": {
        const row = this.row(event.node)
        if (row === undefined) return
        row.progress = {
          done: event.done,
          unit: event.unit,
          ...(event.total === undefined ? {} : { total: event.total })
        }
        this.supersede(row)
        this.dirty = true
        return
      }
      case "NodeMetrics": {
        const row = this.row(event.node)
        if (row === undefined) return
        row.metrics = {
          values: { ...row.metrics?.values, ...event.values },
          ...(event.epoch === undefined ? {} : { epoch: event.epoch })
        }
        this.dirty = true
        return
      }
      case "NodeNote": {
        const row = this.row(event.node)
        if (row === undefined) return
        this.supersede(row)
        row.note = event.text
        row.noteFresh = true
        this.dirty = true
        return
      }
      case "NodeFinished":
        return this.change(event.report.name, (row) => {
          row.report = event.report
          row.state =
            event.report.status === "failed"
              ? "failed"
              : event.report.status === "skipped" || event.report.status === "interrupted"
                ? "skipped"
                : "done"
        })
      case "RunFinished":
        return this.stop()
    }
  }

  /** Stop redrawing, leaving the last frame on screen. Safe to call twice. */
  stop(): void {
    if (this.timer !== undefined) {
      clearInterval(this.timer)
      this.timer = undefined
      if (this.out.isTTY) this.redraw()
    }
  }

  /** Without a terminal: one line per running node, with its progress so far. */
  heartbeat(): void {
    const running = this.rows.filter((r) => r.state === "running")
    if (running.length === 0) return
    const nameWidth = Math.max(...this.rows.map((r) => r.name.length), 0)
    const kindWidth = Math.max(...this.rows.map((r) => r.kind.length), 0)
    this.out.write(running.map((r) => `${this.line(r, nameWidth, kindWidth)}\n`).join(""))
  }

  /** The node lines as they read now (without ANSI codes). */
  lines(): Array<string> {
    const nameWidth = Math.max(...this.rows.map((r) => r.name.length), 0)
    const kindWidth = Math.max(...this.rows.map((r) => r.kind.length), 0)
    return this.rows.map((row) => this.line(row, nameWidth, kindWidth))
  }

  /**
   * The node's note is no longer current. Without a terminal it goes into the log as a line of its own
   * (true when it was said, so nothing is lost or shown stale); a terminal showed it while it was current.
   */
  private supersede(row: NodeRow) {
    if (row.note === undefined || row.noteFresh !== true) return
    row.noteFresh = false
    if (!this.out.isTTY && row.state === "running") {
      const nameWidth = Math.max(...this.rows.map((r) => r.name.length), 0)
      const kindWidth = Math.max(...this.rows.map((r) => r.kind.length), 0)
      this.out.write(
        `  ${SYMBOL.running} ${padEnd(row.name, nameWidth)}  ${padEnd(row.kind, kindWidth)}  ${row.note}\n`
      )
    }
  }

  private row(name: string) {
    return this.rows.find((r) => r.name === name)
  }

  private change(name: string, f: (row: NodeRow) => void) {
    const row = this.row(name)
    if (row === undefined) return
    f(row)
    if (this.out.isTTY) {
      this.redraw()
    } else {
      const nameWidth = Math.max(...this.rows.map((r) => r.name.length), 0)
      const kindWidth = Math.max(...this.rows.map((r) => r.kind.length), 0)
      this.out.write(`${this.line(row, nameWidth, kindWidth)}\n`)
    }
  }

  private tick() {
    this.frame = (this.frame + 1) % SPINNER.length
    if (this.dirty || this.rows.some((r) => r.state === "running")) this.redraw()
  }

  private redraw() {
    this.dirty = false
    const columns = this.out.columns || 120
    const lines = this.lines().map((l) => truncate(l, Math.max(20, columns - 1)))
    // up to the first line of the block, rewrite each line, clear whatever was below
    const up = this.drawnLines > 0 ? `\x1b[${this.drawnLines}F` : ""
    this.out.write(`${up}${lines.map((l) => `\x1b[2K${l}\n`).join("")}\x1b[J`)
    this.drawnLines = lines.length
  }

  private line(row: NodeRow, nameWidth: number, kindWidth: number): string {
    const symbol = row.state === "running" && this.out.isTTY ? SPINNER[this.frame]! : SYMBOL[row.state]
    return `  ${symbol} ${padEnd(row.name, nameWidth)}  ${padEnd(row.kind, kindWidth)}  ${this.status(row)}`.trimEnd()
  }

  private status(row: NodeRow): string {
    const r = row.report
    switch (row.state) {
      case "waiting":
        return "waiting"
      case "skipped":
        // a node Ctrl-C cut short is not one that never started
        if (r?.status === "interrupted") return `interrupted after ${seconds(r.seconds)}`
        return `skipped${r?.error ? `: ${r.error}` : ""}`
      case "failed":
        return `failed after ${seconds(r?.seconds ?? 0)}: ${firstLine(r?.error ?? "unknown error")}`
      case "done": {
        if (r === undefined) return "done"
        const note = row.note === undefined || row.noteFresh !== true ? "" : `   (${row.note})`
        const extra = [
          r.rejected > 0 ? `${count(r.rejected)} rejected` : "",
          r.removed > 0 ? `${count(r.removed)} removed` : ""
        ]
          .filter((s) => s !== "")
          .join(", ")
        // a cached node's note says what it restored outside the workspace (an export's deleted file)
        if (r.status === "cached") return `${padEnd(`${count(r.rowsOut)} rows`, 18)}  cached${note}`
        const rows = r.rowsIn > 0 ? `${count(r.rowsIn)} → ${count(r.rowsOut)}` : `${count(r.rowsOut)} rows`
        // where the reported series ended (a trainer's last loss), so a log without a terminal has them too
        const last = row.metrics === undefined ? "" : `   ${metricsText(row.metrics.values)}`
        return `${padEnd(rows, 18)}  ${seconds(r.seconds)}${extra ? `   ${extra}` : ""}${last}${note}`
      }
      case "running":
        return this.running(row)
    }
  }

  private running(row: NodeRow): string {
    const elapsed = (this.now() - (row.startedAt ?? this.now())) / 1000
    const p = row.progress
    const m = row.metrics
    // a node's own metrics say more than an ad-hoc note; their rate (pairs/s) replaces the bar's
    const note =
      m !== undefined
        ? ` · ${m.epoch === undefined ? "" : `epoch ${m.epoch + 1} `}${metricsText(m.values)}`
        : row.note === undefined || row.noteFresh !== true
          ? ""
          : ` · ${row.note}`
    if (p === undefined) return `running ${duration(elapsed)}${note}`
    const perSecond = elapsed > 0 ? p.done / elapsed : 0
    const ownRate = m !== undefined && Object.keys(m.values).some((k) => k.endsWith(RATE))
    const speed = perSecond > 0 && !ownRate ? ` · ${rate(perSecond)}` : ""
    if (p.unit === "%") return `${bar(p.done, 100)} ${Math.round(p.done)}% of the current step${note}`
    if (p.total === undefined || p.total <= 0) return `${count(p.done)} ${p.unit}${speed}${note}`
    const eta = perSecond > 0 && p.done < p.total ? ` · eta ${duration((p.total - p.done) / perSecond)}` : ""
    return `${bar(p.done, p.total)} ${count(p.done)}/${count(p.total)} ${p.unit}${speed}${eta}${note}`
  }
}

const firstLine = (text: string) => text.split("\n")[0] ?? text

const RATE = "_per_s"

/** A metric's value: 4 significant digits ("0.6412", "1.234"), whole numbers from 1,000 up. */
const metricValue = (v: number) => (Math.abs(v) >= 1000 ? count(v) : String(Number(v.toPrecision(4))))

/**
 * Metric values as the run line shows them: `loss 0.6412 acc 0.631 9,876 pairs/s`. Generic over the
 * names: `<x>_per_s` is a rate (`9,876 x/s`), "accuracy" is shortened to "acc" to keep the line short.
 */
export function metricsText(values: Readonly<Record<string, number>>): string {
  const entries = Object.entries(values)
  // rates last: `loss … val_acc … 9,876 pairs/s`
  return [...entries.filter(([k]) => !k.endsWith(RATE)), ...entries.filter(([k]) => k.endsWith(RATE))]
    .map(([k, v]) =>
      k.endsWith(RATE)
        ? `${count(v)} ${k.slice(0, -RATE.length)}/s`
        : `${k.replace(/accuracy/g, "acc")} ${metricValue(v)}`
    )
    .join(" ")
}
