/**
 * The child process of a SQL cell (sql-cell.ts starts it): reads one job as JSON on stdin, runs it in
 * the `wb sql` sandbox (read-only, allowlisted, artifacts only) and writes one JSON line on stdout:
 * `{ ok: true, columns, rows, truncated }` or `{ ok: false, error }`. A process of its own, so a query
 * that runs away (memory, a native hang) is killed without touching the server.
 */
import { Effect } from "effect"
import { openSandbox, type SandboxTable } from "../io/sandbox-sql.js"

interface Job {
  readonly directory: string
  readonly tables: ReadonlyArray<SandboxTable>
  readonly sql: string
  readonly maxRows: number
  readonly timeoutSeconds: number
}

const read = async () => {
  let text = ""
  for await (const chunk of process.stdin) text += String(chunk)
  return JSON.parse(text) as Job
}

const job = await read()
const program = Effect.scoped(
  Effect.gen(function* () {
    const sandbox = yield* openSandbox({ directory: job.directory, tables: job.tables })
    return yield* sandbox.query(job.sql, {
      label: "SQL cell",
      maxRows: job.maxRows,
      timeoutSeconds: job.timeoutSeconds,
      timeoutFlag: "timeout"
    })
  })
)
const exit = await Effect.runPromiseExit(program)
const out =
  exit._tag === "Success"
    ? { ok: true, ...exit.value }
    : (() => {
        const e = (exit.cause as unknown as { reasons?: Array<{ error?: unknown }> }).reasons?.[0]?.error as
          | Record<string, unknown>
          | undefined
        const pick = (k: string) => (typeof e?.[k] === "string" ? { [k]: e[k] } : {})
        return {
          ok: false,
          error: {
            error: typeof e?.["_tag"] === "string" ? e["_tag"] : "error",
            message: typeof e?.["message"] === "string" ? e["message"] : String(exit.cause),
            ...pick("where"),
            ...pick("found"),
            ...pick("expected"),
            ...pick("fix"),
            ...(typeof e?.["reason"] === "string" ? { found: (e["reason"] as string).split("\n")[0] } : {})
          }
        }
      })()
process.stdout.write(`${JSON.stringify(out)}\n`, () => process.exit(0))
