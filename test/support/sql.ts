/** Run node code against a real in-memory DuckDB in tests. */
import { Effect, Layer } from "effect"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { ExportFiles } from "../../workbench/core/export-files.js"
import type { InputTable } from "../../workbench/core/node.js"
import { Database, Progress, Sql, type SqlShape, Workspace } from "../../workbench/core/services.js"
import { DuckDbLive } from "../../workbench/io/duckdb.js"
import { exportFiles } from "../../workbench/io/export-files.js"

const quietProgress = Progress.of({ rows: () => Effect.void, note: () => Effect.void, metrics: () => Effect.void })

/** Provide the core services: Sql (a fresh in-memory DuckDB), a silent Progress, a Workspace rooted at `root`, the real ExportFiles. */
export function runWithSql<A, E>(
  effect: Effect.Effect<A, E, Sql | Progress | Workspace | ExportFiles>,
  root: string = process.cwd()
): Promise<A> {
  const dir = mkdtempSync(join(tmpdir(), "wb-test-"))
  const program = Effect.scoped(
    Effect.gen(function* () {
      const db = yield* Database
      const sql = yield* db.connect
      return yield* effect.pipe(
        Effect.provideService(Sql, sql),
        Effect.provideService(Progress, quietProgress),
        Effect.provideService(Workspace, { root, dir }),
        Effect.provideService(ExportFiles, exportFiles)
      )
    })
  )
  return Effect.runPromise(program.pipe(Effect.provide(DuckDbLive({ tempDirectory: join(dir, "tmp"), threads: 2 }))))
}

export const layerForTests = (dir: string) =>
  Layer.mergeAll(DuckDbLive({ tempDirectory: join(dir, "tmp"), threads: 2 }))

/** An InputTable over a relation of the test's own connection, as the runner would hand it to a node. */
export const inputTable = (sql: SqlShape, relation: string) =>
  Effect.gen(function* () {
    const table: InputTable = {
      relation,
      // small test tables are read in insertion order; the runner uses file positions instead
      numbered: `(SELECT *, (row_number() OVER () - 1)::BIGINT AS _wb_row FROM ${relation})`,
      schema: yield* sql.describe(relation),
      rows: yield* sql.count(relation)
    }
    return table
  })

/** The rows of a Parquet file (an artifact's table), in file order. */
export const readParquet = (file: string): Promise<ReadonlyArray<Record<string, unknown>>> =>
  runWithSql(
    Effect.gen(function* () {
      return yield* (yield* Sql).rows<Record<string, unknown>>(
        `SELECT * FROM read_parquet('${file.replaceAll("'", "''")}')`
      )
    })
  )
