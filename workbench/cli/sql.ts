/**
 * `wb sql <file> "<query>"`: one read-only SELECT (or PIVOT) over the pipeline's artifacts. Each node
 * that has run is a table named after it (its main table) and `"node.table"` for each of its tables.
 * Rows go out as a table (fit to the terminal; 100 rows on a terminal unless --limit, every row when
 * piped), vertically, or as JSON, JSON Lines or CSV (every row unless --limit, streamed).
 */
import { Console, Effect } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { join } from "node:path"
import { didYouMean } from "../core/did-you-mean.js"
import { DataError, type SqlError } from "../core/errors.js"
import { openSandbox, type SandboxTable } from "../io/sandbox-sql.js"
import { cacheStates, mainTable, tableFile } from "../io/catalog/artifacts.js"
import { openPipeline } from "../io/catalog/pipeline-context.js"
import { setFlag, shellArg, workspaceFlag } from "./args.js"
import { checkSample, sampleFlag, sampleWorkspace } from "./sample.js"
import { reportErrors } from "./exit.js"
import { count } from "./format.js"
import { formatFlag, rowFormat, rowLimit, verticalFlag } from "./rows-flags.js"
import { outputWidth, rowsFooter, rowsTable, rowsVertical, rowsWriter } from "./render-rows.js"

/** Seconds a query may run (`--timeout`). */
const DEFAULT_TIMEOUT = 60
/** Rows a table on a terminal shows unless --limit says otherwise. */
const TERMINAL_ROWS = 100

export const sqlCommand = Command.make(
  "sql",
  {
    file: Argument.String("file").pipe(Argument.withDescription("Pipeline file (.ts or .yaml)")),
    query: Argument.String("query").pipe(
      Argument.withDescription('One SELECT (or PIVOT); tables are "node" and "node.table"')
    ),
    format: formatFlag,
    json: Flag.Boolean("json").pipe(Flag.withDescription("Same as --format json"), Flag.withDefault(false)),
    limit: Flag.Int("limit").pipe(
      Flag.withDescription("At most this many rows (default: 100 in a table on a terminal; every row otherwise)"),
      Flag.optional
    ),
    timeout: Flag.Finite("timeout").pipe(
      Flag.withDescription("Stop the query after this many seconds"),
      Flag.withDefault(DEFAULT_TIMEOUT)
    ),
    vertical: verticalFlag,
    set: setFlag,
    sample: sampleFlag("Read the artifacts of `wb run --sample N` (in <workspace>/sample-N/)"),
    workspace: workspaceFlag
  },
  (args) =>
    Effect.gen(function* () {
      const format = yield* rowFormat(args.format, args.json, args.vertical, "wb sql")
      const limit = yield* rowLimit(args.limit, format, "wb sql", TERMINAL_ROWS)
      if (!(args.timeout > 0)) {
        return yield* new DataError({
          where: "wb sql --timeout",
          found: String(args.timeout),
          expected: "a number of seconds greater than 0",
          fix: `pass --timeout ${DEFAULT_TIMEOUT} (the default), or more for a long query`
        })
      }
      const sample = yield* checkSample(args.sample, "wb sql")
      const ctx = yield* openPipeline(args.file, sampleWorkspace(args.workspace, sample), { set: args.set })
      const states = cacheStates(ctx.graph, ctx.root, ctx.dir, sample)
      const tables: Array<SandboxTable> = []
      for (const s of states) {
        if (s.state._tag !== "Cached") continue
        const m = s.state.manifest
        const main = mainTable(m)
        if (main !== undefined) tables.push({ name: s.node.name, file: tableFile(ctx.dir, m, main) })
        for (const t of Object.keys(m.tables))
          tables.push({ name: `${s.node.name}.${t}`, file: tableFile(ctx.dir, m, t) })
      }
      const notRun = states.filter((s) => s.state._tag !== "Cached").map((s) => s.node.name)
      // a damaged artifact is not exposed: a query that names it is told why
      const damaged = new Map(
        states.flatMap((s) =>
          s.state._tag === "Damaged" ? [[s.node.name, `${s.key}: ${s.state.problem}`] as const] : []
        )
      )
      const options = {
        label: "wb sql",
        timeoutSeconds: args.timeout,
        timeoutFlag: "--timeout",
        ...(limit.rows === undefined ? {} : { maxRows: limit.rows })
      }
      yield* Effect.scoped(
        Effect.gen(function* () {
          const sandbox = yield* openSandbox({ directory: join(ctx.dir, "artifacts"), tables })
          if (format !== "table") {
            const writer = rowsWriter(format, (text) => void process.stdout.write(text))
            const out = yield* sandbox.stream(args.query, {
              ...options,
              onColumns: writer.columns,
              onRows: writer.rows
            })
            writer.end()
            // an explicit --limit cut it: said on stderr, since a note inside JSON or CSV would be data
            if (out.truncated)
              process.stderr.write(`wb sql: first ${count(out.rows)} rows (--limit ${count(out.rows)}); more exist\n`)
            return
          }
          const result = yield* sandbox.query(args.query, options)
          const width = outputWidth()
          const hint = limit.explicit ? "raise --limit" : "use --limit N, or pipe the output for every row"
          const lines = args.vertical ? rowsVertical(result, width) : rowsTable(result, width)
          yield* Console.log([...lines, `  ${rowsFooter(result, hint)}`].join("\n"))
        })
      ).pipe(Effect.catchTag("SqlError", (e) => Effect.fail(explain(e, tables, notRun, args.file, damaged))))
    }).pipe(reportErrors)
).pipe(Command.withDescription("Query the pipeline's tables with one read-only SELECT (or PIVOT)"))

