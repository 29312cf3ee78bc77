/**
 * The run log: a DuckDB file `<dir>/meta.duckdb` with runs, node executions (status, rows, seconds,
 * cache hit), artifacts and lineage. One writer per file: only the process running the pipeline
 * opens it, for the length of the run.
 */
import { DuckDBInstance, type DuckDBConnection } from "./duckdb-api.js"
import { Effect, Layer } from "effect"
import { existsSync, mkdirSync } from "node:fs"
import { join } from "node:path"
import { randomBytes } from "node:crypto"
import { DataError } from "../core/errors.js"
import { RunLog } from "../core/services.js"

const SCHEMA = `
CREATE TABLE IF NOT EXISTS runs (run_id VARCHAR PRIMARY KEY, pipeline VARCHAR, file VARCHAR, nodes VARCHAR[],
  started TIMESTAMP, finished TIMESTAMP, status VARCHAR);
CREATE TABLE IF NOT EXISTS node_runs (run_id VARCHAR, node VARCHAR, kind VARCHAR, artifact_key VARCHAR, status VARCHAR,
  cache_hit BOOLEAN, rows_in BIGINT, rows_out BIGINT, rejected BIGINT, removed BIGINT, seconds DOUBLE, error VARCHAR,
  stats JSON, finished TIMESTAMP, trace VARCHAR);
ALTER TABLE node_runs ADD COLUMN IF NOT EXISTS trace VARCHAR;
CREATE TABLE IF NOT EXISTS artifacts (artifact_key VARCHAR, table_name VARCHAR, node VARCHAR, kind VARCHAR,
  file VARCHAR, rows BIGINT, created TIMESTAMP, PRIMARY KEY (artifact_key, table_name));
CREATE TABLE IF NOT EXISTS lineage (artifact_key VARCHAR, input VARCHAR, input_key VARCHAR, input_table VARCHAR,
  PRIMARY KEY (artifact_key, input, input_key, input_table));`

/** Why the run log could not be opened, said so a user can act: usually another `wb run` holds it. */
function runLogUnavailable(dir: string, e: unknown): DataError {
  const message = e instanceof Error ? e.message : String(e)
  const lock = /Conflicting lock is held in .*?\(PID (\d+)\)/.exec(message)
  return lock === null
    ? new DataError({
        where: `workspace ${dir}`,
        found: `its run log ${join(dir, "meta.duckdb")} cannot be opened: ${message.split("\n")[0]}`,
        expected: "a readable, writable DuckDB file (or none yet)",
        fix: "check the directory's permissions and free space; move the file aside if it is damaged"
      })
    : new DataError({
        where: `workspace ${dir}`,
        found: `another process (PID ${lock[1]}) holds its run log ${join(dir, "meta.duckdb")}, most likely another \`wb run\``,
        expected: "one `wb run` at a time per workspace",
        fix: "wait for the other run to finish (or stop it), or pass --workspace <another directory>"
      })
}

