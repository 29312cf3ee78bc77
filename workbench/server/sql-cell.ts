/**
 * SQL cells (`POST /api/sql`): one read-only query over a pipeline's artifacts, tables named as in
 * `wb sql` ("clean", "clean.removed"), run in a child process (sql-child.ts) under a time limit. The
 * sandbox interrupts the query at the limit; the child is killed 2 s later if it has not answered, so
 * neither a runaway query nor a stuck native call can take the server down.
 */
import { spawn } from "node:child_process"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { Bool, Float64, Table, tableToIPC, Utf8, type Vector, vectorFromArray } from "apache-arrow"
import { Effect } from "effect"
import { mainTable, tableFile } from "../io/catalog/artifacts.js"
import type { PipelineContext } from "../io/catalog/pipeline-context.js"
import { packageRoot } from "../io/package-root.js"
import type { SandboxTable } from "../io/sandbox-sql.js"
import { HttpProblem, nodeStates } from "./project.js"
import type { Reader } from "./reader.js"
import { explainProblem, type KnownTable } from "./sql-errors.js"

export const SQL_TIMEOUT_S = 30
export const SQL_MAX_ROWS = 10_000
const MAX_CHILDREN = 2
let children = 0

/** The tables `wb sql` exposes for this pipeline: each cached node, by name and as "node.table". */
export function sqlTables(ctx: PipelineContext): Array<SandboxTable> {
  const out: Array<SandboxTable> = []
  for (const s of nodeStates(ctx)) {
    if (s.state._tag !== "Cached") continue
    const m = s.state.manifest
    const main = mainTable(m)
    if (main !== undefined) out.push({ name: s.node.name, file: tableFile(ctx.dir, m, main) })
    for (const t of Object.keys(m.tables)) out.push({ name: `${s.node.name}.${t}`, file: tableFile(ctx.dir, m, t) })
  }
  return out
}

/** The tables of `sqlTables` with their columns (from the manifests), for explaining a query's errors. */
export function knownTables(ctx: PipelineContext): Array<KnownTable> {
  const out: Array<KnownTable> = []
  for (const s of nodeStates(ctx)) {
    if (s.state._tag !== "Cached") continue
    const m = s.state.manifest
    const columns = (t: string) => (m.tables[t]?.columns ?? []).map((c) => c.name)
    const main = mainTable(m)
    if (main !== undefined) out.push({ name: s.node.name, columns: columns(main) })
    for (const t of Object.keys(m.tables)) out.push({ name: `${s.node.name}.${t}`, columns: columns(t) })
  }
  return out
}

/** How to start the child: the compiled .js beside this module, or the .ts source through tsx. */
function childCommand(): Array<string> {
  const self = fileURLToPath(import.meta.url)
  // a source checkout (tsx, vitest): tsx is a devDependency there, resolved from the package root (cwd)
  if (self.endsWith(".ts")) return ["--import", "tsx", self.replace(/sql-cell\.ts$/, "sql-child.ts")]
  return [self.replace(/sql-cell\.js$/, "sql-child.js")]
}

interface ChildResult {
  readonly ok: boolean
  readonly columns?: ReadonlyArray<{ name: string; type: string }>
  readonly rows?: ReadonlyArray<ReadonlyArray<unknown>>
  readonly truncated?: boolean
  readonly error?: Record<string, unknown>
}

const runChild = (job: object, limitS: number) =>
  new Promise<ChildResult | "killed">((resolve, reject) => {
    const child = spawn(process.execPath, childCommand(), { cwd: packageRoot(), stdio: ["pipe", "pipe", "pipe"] })
    let out = ""
    let err = ""
    let killed = false
    const timer = setTimeout(
      () => {
        killed = true
        child.kill("SIGKILL")
      },
      (limitS + 2) * 1000
    )
    child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d))
    child.stderr.setEncoding("utf8").on("data", (d: string) => (err += d))
    child.on("error", reject)
    child.on("close", () => {
      clearTimeout(timer)
      if (killed) return resolve("killed")
      try {
        resolve(JSON.parse(out) as ChildResult)
      } catch {
        reject(new Error(`the SQL process ended without an answer: ${err.split("\n")[0] ?? ""}`))
      }
    })
    child.stdin.end(JSON.stringify(job))
  })

const NUMERIC = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|FLOAT|DOUBLE|DECIMAL)/

/** Rows of plain JSON values -> Arrow: numbers Float64, booleans Bool, the rest text (JSON for nested). */
export function rowsToIpc(
  columns: ReadonlyArray<{ name: string; type: string }>,
  rows: ReadonlyArray<ReadonlyArray<unknown>>
) {
  const vectors: Record<string, Vector> = {}
  columns.forEach((c, i) => {
    const values = rows.map((r) => r[i] ?? null)
    vectors[c.name] = NUMERIC.test(c.type)
      ? vectorFromArray(
          values.map((v) => (v === null ? null : Number(v))),
          new Float64()
        )
      : c.type === "BOOLEAN"
        ? vectorFromArray(values as Array<boolean | null>, new Bool())
        : vectorFromArray(
            values.map((v) => (v === null ? null : typeof v === "string" ? v : JSON.stringify(v))),
            new Utf8()
          )
  })
  return tableToIPC(new Table(vectors), "stream")
}

export const runSqlCell = (
  ctx: PipelineContext,
  sql: string,
  options: { maxRows: number; timeoutSeconds: number; reader: Reader }
) =>
  Effect.gen(function* () {
    if (children >= MAX_CHILDREN) {
      return yield* Effect.fail(
        new HttpProblem(429, {
          error: "busy",
          found: `${MAX_CHILDREN} SQL cells are running`,
          expected: `at most ${MAX_CHILDREN} at once`,
          fix: "wait for one to finish"
        })
      )
    }
    children++
    const started = performance.now()
    const job = {
      directory: join(ctx.dir, "artifacts"),
      tables: sqlTables(ctx),
      sql,
      maxRows: options.maxRows,
      timeoutSeconds: options.timeoutSeconds
    }
    const res = yield* Effect.tryPromise({
      try: () => runChild(job, options.timeoutSeconds),
      catch: (e) =>
        new HttpProblem(500, { error: "sql process failed", found: e instanceof Error ? e.message : String(e) })
    }).pipe(Effect.ensuring(Effect.sync(() => children--)))
    if (res === "killed" || (res.ok === false && /time limit/.test(String(res.error?.["found"] ?? "")))) {
      return yield* Effect.fail(
        new HttpProblem(408, {
          error: "timeout",
          where: "SQL cell",
          found: `the query ran past its time limit of ${options.timeoutSeconds} s and was stopped`,
          expected: `a query that finishes within ${options.timeoutSeconds} s`,
          fix: "make it cheaper (WHERE, aggregate, LIMIT) or pass a larger timeout"
        })
      )
    }
    if (!res.ok) {
      const problem = new HttpProblem(400, { ...res.error, error: "refused" })
      return yield* Effect.fail(
        yield* explainProblem(options.reader, problem, { sql, label: "SQL cell", tables: knownTables(ctx) })
      )
    }
    const bytes = rowsToIpc(res.columns ?? [], res.rows ?? [])
    return { bytes, rows: res.rows?.length ?? 0, truncated: res.truncated === true, ms: performance.now() - started }
  })
