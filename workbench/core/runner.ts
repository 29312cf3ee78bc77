/**
 * Runs a validated graph: computes each node's cache key, once its inputs are resolved, from its kind,
 * version, params, fingerprint and the content hashes of the tables it reads (early cutoff: an upstream
 * that re-runs and writes the same bytes leaves its downstream cached); serves unchanged nodes from the
 * artifact store; runs the rest with bounded concurrency, each as soon as its inputs are ready; stops
 * only the downstream of a failed node.
 */
import { Cause, Deferred, Effect, Exit, Option, Semaphore } from "effect"
import { checkOutput, checkRealColumns, checkSelection } from "./run-checks.js"
import { type Emit, makeProgress, reportEngineProgress } from "./run-progress.js"
import { emptyReport, reportFrom } from "./node-report.js"
import { computeRecipes, inputRecord, nodeKey, recordedParams, sampled } from "./cache-key.js"
import { recordDefect, internalErrorText } from "./defects.js"
import type { NodeError } from "./errors.js"
import type { RunEvent } from "./events.js"
import { checkServices, type GraphNode, type PipelineGraph, upstreamOf } from "./graph.js"
import { InputAssembly } from "./input-assembly.js"
import { inferSchemas } from "./infer.js"
import { makeReadCheck } from "./read-check.js"
import type { InputTable } from "./node.js"
import type { Manifest, NodeReport, RunReport } from "./report.js"
import { ExportFiles } from "./export-files.js"
import { ArtifactStore, Database, Progress, RunEvents, RunLog, Sql, Workspace } from "./services.js"
import { errorData, errorMessage, type FailureData } from "../protocol/errors.js"

export interface RunOptions {
  /** Run only this node and what it needs. */
  readonly only?: string | undefined
  /**
   * Re-run this node even if cached. Below it, a node re-runs when what it reads changed: one whose
   * inputs came out byte-identical stays cached (early cutoff; `force` recomputes everything).
   */
  readonly from?: string | undefined
  /** Ignore the cache for every node. */
  readonly force?: boolean | undefined
  /** Check the content hash of every cached artifact's files, not only their sizes. */
  readonly verify?: boolean | undefined
  /** How many nodes may run at once. */
  readonly concurrency?: number | undefined
  /** The pipeline file, for the run log. */
  readonly file?: string | undefined
  /**
   * Run on the first N records of each source (`wb run --sample N`): nodes without inputs get `sample`
   * in their run context and their cache key, so sampled artifacts never pass for full ones (the CLI
   * also keeps them in a workspace of their own).
   */
  readonly sample?: number | undefined
  /**
   * Run again every node whose cached artifact reports failed work worth retrying: a stat `retryable`
   * above 0 (`wb run --retry-failed`; a judge counts its failed requests there, and its response cache
   * makes the answered ones free). Below such a node, cache keys decide as always.
   */
  readonly retryFailed?: boolean | undefined
}

/** The `retryable` stat of a cached artifact, as a number (0 when absent). */
const retryableOf = (manifest: Manifest): number => Number(manifest.stats.retryable ?? 0) || 0

interface Outcome {
  readonly ok: boolean
  readonly manifest?: Manifest
}

export { checkSelection } from "./run-checks.js"

