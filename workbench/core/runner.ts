/**
 * Runs a validated graph: computes every node's cache key from its kind, version, params, inputs and
 * fingerprint; serves unchanged nodes from the artifact store; runs the rest with bounded
 * concurrency, each as soon as its inputs are ready; stops only the downstream of a failed node.
 */
import { Cause, Deferred, Effect, Exit, Option, Semaphore } from "effect"
import { isAssignable } from "./column-type.js"
import { cacheKey } from "./cache-key.js"
import { DataError, type NodeError } from "./errors.js"
import { downstreamOf, type GraphNode, type PipelineGraph, upstreamOf } from "./graph.js"
import type { InputTable } from "./node.js"
import type { Manifest, NodeReport, RunReport } from "./report.js"
import { ArtifactStore, Database, Progress, RunEvents, RunLog, Sql, type SqlShape, Workspace } from "./services.js"
import { didYouMean } from "./did-you-mean.js"

export interface RunOptions {
  /** Run only this node and what it needs. */
  readonly only?: string | undefined
  /** Re-run this node and everything downstream of it, even if cached. */
  readonly from?: string | undefined
  /** Ignore the cache for every node. */
  readonly force?: boolean | undefined
  /** How many nodes may run at once. */
  readonly concurrency?: number | undefined
  /** The pipeline file, for the run log. */
  readonly file?: string | undefined
}

interface Outcome {
  readonly ok: boolean
  readonly manifest?: Manifest
}

/** Check `--only` / `--from` before starting anything: known names, and a --from that --only runs. */
export const checkSelection = (graph: PipelineGraph, options: RunOptions) =>
  Effect.forEach([["only", options.only], ["from", options.from]] as const, ([flag, name]) => {
    const names = graph.nodes.map((n) => n.name)
    return name === undefined || names.includes(name) ? Effect.void : Effect.fail(new DataError({
      where: `--${flag} ${name}`,
      found: `pipeline "${graph.name}" has no node "${name}"`,
      expected: `one of: ${names.join(", ")}`,
      fix: didYouMean(name, names) || "pick a node name from `wb ls <file>`"
    }))
  }, { discard: true }).pipe(Effect.andThen(Effect.suspend(() => {
    if (options.only === undefined || options.from === undefined) return Effect.void
    const runs = [...upstreamOf(graph, options.only)]
    return runs.includes(options.from) ? Effect.void : Effect.fail(new DataError({
      where: `--only ${options.only} --from ${options.from}`,
      found: `"${options.from}" is not among the nodes --only ${options.only} runs (${runs.join(", ")})`,
      expected: "a --from node that --only selects, so that it can be re-run",
      fix: `drop one of the two flags, or pick --from among: ${runs.join(", ")}`
    }))
  })))

/** Compute every node's cache key (fingerprints read the files loaders will read). */
export function computeKeys(graph: PipelineGraph, root: string): Map<string, string> {
  const keys = new Map<string, string>()
  for (const node of graph.nodes) {
    let fingerprint = ""
    try {
      fingerprint = node.definition.fingerprint?.(node.params, root) ?? ""
    } catch (e) {
      fingerprint = `unreadable: ${String(e)}` // the node's own run reports the problem properly
    }
    keys.set(node.name, cacheKey({
      kind: node.definition.kind,
      version: node.definition.version,
      params: node.params,
      inputs: inputKeys(node, keys),
      fingerprint
    }))
  }
  return keys
}

const inputKeys = (node: GraphNode, keys: ReadonlyMap<string, string>) =>
  Object.fromEntries(Object.entries(node.inputs).map(([name, refs]) =>
    [name, refs.map((r) => ({ key: keys.get(r.node) ?? "?", table: r.table }))] as const))

