/**
 * What `wb gc` needs from a workspace: its artifacts with their sizes, the keys of each pipeline's last
 * run from the run log, the artifacts a set of keys was computed from, and deleting artifacts.
 *
 * The run log is opened read-only for as long as gc works: a `wb run` opens it for writing, so while
 * gc holds it no run can start (and gc refuses to start while a run holds it), and no artifact can be
 * published into the directories gc is deleting.
 */
import { DuckDBInstance } from "./duckdb-api.js"
import { Effect } from "effect"
import { existsSync, lstatSync, readdirSync, rmSync } from "node:fs"
import { join } from "node:path"
import { DataError } from "../core/errors.js"
import type { Manifest } from "../core/report.js"
import { readManifest } from "./parquet-store.js"

/** One directory under `<workspace>/artifacts/`. */
export interface ArtifactEntry {
  readonly key: string
  /** Undefined for a directory without a readable manifest (an unfinished or damaged artifact). */
  readonly manifest: Manifest | undefined
  readonly bytes: number
}

/** Bytes of every file under `path`. */
function sizeOf(path: string): number {
  const st = lstatSync(path)
  if (!st.isDirectory()) return st.size
  return readdirSync(path).reduce((sum, name) => sum + sizeOf(join(path, name)), 0)
}

/** Every artifact directory in the workspace, by key. */
export function artifactEntries(dir: string): Array<ArtifactEntry> {
  const root = join(dir, "artifacts")
  if (!existsSync(root)) return []
  return readdirSync(root)
    .filter((key) => lstatSync(join(root, key)).isDirectory())
    .sort()
    .map((key) => ({ key, manifest: readManifest(dir, key), bytes: sizeOf(join(root, key)) }))
}

/** `keys` and every artifact they were computed from, through each manifest's inputs. */
export function withLineage(keys: Iterable<string>, manifestOf: (key: string) => Manifest | undefined): Set<string> {
  const out = new Set<string>()
  const queue = [...keys]
  while (queue.length > 0) {
    const key = queue.pop()!
    if (out.has(key)) continue
    out.add(key)
    for (const refs of Object.values(manifestOf(key)?.inputs ?? {})) for (const r of refs) queue.push(r.key)
  }
  return out
}

/** A pipeline's last run in the run log: when, from which file, and the artifact key of each node. */
export interface LastRun {
  readonly pipeline: string
  readonly file: string
  readonly started: string
  readonly keys: ReadonlyArray<string>
}

/**
 * Open the workspace's run log read-only for the length of the scope (see the module doc) and read
 * each pipeline's last run. A workspace without a run log has no runs.
 */
export const holdRunLog = (dir: string) =>
  Effect.map(
    Effect.acquireRelease(
      Effect.tryPromise({
        try: async () => {
          const file = join(dir, "meta.duckdb")
          if (!existsSync(file)) return { instance: undefined, runs: [] as Array<LastRun> }
          const instance = await DuckDBInstance.create(file, { access_mode: "READ_ONLY", threads: "1" })
          try {
            const con = await instance.connect()
            const reader = await con.runAndReadAll(`
              WITH last AS (SELECT pipeline, arg_max(run_id, started) AS run_id FROM runs GROUP BY pipeline)
              SELECT r.pipeline, any_value(r.file) AS file, strftime(any_value(r.started), '%Y-%m-%d %H:%M') AS started,
                list(n.artifact_key) FILTER (WHERE n.artifact_key IS NOT NULL) AS keys
              FROM last JOIN runs r USING (run_id) LEFT JOIN node_runs n USING (run_id)
              GROUP BY r.pipeline ORDER BY r.pipeline`)
            con.closeSync()
            const runs = reader.getRowObjectsJS().map((row) => ({
              pipeline: String(row["pipeline"]),
              file: String(row["file"] ?? ""),
              started: String(row["started"]),
              keys: ((row["keys"] ?? []) as Array<unknown>).map(String)
            }))
            return { instance, runs }
          } catch (e) {
            instance.closeSync()
            throw e
          }
        },
        catch: (e) => runLogBusy(dir, e)
      }),
      ({ instance }) => Effect.sync(() => instance?.closeSync())
    ),
    ({ runs }) => runs
  )

function runLogBusy(dir: string, e: unknown): DataError {
  const message = e instanceof Error ? e.message : String(e)
  const lock = /Conflicting lock is held in .*?\(PID (\d+)\)/.exec(message)
  return new DataError({
    where: `wb gc: workspace ${dir}`,
    found:
      lock === null
        ? `its run log ${join(dir, "meta.duckdb")} cannot be read: ${message.split("\n")[0]}`
        : `another process (PID ${lock[1]}), most likely a \`wb run\`, holds its run log ${join(dir, "meta.duckdb")}`,
    expected:
      "a workspace no run is using: gc must know each pipeline's last run, and must not delete under a running one",
    fix:
      lock === null
        ? "check the file's permissions; move it aside if it is damaged"
        : "wait for the run to finish, then run wb gc again"
  })
}

/** Delete the artifacts' directories; the bytes freed. */
export function removeArtifacts(dir: string, entries: ReadonlyArray<ArtifactEntry>): number {
  let freed = 0
  for (const e of entries) {
    rmSync(join(dir, "artifacts", e.key), { recursive: true, force: true })
    freed += e.bytes
  }
  return freed
}