export const runGraph = Effect.fn("runGraph")(function* (built: PipelineGraph, options: RunOptions = {}) {
  // output schemas only the table engine can tell (SQL transforms), before anything starts or is logged
  const { graph } = yield* inferSchemas(built)
  yield* checkSelection(graph, options)
  // every node's `requires` must be in this run's context (its layers), or nothing starts
  yield* checkServices(graph)
  const store = yield* ArtifactStore
  const log = yield* RunLog
  const events = yield* RunEvents
  const assembly = yield* InputAssembly
  // nodes learn of a sample run from their Workspace (an export then writes inside it, see services.ts)
  const workspace = options.sample === undefined ? yield* Workspace : { ...(yield* Workspace), sample: options.sample }
  const exportFiles = yield* ExportFiles
  const started = performance.now()
  const all = new Set(graph.nodes.map((n) => n.name))
  const selected = options.only === undefined ? all : upstreamOf(graph, options.only)
  // --from forces its node only: below it, early cutoff decides (a node whose inputs changed re-runs)
  const forced = options.force === true ? all : new Set(options.from === undefined ? [] : [options.from])
  const recipes = computeRecipes(graph, workspace.root, workspace.dir, options.sample)

  const runId = yield* log.start(
    graph.name,
    options.file ?? "",
    graph.nodes.map((n) => n.name)
  )
  // every event carries the run id, its place in the run's stream and the time: stamped here, at the
  // one place events leave the runner, so the order of `seq` is the order of delivery
  let seq = 0
  const emit: Emit = (event) =>
    Effect.suspend(() => events.emit({ ...event, runId, seq: seq++, time: new Date().toISOString() } as RunEvent))
  yield* emit({
    _tag: "RunStarted",
    pipeline: graph.name,
    nodes: graph.nodes.map((n) => ({ name: n.name, kind: n.definition.kind, selected: selected.has(n.name) }))
  })
  // a node holds a permit only while it executes: waiting for its inputs takes none, so independent
  // branches run side by side whatever order the nodes are listed in
  const permits = yield* Semaphore.make(options.concurrency ?? 2)
  const running = new Map<string, { readonly started: number; readonly key: string }>()
  const done = new Map<string, Deferred.Deferred<Outcome>>()
  for (const n of graph.nodes) done.set(n.name, yield* Deferred.make<Outcome>())
  const reports = new Map<string, NodeReport>()
  const keyHolders = new Map<string, { readonly lock: Semaphore.Semaphore; readonly node: string }>()
  /** Keys whose artifact a node of this run wrote. */
  const published = new Set<string>()
  // a cached upstream artifact is hashed before a running node reads it (read-check.ts)
  const checkBeforeRead = makeReadCheck(store, published, options)

  const finish = (node: GraphNode, report: NodeReport, outcome: Outcome, trace?: string) =>
    Effect.gen(function* () {
      reports.set(node.name, report)
      yield* log.node(runId, report, outcome.manifest, trace)
      yield* emit({ _tag: "NodeFinished", report })
      yield* Deferred.succeed(done.get(node.name)!, outcome)
    })

  const skip = (node: GraphNode, why: string) =>
    finish(node, { ...emptyReport(node), status: "skipped", error: why }, { ok: false })

  /**
   * A failure for the report. A tagged error is the user's to act on: its message and its data. Anything
   * else is a bug: its trace goes to the defect log (and the run log), the user gets an id and a path.
   */
  const describeCause = (node: GraphNode, cause: Cause.Cause<NodeError>) =>
    Effect.gen(function* () {
      const failure = Cause.findErrorOption(cause)
      if (Option.isSome(failure)) {
        return { text: errorMessage(failure.value), failure: errorData(failure.value) as FailureData, trace: undefined }
      }
      const defect = yield* recordDefect(
        cause,
        `run ${runId} of pipeline "${graph.name}"${options.file ? ` (${options.file})` : ""}: node "${node.name}" (${node.definition.kind})`
      )
      return {
        text: internalErrorText(
          defect.error,
          `node kind ${node.definition.kind} (or in wb itself)`,
          `the run log (node_runs, run ${runId})`
        ),
        failure: defect.error as FailureData,
        trace: defect.trace
      }
    })

  const visit = (node: GraphNode) =>
    Effect.gen(function* () {
      const parents = [
        ...new Set(
          Object.values(node.inputs)
            .flat()
            .map((r) => r.node)
        )
      ]
      const upstream = new Map<string, Outcome>()
      for (const p of parents) upstream.set(p, yield* Deferred.await(done.get(p)!))
      if (!selected.has(node.name)) return yield* skip(node, `not selected (--only ${options.only})`)
      const broken = parents.filter((p) => !upstream.get(p)!.ok)
      if (broken.length > 0) {
        return yield* skip(
          node,
          `upstream ${broken.map((b) => `"${b}"`).join(", ")} ${reports.get(broken[0]!)?.status === "skipped" ? "did not run" : "failed"}`
        )
      }
      // known only now: it hashes what the upstream nodes just wrote (or had cached)
      const key = nodeKey(node, recipes.get(node.name)!, (p) => upstream.get(p)?.manifest)
      // two nodes can share a key (one kind and params over byte-identical tables): the later one waits
      // for the first and is served its artifact, so they never publish the same artifact at once
      let holder = keyHolders.get(key)
      const twin = holder?.node
      if (holder === undefined) keyHolders.set(key, (holder = { lock: Semaphore.makeUnsafe(1), node: node.name }))
      return yield* Semaphore.withPermit(holder.lock)(serve(node, key, upstream, twin))
    })

  /** Serve a node whose key is known: from its artifact when cached (and not forced), else by running it. */
  const serve = (node: GraphNode, key: string, upstream: ReadonlyMap<string, Outcome>, twin: string | undefined) =>
    Effect.gen(function* () {
      // a damaged artifact (a file whose size or content hash differs from its record) is never read:
      // the run says so, and recomputes it like a missing one
      let damaged: string | undefined
      // forced, but its twin just published this key in this run: that artifact is fresh
      if (!forced.has(node.name) || published.has(key)) {
        const hit = yield* store.lookup(key, { verify: options.verify === true })
        const retry =
          hit._tag === "Found" && options.retryFailed === true && !published.has(key) && retryableOf(hit.manifest) > 0
        if (retry) {
          yield* emit({
            _tag: "NodeNote",
            node: node.name,
            text: `--retry-failed: its cached artifact reports ${retryableOf(hit.manifest)} retryable failures; running again`
          })
        }
        if (hit._tag === "Found" && !retry) {
          if (twin !== undefined && published.has(key)) {
            yield* emit({
              _tag: "NodeNote",
              node: node.name,
              text: `same kind, params and input content as "${twin}": served from its artifact`
            })
          }
          if (node.definition.onCacheHit !== undefined) {
            const checked = yield* Semaphore.withPermit(permits)(Effect.exit(onCacheHit(node, hit.manifest)))
            if (Exit.isFailure(checked)) {
              if (Cause.hasInterruptsOnly(checked.cause)) return yield* Effect.interrupt
              const { text, failure, trace } = yield* describeCause(node, checked.cause)
              return yield* finish(
                node,
                { ...emptyReport(node), status: "failed", key, error: text, failure },
                { ok: false },
                trace
              )
            }
          }
          return yield* finish(node, reportFrom(node, hit.manifest, "cached", 0), { ok: true, manifest: hit.manifest })
        }
        if (hit._tag === "Damaged") {
          damaged = `its cached artifact ${key} is damaged (${hit.problem})`
          yield* emit({ _tag: "NodeNote", node: node.name, text: `${damaged}; not read, recomputing` })
        }
      }
      const exit = yield* Semaphore.withPermit(permits)(
        Effect.gen(function* () {
          yield* emit({ _tag: "NodeStarted", node: node.name, kind: node.definition.kind })
          running.set(node.name, { started: performance.now(), key })
          return yield* Effect.exit(execute(node, key, upstream))
        })
      )
      const seconds = (performance.now() - running.get(node.name)!.started) / 1000
      running.delete(node.name)
      if (Exit.isSuccess(exit)) {
        published.add(key)
        // again at the end, so the node's last line says why it ran
        if (damaged !== undefined) yield* emit({ _tag: "NodeNote", node: node.name, text: `recomputed: ${damaged}` })
        return yield* finish(node, reportFrom(node, exit.value, "ran", seconds), { ok: true, manifest: exit.value })
      }
      if (Cause.hasInterruptsOnly(exit.cause)) return yield* Effect.interrupt
      const { text, failure, trace } = yield* describeCause(node, exit.cause)
      return yield* finish(
        node,
        { ...emptyReport(node), status: "failed", seconds, key, error: text, failure },
        { ok: false },
        trace
      )
    })

  /** A cached node's check of what it keeps outside the workspace (an export's file), on its own connection. */
  const onCacheHit = (node: GraphNode, manifest: Manifest) =>
    Effect.scoped(
      Effect.gen(function* () {
        const sql = yield* (yield* Database).connect
        const tables = Object.fromEntries(
          Object.keys(manifest.tables).map((t) => [t, store.relation(manifest, t)] as const)
        )
        yield* node.definition.onCacheHit!({
          node: node.name,
          kind: node.definition.kind,
          params: node.params,
          key: manifest.key,
          tables
        }).pipe(
          Effect.provideService(Sql, sql),
          Effect.provideService(Progress, makeProgress(node.name, emit)),
          Effect.provideService(Workspace, workspace),
          Effect.provideService(ExportFiles, exportFiles)
        )
      })
    )

  const execute = (node: GraphNode, key: string, upstream: ReadonlyMap<string, Outcome>) =>
    Effect.scoped(
      Effect.gen(function* () {
        const db = yield* Database
        const sql = yield* db.connect
        const inputs: Record<string, InputTable> = {}
        for (const [name, refs] of Object.entries(node.inputs)) {
          for (const r of refs) yield* checkBeforeRead(node, name, r.node, upstream.get(r.node)!.manifest!)
          const parts = refs.map((r) => ({ manifest: upstream.get(r.node)!.manifest!, table: r.table }))
          const assembled = yield* assembly.assemble(sql, parts)
          if (assembled.readAsText.length > 0) {
            yield* emit({
              _tag: "NodeNote",
              node: node.name,
              text: `input ${name}: ${assembled.readAsText.map((c) => `${c.name} (${c.types.join(" / ")})`).join(", ")} read as text: the unioned tables disagree on the type`
            })
          }
          yield* checkRealColumns(node, name, assembled.table.schema.columns)
          inputs[name] = {
            ...assembled.table,
            from: refs.map((r) => ({ node: r.node, table: r.table, key: upstream.get(r.node)!.manifest!.key }))
          }
        }
        const progress = makeProgress(node.name, emit)
        const sample = sampled(node, options.sample)
        const ctx = {
          node: node.name,
          kind: node.definition.kind,
          params: node.params,
          inputs,
          ...(sample === undefined ? {} : { sample })
        }
        const out = yield* node.definition.run(ctx).pipe(
          Effect.provideService(Sql, sql),
          Effect.provideService(Progress, progress),
          Effect.provideService(Workspace, workspace),
          Effect.provideService(ExportFiles, exportFiles),
          Effect.raceFirst(reportEngineProgress(node.name, sql, progress, emit)),
          // the last metrics the throttle held (a run that stopped early) still reach the curves
          Effect.ensuring(progress.flushMetrics)
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
        const rowsIn = out.rowsIn ?? (primary === undefined ? 0 : (inputs[primary]?.rows ?? 0))
        return yield* store.publish(
          sql,
          {
            key,
            node: node.name,
            kind: node.definition.kind,
            version: node.definition.version,
            params: recordedParams(node),
            inputs: inputRecord(node, (p) => upstream.get(p)?.manifest),
            stats: out.stats ?? {},
            rowsIn,
            seconds: 0,
            createdAt: new Date().toISOString()
          },
          tables
        )
      })
    )

  // on Ctrl-C: the nodes that were running are logged as interrupted, and a partial report says
  // what finished, what was cut short and what never started
  const interrupted = Effect.gen(function* () {
    const now = performance.now()
    for (const node of graph.nodes) {
      if (reports.has(node.name)) continue
      const run = running.get(node.name)
      const report: NodeReport =
        run === undefined
          ? { ...emptyReport(node), status: "skipped", error: "the run was interrupted before it started" }
          : {
              ...emptyReport(node),
              status: "interrupted",
              seconds: (now - run.started) / 1000,
              key: run.key,
              error: "interrupted while running"
            }
      reports.set(node.name, report)
      if (run !== undefined) yield* log.node(runId, report, undefined)
      // as in a failed run: every node the stream started ends with a NodeFinished, so a consumer
      // tracking nodes by events never keeps one "running"
      yield* emit({ _tag: "NodeFinished", report })
    }
    yield* log.finish(runId, "interrupted")
    const nodes = graph.nodes.map((n) => reports.get(n.name)!)
    yield* emit({
      _tag: "RunFinished",
      report: { pipeline: graph.name, runId, status: "interrupted", seconds: (now - started) / 1000, nodes }
    })
  })
  yield* Effect.forEach(graph.nodes, visit, { concurrency: "unbounded", discard: true }).pipe(
    Effect.onInterrupt(() => interrupted)
  )
  const nodes = graph.nodes.map((n) => reports.get(n.name)!)
  const status = nodes.some((n) => n.status === "failed") ? ("failed" as const) : ("ok" as const)
  yield* log.finish(runId, status)
  const report: RunReport = {
    pipeline: graph.name,
    runId,
    status,
    seconds: (performance.now() - started) / 1000,
    nodes
  }
  yield* emit({ _tag: "RunFinished", report })
  return report
})
