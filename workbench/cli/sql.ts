/**
 * `wb sql <file> "<query>"`: one read-only SELECT over the pipeline's artifacts. Each node that has
 * run is a table named after it (its main table) and `"node.table"` for each of its tables.
 */
import { Console, Effect } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { join } from "node:path"
import { didYouMean } from "../core/did-you-mean.js"
import { DataError, SqlError } from "../core/errors.js"
import { openSandbox, type SandboxTable } from "../io/sandbox-sql.js"
import { cacheStates, mainTable, tableFile } from "./artifacts.js"
import { reportErrors } from "./exit.js"
import { openPipeline, shellArg, workspaceFlag } from "./pipeline-context.js"
import { rowsFooter, rowsTable } from "./render-rows.js"

export const sqlCommand = Command.make("sql", {
  file: Argument.String("file").pipe(Argument.withDescription("Pipeline file (.ts or .yaml)")),
  query: Argument.String("query").pipe(Argument.withDescription("One SELECT; tables are \"node\" and \"node.table\"")),
  json: Flag.Boolean("json").pipe(Flag.withDescription("Print the rows as a JSON array of objects"), Flag.withDefault(false)),
  limit: Flag.Int("limit").pipe(Flag.withDescription("At most this many rows"), Flag.withDefault(100)),
  workspace: workspaceFlag
}, (args) =>
  Effect.gen(function*() {
    const ctx = yield* openPipeline(args.file, args.workspace)
    const states = cacheStates(ctx.graph, ctx.root, ctx.dir)
    const tables: Array<SandboxTable> = []
    for (const s of states) {
      if (s.state._tag !== "Cached") continue
      const m = s.state.manifest
      const main = mainTable(m)
      if (main !== undefined) tables.push({ name: s.node.name, file: tableFile(ctx.dir, m, main) })
      for (const t of Object.keys(m.tables)) tables.push({ name: `${s.node.name}.${t}`, file: tableFile(ctx.dir, m, t) })
    }
    const notRun = states.filter((s) => s.state._tag !== "Cached").map((s) => s.node.name)
    const result = yield* Effect.scoped(Effect.gen(function*() {
      const sandbox = yield* openSandbox({ directory: join(ctx.dir, "artifacts"), tables })
      return yield* sandbox.query(args.query, { maxRows: Math.max(0, args.limit), label: "wb sql" })
    })).pipe(Effect.catchTag("SqlError", (e) => Effect.fail(explain(e, tables, notRun, args.file))))
    if (args.json) {
      const objects = result.rows.map((r) => Object.fromEntries(result.columns.map((c, i) => [c.name, r[i]])))
      process.stdout.write(`${JSON.stringify(objects)}\n`)
      if (result.truncated) process.stderr.write(`wb sql: ${rowsFooter(result)}\n`)
    } else {
      yield* Console.log([...rowsTable(result), `  ${rowsFooter(result)}`].join("\n"))
    }
  }).pipe(reportErrors)
).pipe(Command.withDescription("Query the pipeline's tables with one read-only SELECT"))

/** A DuckDB error in the user's query, said in terms of the pipeline. */
function explain(e: SqlError, tables: ReadonlyArray<SandboxTable>, notRun: ReadonlyArray<string>, file: string) {
  const reason = e.reason.split("\n")[0] ?? e.reason
  const missing = /Table with name (.+?) does not exist/.exec(e.reason)?.[1]?.replace(/^"|"$/g, "").replace(/^'|'$/g, "")
  const node = missing?.split(".")[0]
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
    fix: (missing === undefined ? "" : didYouMean(missing, names)) ||
      `correct the query; quote names with dots, e.g. select * from "${names.find((n) => n.includes(".")) ?? "node.table"}"`
  })
}
