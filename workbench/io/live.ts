/** The real services of a run, wired: DuckDB, the Parquet artifact store, the run log, events. */
import { Effect, Layer } from "effect"
import { join } from "node:path"
import type { RunEvent } from "../core/events.js"
import { RunEvents, Workspace } from "../core/services.js"
import { DuckDbLive } from "./duckdb.js"
import { MetaDbLive } from "./meta-db.js"
import { ParquetStoreLive } from "./parquet-store.js"

export interface WorkbenchOptions {
  /** Project root: relative input paths resolve here. */
  readonly root: string
  /** The workspace directory (default `<root>/.wb`). */
  readonly dir: string
  readonly onEvent?: (event: RunEvent) => void
  readonly threads?: number
  readonly memoryLimit?: string
}

export const workbenchLayer = (options: WorkbenchOptions) =>
  Layer.mergeAll(
    DuckDbLive({
      tempDirectory: join(options.dir, "tmp"),
      ...(options.threads === undefined ? {} : { threads: options.threads }),
      ...(options.memoryLimit === undefined ? {} : { memoryLimit: options.memoryLimit })
    }),
    ParquetStoreLive(options.dir),
    MetaDbLive(options.dir),
    Layer.succeed(RunEvents, RunEvents.of({ emit: (e) => Effect.sync(() => options.onEvent?.(e)) })),
    Layer.succeed(Workspace, Workspace.of({ root: options.root, dir: options.dir }))
  )
