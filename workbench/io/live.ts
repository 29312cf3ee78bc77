/** The real services of a run, wired: DuckDB, the Parquet artifact store, the run log, events, the LLM client. */
import { Effect, Layer } from "effect"
import { join } from "node:path"
import type { RunEvent } from "../core/events.js"
import { RunEvents, Workspace } from "../core/services.js"
import { DefectLogLive } from "./defect-log.js"
import { DuckDbLive } from "./duckdb.js"
import { eventLogWriter } from "./event-log.js"
import { ExportFilesLive } from "./export-files.js"
import { InputAssemblyLive } from "./input-assembly.js"
import { LlmLive } from "./llm/live.js"
import { MetaDbLive } from "./meta-db.js"
import { ParquetStoreLive } from "./parquet-store.js"
import { SchemaProbeLive } from "./schema-probe.js"
import { TrainerLive } from "./train/live.js"

export interface WorkbenchOptions {
  /** Project root: relative input paths resolve here. */
  readonly root: string
  /** The workspace directory (default `<root>/.wb`). */
  readonly dir: string
  readonly onEvent?: (event: RunEvent) => void
  readonly threads?: number
  readonly memoryLimit?: string
  /** Append the run's events to `<dir>/events/` for `wb serve` (default true). */
  readonly eventLog?: boolean
}

export const workbenchLayer = (options: WorkbenchOptions) =>
  Layer.mergeAll(
    DuckDbLive({
      tempDirectory: join(options.dir, "tmp"),
      ...(options.threads === undefined ? {} : { threads: options.threads }),
      ...(options.memoryLimit === undefined ? {} : { memoryLimit: options.memoryLimit })
    }),
    InputAssemblyLive.pipe(Layer.provideMerge(ParquetStoreLive(options.dir))),
    DefectLogLive(options.dir),
    MetaDbLive(options.dir),
    // for the infer phase runGraph starts with (SQL transforms): its own small DuckDB, opened only if asked
    SchemaProbeLive,
    ExportFilesLive,
    // the LLM client (judge nodes): its response cache lives under the workspace
    LlmLive(options.dir),
    // reward-model training and scoring (train nodes); tfjs loads only when a tfjs backend is asked for
    TrainerLive,
    // every event also goes to the workspace's event log, where `wb serve` follows runs started elsewhere
    Layer.sync(RunEvents, () => {
      const log = options.eventLog === false ? undefined : eventLogWriter(options.dir)
      return RunEvents.of({
        emit: (e) =>
          Effect.sync(() => {
            options.onEvent?.(e)
            log?.(e)
          })
      })
    }),
    Layer.succeed(Workspace, Workspace.of({ root: options.root, dir: options.dir }))
  )