export const runGraph = Effect.fn("runGraph")(function*(graph: PipelineGraph, options: RunOptions = {}) {
  yield* checkSelection(graph, options)
  const store = yield* ArtifactStore
  const log = yield* RunLog
  const events = yield* RunEvents
  const workspace = yield* Workspace
  const started = performance.now()
  const all = new Set(graph.nodes.map((n) => n.name))
  const selected = options.only === undefined ? all : upstreamOf(graph, options.only)
  const forced = options.force === true ? all : options.from === undefined ? new Set<string>() : downstreamOf(graph, options.from)
  const keys = computeKeys(graph, workspace.root)

  const runId = yield* log.start(graph.name, options.file ?? "", graph.nodes.map((n) => n.name))
  yield* events.emit({
    _tag: "RunStarted", pipeline: graph.name, runId,
    nodes: graph.nodes.map((n) => ({ name: n.name, kind: n.definition.kind, selected: selected.has(n.name) }))
  })
  // a node holds a permit only while it executes: waiting for its inputs takes none, so independent
  // branches run side by side whatever order the nodes are listed in
  const permits = yield* Semaphore.make(options.concurrency ?? 2)
  const running = new Map<string, { readonly started: number; readonly key: string }>()
  const done = new Map<string, Deferred.Deferred<Outcome>>()
  for (const n of graph.nodes) done.set(n.name, yield* Deferred.make<Outcome>())
  const reports = new Map<string, NodeReport>()

  const finish = (node: GraphNode, report: NodeReport, outcome: Outcome) =>
    Effect.gen(function*() {
      reports.set(node.name, report)
      yield* log.node(runId, report, outcome.manifest)
      yield* events.emit({ _tag: "NodeFinished", report })
      yield* Deferred.succeed(done.get(node.name)!, outcome)
    })

  const skip = (node: GraphNode, why: string) =>
    finish(node, { ...emptyReport(node), status: "skipped", error: why }, { ok: false })

  const visit = (node: GraphNode) => Effect.gen(function*() {
    const parents = [...new Set(Object.values(node.inputs).flat().map((r) => r.node))]
    const upstream = new Map<string, Outcome>()
    for (const p of parents) upstream.set(p, yield* Deferred.await(done.get(p)!))
    if (!selected.has(node.name)) return yield* skip(node, `not selected (--only ${options.only})`)
    const broken = parents.filter((p) => !upstream.get(p)!.ok)
    if (broken.length > 0) {
      return yield* skip(node, `upstream ${broken.map((b) => `"${b}"`).join(", ")} ${reports.get(broken[0]!)?.status === "skipped" ? "did not run" : "failed"}`)
    }
    const key = keys.get(node.name)!
    if (!forced.has(node.name)) {
      const hit = yield* store.lookup(key)
      if (hit !== undefined) {
        return yield* finish(node, reportFrom(node, hit, "cached", 0), { ok: true, manifest: hit })
      }
    }
    const exit = yield* Semaphore.withPermit(permits)(Effect.gen(function*() {
      yield* events.emit({ _tag: "NodeStarted", node: node.name, kind: node.definition.kind })
      running.set(node.name, { started: performance.now(), key })
      return yield* Effect.exit(execute(node, key, upstream))
    }))
    const seconds = (performance.now() - running.get(node.name)!.started) / 1000
    running.delete(node.name)
    if (Exit.isSuccess(exit)) {
      return yield* finish(node, reportFrom(node, exit.value, "ran", seconds), { ok: true, manifest: exit.value })
    }
    if (Cause.hasInterruptsOnly(exit.cause)) return yield* Effect.interrupt
    const { text, tag } = describeCause(exit.cause)
    return yield* finish(node, { ...emptyReport(node), status: "failed", seconds, key, error: text, errorTag: tag }, { ok: false })
  })

  const execute = (node: GraphNode, key: string, upstream: ReadonlyMap<string, Outcome>) =>
    Effect.scoped(Effect.gen(function*() {
      const db = yield* Database
      const sql = yield* db.connect
      const inputs: Record<string, InputTable> = {}
      for (const [name, refs] of Object.entries(node.inputs)) {
        const parts = refs.map((r) => ({ manifest: upstream.get(r.node)!.manifest!, table: r.table }))
        const clashes = typeClashes(parts.map((p) => p.manifest.tables[p.table]?.columns ?? []))
        if (clashes.length > 0) {
          yield* events.emit({
            _tag: "NodeNote", node: node.name,
            text: `input ${name}: ${clashes.map((c) => `${c.name} (${c.types.join(" / ")})`).join(", ")} read as text: the unioned tables disagree on the type`
          })
        }
        const union = (relationOf: (p: (typeof parts)[number], i: number) => string) =>
          parts.length === 1
            ? relationOf(parts[0]!, 0)
            : `(${parts.map((p, i) => selectAsText(relationOf(p, i), clashes, p.manifest.tables[p.table]?.columns ?? [])).join(" UNION ALL BY NAME ")})`
        const relation = union((p) => store.relation(p.manifest, p.table))
        const numbered = union((p, i) => store.numberedRelation(p.manifest, p.table, i))
        const schema = yield* sql.describe(relation)
        yield* checkRealColumns(node, name, schema.columns)
        inputs[name] = { relation, numbered, schema, rows: parts.reduce((s, p) => s + (p.manifest.tables[p.table]?.rows ?? 0), 0) }
      }
      const progress = makeProgress(node.name, events)
      const out = yield* node.definition.run({ node: node.name, params: node.params, inputs }).pipe(
        Effect.provideService(Sql, sql),
        Effect.provideService(Progress, progress),
        Effect.provideService(Workspace, workspace),
        Effect.raceFirst(reportEngineProgress(node.name, sql, progress, events))
      )
      const tables: Record<string, { relation: string; role: "main" | "rejects" | "removed" | "aux" }> = {}
      for (const [name, contract] of Object.entries(node.definition.outputs)) {
        const relation = out.tables[name]
        if (relation === undefined) {
          return yield* Effect.die(new Error(`node kind ${node.definition.kind} returned no table "${name}"`))
        }
        yield* checkOutput(node, name, sql, relation)
        tables[name] = { relation, role: contract.role }
      }
      // by default a node's rows in are those of its first declared input (pairs, not the votes beside them)
      const primary = Object.keys(node.definition.inputs)[0]
      const rowsIn = out.rowsIn ?? (primary === undefined ? 0 : inputs[primary]?.rows ?? 0)
      return yield* store.publish(sql, {
        key, node: node.name, kind: node.definition.kind, version: node.definition.version, params: node.params,
        inputs: inputKeys(node, keys), stats: out.stats ?? {}, rowsIn, seconds: 0, createdAt: new Date().toISOString()
      }, tables)
    }))

  // on Ctrl-C: the nodes that were running are logged as interrupted, and a partial report says
  // what finished, what was cut short and what never started
  const interrupted = Effect.gen(function*() {
    const now = performance.now()
    for (const node of graph.nodes) {
      if (reports.has(node.name)) continue
      const run = running.get(node.name)
      const report: NodeReport = run === undefined
        ? { ...emptyReport(node), status: "skipped", error: "the run was interrupted before it started" }
        : { ...emptyReport(node), status: "interrupted", seconds: (now - run.started) / 1000, key: run.key, error: "interrupted while running" }
      reports.set(node.name, report)
      if (run !== undefined) yield* log.node(runId, report, undefined)
    }
    yield* log.finish(runId, "interrupted")
    const nodes = graph.nodes.map((n) => reports.get(n.name)!)
    yield* events.emit({
      _tag: "RunFinished",
      report: { pipeline: graph.name, runId, status: "interrupted", seconds: (now - started) / 1000, nodes }
    })
  })
  yield* Effect.forEach(graph.nodes, visit, { concurrency: "unbounded", discard: true }).pipe(
    Effect.onInterrupt(() => interrupted)
  )
  const nodes = graph.nodes.map((n) => reports.get(n.name)!)
  const status = nodes.some((n) => n.status === "failed") ? "failed" as const : "ok" as const
  yield* log.finish(runId, status)
  const report: RunReport = { pipeline: graph.name, runId, status, seconds: (performance.now() - started) / 1000, nodes }
  yield* events.emit({ _tag: "RunFinished", report })
  return report
})