/** A DuckDB error in the user's query, said in terms of the pipeline. */
function explain(
  e: SqlError,
  tables: ReadonlyArray<SandboxTable>,
  notRun: ReadonlyArray<string>,
  file: string,
  damaged: ReadonlyMap<string, string>
) {
  const reason = e.reason.split("\n")[0] ?? e.reason
  const missing = /Table with name (.+?) does not exist/
    .exec(e.reason)?.[1]
    ?.replace(/^"|"$/g, "")
    .replace(/^'|'$/g, "")
  const node = missing?.split(".")[0]
  if (node !== undefined && damaged.has(node)) {
    return new DataError({
      where: `wb sql: table "${missing}"`,
      found: `the artifact of node "${node}" is damaged, so it is not read: artifact ${damaged.get(node)}`,
      expected: "every file of the artifact with the size and content hash its manifest recorded",
      fix: `recompute it: wb run ${shellArg(file)} --only ${node} (a run replaces a damaged artifact by itself)`
    })
  }
  if (node !== undefined && notRun.includes(node)) {
    return new DataError({
      where: "wb sql",
      found: `node "${node}" has not run yet (or its params or inputs changed since), so table "${missing}" has no data`,
      expected: "a query over tables of nodes that have run",
      fix: `run it first: wb run ${shellArg(file)} --only ${node}`
    })
  }
  const names = tables.map((t) => t.name)
  const expected = `a query over the pipeline's tables: ${names.map((n) => `"${n}"`).join(", ") || "(none: no node has run yet)"}`
  if (missing !== undefined && names.includes(missing)) {
    return new DataError({
      where: "wb sql",
      found: `table ${missing} written without quotes, so SQL reads it as table "${missing.split(".").slice(1).join(".")}" of schema "${node}"`,
      expected,
      fix: `quote the name: select * from "${missing}"`
    })
  }
  if (/Permission Error/.test(reason)) {
    return new DataError({
      where: "wb sql",
      found: `the query reads a file outside the pipeline's artifacts (${reason.replace(/^Permission Error: /, "")})`,
      expected,
      fix: `query the pipeline's tables by name, e.g. select * from "${names[0] ?? "node"}" limit 10`
    })
  }
  return new DataError({
    where: "wb sql",
    found: missing === undefined ? reason : `no table "${missing}"`,
    expected,
    fix:
      (missing === undefined ? "" : didYouMean(missing, names)) ||
      `correct the query; quote names with dots, e.g. select * from "${names.find((n) => n.includes(".")) ?? "node.table"}"`
  })
}
