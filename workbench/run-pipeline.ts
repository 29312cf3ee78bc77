/**
 * Run a pipeline from your own code: `await runPipeline(def, { workspace: ".wb" })`. Nodes that need
 * services beyond the core ones get them from `{ layer }` (and the pipeline's own layer).
 */
import { Effect, Layer } from "effect"
import { join, resolve } from "node:path"
import type { RunEvent } from "./core/events.js"
import { labelLayer, mergeLayers } from "./core/config.js"
import type { DataError } from "./core/errors.js"
import { buildGraph } from "./core/graph.js"
import type { NodeRegistry } from "./core/node.js"
import type { PipelineDefinition } from "./core/pipeline.js"
import type { NodeReport, RunReport } from "./core/report.js"
import { runGraph, type RunOptions } from "./core/runner.js"
import { artifactDir, readManifest } from "./io/parquet-store.js"
import { type ArtifactTable, resultTable, type ResultTable } from "./io/arrow-result.js"

// DuckDB loads when a pipeline runs, not when a file imports "preference-workbench": `wb validate`,
// `ls` and `nodes` load pipeline files and never need it
const liveModule = Effect.promise(() => import("./io/live.js"))

export interface RunPipelineOptions<E = never> extends Omit<RunOptions, "file"> {
  /** Workspace directory for artifacts and the run log (default `<root>/.wb`). */
  readonly workspace?: string
  /**
   * Project root that relative input paths in the pipeline resolve against, and that file fingerprints
   * are taken relative to (default: the current directory). `wb run` uses the pipeline file's project
   * root instead (the nearest folder holding package.json or .wb/, from the file's folder up); a program
   * has no pipeline file, so pass the root when it may be started from elsewhere, e.g.
   * `root: fileURLToPath(new URL("..", import.meta.url))`.
   */
  readonly root?: string
  readonly onEvent?: (event: RunEvent) => void
  /** Node kinds for pipelines that name kinds by string (YAML); TS pipelines carry their own. */
  readonly registry?: NodeRegistry
  readonly threads?: number
  readonly memoryLimit?: string
  /**
   * Services the nodes need beyond the core ones (Sql, Progress, Workspace, ExportFiles) (an LLM client, a trainer), added to
   * the pipeline's own layer. A node whose `requires` no layer provides stops the run before any node runs.
   */
  readonly layer?: Layer.Layer<never, E, never>
}

export interface NodeResult {
  readonly report: NodeReport
  /** Parquet file of each output table, when the node ran or was cached. */
  readonly tables: Readonly<Record<string, string>>
}

export interface PipelineResult {
  readonly report: RunReport
  readonly nodes: Readonly<Record<string, NodeResult>>
  /**
   * One output table, readable as Arrow: `"clean"` (the node's main table) or `"clean.removed"`.
   * `await result.table("clean").toArrow()` gives an apache-arrow Table;
   * `for await (const batch of result.table("clean").toArrowBatches())` streams RecordBatches.
   */
  readonly table: (ref: string) => ResultTable
}

/** The Effect form: fails with PipelineInvalidError before anything runs, or returns the run's report. */
export const runPipelineEffect = <E = never>(
  def: PipelineDefinition,
  options: RunPipelineOptions<E> & { readonly file?: string } = {}
) => {
  const root = resolve(options.root ?? process.cwd())
  const dir = resolve(root, options.workspace ?? ".wb")
  return Effect.gen(function* () {
    // under the run's layers: the graph is checked against the services they actually provide
    const graph = yield* buildGraph(def, options.registry)
    const report = yield* runGraph(graph, options)
    const nodes: Record<string, NodeResult> = {}
    const artifacts = new Map<string, Record<string, ArtifactTable>>()
    for (const r of report.nodes) {
      const manifest = r.key === undefined ? undefined : readManifest(dir, r.key)
      if (manifest !== undefined && (r.status === "ran" || r.status === "cached")) {
        artifacts.set(
          r.name,
          Object.fromEntries(
            Object.entries(manifest.tables).map(([t, m]) => [
              t,
              { file: join(artifactDir(dir, r.key!), m.file), rows: m.rows, role: m.role }
            ])
          )
        )
      }
      nodes[r.name] = {
        report: r,
        tables:
          manifest === undefined
            ? {}
            : Object.fromEntries(
                Object.entries(manifest.tables).map(([t, m]) => [t, join(artifactDir(dir, r.key!), m.file)])
              )
      }
    }
    const table = (ref: string) =>
      resultTable({ pipeline: report.pipeline, reports: report.nodes, tables: artifacts }, ref)
    return { report, nodes, table } satisfies PipelineResult
  }).pipe(
    Effect.provide(
      mergeLayers<E | DataError>([
        def.layer === undefined ? undefined : labelLayer(def.layer, `the layer of pipeline "${def.name}"`),
        options.layer
      ])
    ),
    Effect.provide(
      Layer.unwrap(
        liveModule.pipe(
          Effect.map(({ workbenchLayer }) =>
            workbenchLayer({
              root,
              dir,
              ...(options.onEvent === undefined ? {} : { onEvent: options.onEvent }),
              ...(options.threads === undefined ? {} : { threads: options.threads }),
              ...(options.memoryLimit === undefined ? {} : { memoryLimit: options.memoryLimit })
            })
          )
        )
      )
    )
  )
}

/** Run a pipeline; rejects with the tagged error (e.g. PipelineInvalidError) if it cannot start. */
export const runPipeline = <E = never>(
  def: PipelineDefinition,
  options: RunPipelineOptions<E> = {}
): Promise<PipelineResult> => Effect.runPromise(runPipelineEffect(def, options))