function makeProgress(node: string, events: RunEvents["Service"]) {
  let last = 0
  return {
    /** When the node itself last reported rows (ms), so engine estimates do not overwrite them. */
    lastReport: () => last,
    ...Progress.of({
      rows: (done, total, unit = "rows") => Effect.suspend(() => {
        const now = performance.now()
        if (now - last < 100 && (total === undefined || done < total)) return Effect.void
        last = now
        return events.emit({ _tag: "NodeProgress", node, done, unit, ...(total === undefined ? {} : { total }) })
      }),
      note: (text) => events.emit({ _tag: "NodeNote", node, text })
    })
  }
}

/**
 * Never ends: every 250 ms, while the node reports no rows of its own, forwards the engine's estimate
 * for the running statement, so long SQL steps still get a bar.
 */
const reportEngineProgress = (
  node: string,
  sql: SqlShape,
  progress: ReturnType<typeof makeProgress>,
  events: RunEvents["Service"]
) =>
  Effect.gen(function*() {
    let shown = -1
    for (;;) {
      yield* Effect.sleep("250 millis")
      const pct = sql.progress()
      if (pct < 0 || pct === shown || performance.now() - progress.lastReport() < 1000) continue
      shown = pct
      yield* events.emit({ _tag: "NodeProgress", node, done: Math.round(pct), total: 100, unit: "%" })
    }
  }).pipe(Effect.andThen(Effect.never))

