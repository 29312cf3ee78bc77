/** Run a pipeline from your own code: `await runPipeline(def, { workspace: ".wb" })`. */
import { Effect } from "effect"
import { join, resolve } from "node:path"
import type { RunEvent } from "./core/events.js"
import { buildGraph } from "./core/graph.js"
import type { NodeRegistry } from "./core/node.js"
import type { PipelineDefinition } from "./core/pipeline.js"
import type { NodeReport, RunReport } from "./core/report.js"
import { runGraph, type RunOptions } from "./core/runner.js"
import { workbenchLayer } from "./io/live.js"
import { artifactDir, readManifest } from "./io/parquet-store.js"

export interface RunPipelineOptions extends Omit<RunOptions, "file"> {
  /** Workspace directory for artifacts and the run log (default `<root>/.wb`). */
  readonly workspace?: string
  /** Project root that relative input paths resolve against (default: the current directory). */
  readonly root?: string
  readonly onEvent?: (event: RunEvent) => void
  /** Node kinds for pipelines that name kinds by string (YAML); TS pipelines carry their own. */
  readonly registry?: NodeRegistry
  readonly threads?: number
  readonly memoryLimit?: string
}

export interface NodeResult {
  readonly report: NodeReport
  /** Parquet file of each output table, when the node ran or was cached. */
  readonly tables: Readonly<Record<string, string>>
}

export interface PipelineResult {
  readonly report: RunReport
  readonly nodes: Readonly<Record<string, NodeResult>>
}

/** The Effect form: fails with PipelineInvalidError before anything runs, or returns the run's report. */
export const runPipelineEffect = (def: PipelineDefinition, options: RunPipelineOptions & { readonly file?: string } = {}) => {
  const root = resolve(options.root ?? process.cwd())
  const dir = resolve(root, options.workspace ?? ".wb")
  return Effect.gen(function*() {
    const graph = yield* buildGraph(def, options.registry)
    const report = yield* runGraph(graph, options)
    const nodes: Record<string, NodeResult> = {}
    for (const r of report.nodes) {
      const manifest = r.key === undefined ? undefined : readManifest(dir, r.key)
      nodes[r.name] = {
        report: r,
        tables: manifest === undefined
          ? {}
          : Object.fromEntries(Object.entries(manifest.tables).map(([t, m]) => [t, join(artifactDir(dir, r.key!), m.file)]))
      }
    }
    return { report, nodes } satisfies PipelineResult
  }).pipe(Effect.provide(workbenchLayer({
    root, dir,
    ...(options.onEvent === undefined ? {} : { onEvent: options.onEvent }),
    ...(options.threads === undefined ? {} : { threads: options.threads }),
    ...(options.memoryLimit === undefined ? {} : { memoryLimit: options.memoryLimit })
  })))
}

/** Run a pipeline; rejects with the tagged error (e.g. PipelineInvalidError) if it cannot start. */
export const runPipeline = (def: PipelineDefinition, options: RunPipelineOptions = {}): Promise<PipelineResult> =>
  Effect.runPromise(runPipelineEffect(def, options))