export const MetaDbLive = (dir: string) =>
  Layer.effect(
    RunLog,
    Effect.gen(function* () {
      const { con } = yield* Effect.acquireRelease(
        Effect.tryPromise({
          try: async () => {
            mkdirSync(dir, { recursive: true })
            const instance = await DuckDBInstance.create(join(dir, "meta.duckdb"), { threads: "1" })
            const con = await instance.connect()
            await con.run(SCHEMA)
            // one process holds this file at a time: a run still "running" here died without a word (SIGKILL,
            // power loss); its finished nodes were logged as they finished
            await con.run(`UPDATE runs SET status = 'abandoned' WHERE status = 'running'`)
            return { instance, con }
          },
          catch: (e) => runLogUnavailable(dir, e)
        }),
        ({ instance, con }) =>
          Effect.sync(() => {
            con.closeSync()
            instance.closeSync() // checkpoints the WAL and releases the file lock
          })
      )
      // the log must never fail a run: a failed write is reported on stderr and the run goes on
      const write = (sql: string, params: Record<string, unknown>) =>
        Effect.promise(() =>
          (con as DuckDBConnection).run(sql, params as never).then(
            () => undefined,
            (e: unknown) => {
              process.stderr.write(`wb: could not write the run log: ${String(e)}\n`)
            }
          )
        )
      return RunLog.of({
        start: (pipeline, file, nodes) => {
          const runId = `${new Date().toISOString().replace(/[-:]/g, "").replace(/\..*/, "")}-${randomBytes(3).toString("hex")}`
          return write(`INSERT INTO runs VALUES ($id, $pipeline, $file, $nodes::VARCHAR[], now(), NULL, 'running')`, {
            id: runId,
            pipeline,
            file,
            nodes: JSON.stringify(nodes)
          }).pipe(Effect.as(runId))
        },
        // trace: the full trace of an internal error (users see its id; .wb/logs/<id>.log has it too)
        node: (runId, r, manifest, trace) =>
          Effect.gen(function* () {
            yield* write(
              `INSERT INTO node_runs (run_id, node, kind, artifact_key, status, cache_hit, rows_in, rows_out, rejected, removed,
               seconds, error, stats, finished, trace)
             VALUES ($run, $node, $kind, $key, $status, $hit, $in, $out, $rej, $rem, $sec, $err, $stats, now(), $trace)`,
              {
                run: runId,
                node: r.name,
                kind: r.kind,
                key: r.key ?? null,
                status: r.status,
                hit: r.status === "cached",
                in: r.rowsIn,
                out: r.rowsOut,
                rej: r.rejected,
                rem: r.removed,
                sec: r.seconds,
                err: r.error ?? null,
                stats: JSON.stringify(r.stats ?? {}),
                trace: trace ?? null
              }
            )
            if (manifest === undefined || r.status !== "ran") return
            for (const [table, t] of Object.entries(manifest.tables)) {
              yield* write(
                `INSERT OR REPLACE INTO artifacts VALUES ($key, $table, $node, $kind, $file, $rows, now())`,
                {
                  key: manifest.key,
                  table,
                  node: manifest.node,
                  kind: manifest.kind,
                  file: t.file,
                  rows: t.rows
                }
              )
            }
            for (const [input, refs] of Object.entries(manifest.inputs)) {
              for (const ref of refs) {
                yield* write(`INSERT OR REPLACE INTO lineage VALUES ($key, $input, $ikey, $itable)`, {
                  key: manifest.key,
                  input,
                  ikey: ref.key,
                  itable: ref.table
                })
              }
            }
          }),
        finish: (runId, status) =>
          write(`UPDATE runs SET finished = now(), status = $status WHERE run_id = $id`, { id: runId, status })
      })
    })
  )

/**
 * The last logged execution of artifact `key` in the workspace's run log, read-only, or undefined when
 * there is none or the log cannot be read now (another `wb run` holds it): callers only add detail.
 */
export const lastNodeRun = (dir: string, key: string) =>
  Effect.promise(async () => {
    const file = join(dir, "meta.duckdb")
    if (!existsSync(file)) return undefined
    try {
      const instance = await DuckDBInstance.create(file, { access_mode: "READ_ONLY", threads: "1" })
      try {
        const con = await instance.connect()
        const reader = await con.runAndReadAll(
          `SELECT status, error, strftime(finished, '%Y-%m-%d %H:%M') AS finished FROM node_runs
           WHERE artifact_key = $key ORDER BY finished DESC LIMIT 1`,
          { key }
        )
        con.closeSync()
        const row = reader.getRowObjectsJS()[0]
        return row === undefined
          ? undefined
          : {
              status: String(row["status"]),
              error: row["error"] === null ? undefined : String(row["error"]),
              finished: String(row["finished"])
            }
      } finally {
        instance.closeSync()
      }
    } catch {
      return undefined
    }
  })