const NUMERIC = new Set(["int32", "int64", "float64"])

/**
 * Columns that several tables of one input share under one name but not one type. Numbers widen by
 * themselves in a union; any other disagreement (JSON here, text there) would fail it at run time.
 */
function typeClashes(tables: ReadonlyArray<ReadonlyArray<{ readonly name: string; readonly type: string }>>) {
  const types = new Map<string, Set<string>>()
  for (const columns of tables) for (const c of columns) types.set(c.name, (types.get(c.name) ?? new Set()).add(c.type))
  return [...types].filter(([, t]) => t.size > 1 && ![...t].every((x) => NUMERIC.has(x)))
    .map(([name, t]) => ({ name, types: [...t].sort() }))
}

/** One table of a union, with the clashing columns it has cast to text. */
function selectAsText(relation: string, clashes: ReadonlyArray<{ readonly name: string }>, columns: ReadonlyArray<{ readonly name: string }>) {
  const own = clashes.filter((c) => columns.some((x) => x.name === c.name))
  const quoted = (n: string) => `"${n.replaceAll('"', '""')}"`
  return own.length === 0
    ? `SELECT * FROM ${relation}`
    : `SELECT * REPLACE (${own.map((c) => `${quoted(c.name)}::VARCHAR AS ${quoted(c.name)}`).join(", ")}) FROM ${relation}`
}

const checkRealColumns = (node: GraphNode, input: string, columns: ReadonlyArray<{ name: string; type: string }>) => {
  const contract = node.definition.inputs[input]!
  for (const [column, expected] of Object.entries(contract.required)) {
    const found = columns.find((c) => c.name === column)
    if (found === undefined || !isAssignable(found.type, expected)) {
      return Effect.fail(new DataError({
        where: `node "${node.name}" (${node.definition.kind}) input "${input}"`,
        found: found === undefined
          ? `no column ${column}; the table has: ${columns.map((c) => `${c.name} (${c.type})`).join(", ")}`
          : `column ${column} is ${found.type}`,
        expected: `column ${column} (${expected})`,
        fix: `produce ${column} upstream, or map a source column onto it`
      }))
    }
  }
  return Effect.void
}

const checkOutput = (node: GraphNode, table: string, sql: SqlShape, relation: string) =>
  Effect.gen(function*() {
    const real = yield* sql.describe(relation)
    for (const c of node.outputs[table]?.columns ?? []) {
      const found = real.columns.find((r) => r.name === c.name)
      if (found === undefined || !isAssignable(found.type, c.type)) {
        return yield* Effect.die(new Error(
          `node kind ${node.definition.kind} broke its own output contract: table ${table} column ${c.name} ` +
            `should be ${c.type}, found ${found?.type ?? "nothing"}`
        ))
      }
    }
  })

const emptyReport = (node: GraphNode): NodeReport => ({
  name: node.name, kind: node.definition.kind, status: "skipped", rowsIn: 0, rowsOut: 0, rejected: 0, removed: 0, seconds: 0
})

function reportFrom(node: GraphNode, m: Manifest, status: "ran" | "cached", seconds: number): NodeReport {
  const byRole = (role: string) => Object.values(m.tables).filter((t) => t.role === role).reduce((s, t) => s + t.rows, 0)
  return {
    name: node.name, kind: node.definition.kind, status, key: m.key, seconds, stats: m.stats,
    rowsIn: m.rowsIn, rowsOut: byRole("main"), rejected: byRole("rejects"), removed: byRole("removed")
  }
}

/** A failure as text for the report: the tagged error's message, or an id'd internal error with its stack. */
function describeCause(cause: Cause.Cause<NodeError>): { text: string; tag: string } {
  const failure = Cause.findErrorOption(cause)
  if (Option.isSome(failure)) return { text: failure.value.message, tag: failure.value._tag }
  const defect = Cause.squash(cause)
  const id = Math.random().toString(36).slice(2, 8)
  const stack = defect instanceof Error ? defect.stack ?? defect.message : String(defect)
  return { text: `internal error ${id}: ${defect instanceof Error ? defect.message : String(defect)}\n${stack}`, tag: "InternalError" }
}
