/** `wb show <file> <node>`: rows of one of a node's tables, from its cached artifact, via the read-only sandbox. */
import { Console, Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { didYouMean } from "../core/did-you-mean.js"
import { DataError, type SqlError } from "../core/errors.js"
import { lastNodeRun } from "../io/meta-db.js"
import { openSandbox } from "../io/sandbox-sql.js"
import { sqlIdentifier } from "../io/sql-text.js"
import { cacheStates, mainTable, tableFile } from "./artifacts.js"
import { reportErrors } from "./exit.js"
import { count } from "./format.js"
import { openPipeline, shellArg, workspaceFlag } from "./pipeline-context.js"
import { rowsTable } from "./render-rows.js"
import { join } from "node:path"

export const showCommand = Command.make("show", {
  file: Argument.String("file").pipe(Argument.withDescription("Pipeline file (.ts or .yaml)")),
  node: Argument.String("node").pipe(Argument.withDescription("Node whose table to print")),
  table: Flag.String("table").pipe(Flag.withDescription("Which of the node's tables (default: its main table)"), Flag.optional),
  limit: Flag.Int("limit").pipe(Flag.withDescription("How many rows to print"), Flag.withDefault(20)),
  where: Flag.String("where").pipe(Flag.withDescription("SQL condition on the rows, e.g. \"n > 10\""), Flag.optional),
  workspace: workspaceFlag
}, (args) =>
  Effect.gen(function*() {
    const ctx = yield* openPipeline(args.file, args.workspace)
    const names = ctx.graph.nodes.map((n) => n.name)
    const state = cacheStates(ctx.graph, ctx.root, ctx.dir).find((s) => s.node.name === args.node)
    if (state === undefined) {
      return yield* new DataError({
        where: `wb show ${args.node}`,
        found: `pipeline "${ctx.graph.name}" has no node "${args.node}"`,
        expected: `one of: ${names.join(", ")}`,
        fix: didYouMean(args.node, names) || `pick a node from \`wb ls ${shellArg(args.file)}\``
      })
    }
    if (state.state._tag !== "Cached") {
      // a node that ran and failed has no artifact either: the run log tells the two apart
      const last = yield* lastNodeRun(ctx.dir, state.key)
      const failed = last?.status === "failed"
      return yield* new DataError({
        where: `node "${args.node}" (${state.node.definition.kind})`,
        found: failed
          ? `its last run (${last.finished}) failed, so there is no table to show: ${(last.error ?? "unknown error").split("\n")[0]}`
          : state.state._tag === "NotRun"
          ? "it has not run yet, so there is no table to show"
          : "its last artifact is stale: its params or inputs changed since it ran",
        expected: "an artifact for the node's current params and inputs",
        fix: failed
          ? `fix what made it fail (wb run ${shellArg(args.file)} --only ${args.node} shows the whole error), then run it again`
          : `run it first: wb run ${shellArg(args.file)} --only ${args.node}`
      })
    }
    const manifest = state.state.manifest
    const tables = Object.keys(manifest.tables)
    const tableName = Option.getOrUndefined(args.table) ?? mainTable(manifest)
    if (tableName === undefined || !tables.includes(tableName)) {
      return yield* new DataError({
        where: `node "${args.node}" (${state.node.definition.kind})`,
        found: `no table "${tableName}"`,
        expected: `one of its tables: ${tables.join(", ")}`,
        fix: didYouMean(tableName ?? "", tables) || `use --table ${tables[0]}`
      })
    }
    const view = `${args.node}.${tableName}`
    const where = Option.match(args.where, { onNone: () => "", onSome: (w) => ` WHERE (${w})` })
    if (args.limit < 0) {
      return yield* new DataError({
        where: "wb show --limit",
        found: String(args.limit),
        expected: "a number of rows, 0 or more",
        fix: "pass --limit 20 (the default), or 0 to print only the row count"
      })
    }
    const limit = args.limit
    const lines = yield* Effect.scoped(Effect.gen(function*() {
      const sandbox = yield* openSandbox({
        directory: join(ctx.dir, "artifacts"),
        tables: [{ name: view, file: tableFile(ctx.dir, manifest, tableName) }]
      })
      const query = (sql: string, maxRows?: number) =>
        sandbox.query(sql, { label: "wb show --where", ...(maxRows === undefined ? {} : { maxRows }) }).pipe(
          Effect.mapError((e) => Option.isSome(args.where) ? badCondition(args.where.value, view, manifest.tables[tableName]!.columns, e) : e)
        )
      const total = yield* query(`SELECT count(*) AS n FROM "${view}"${where}`)
      const rows = yield* query(`SELECT * FROM "${view}"${where} LIMIT ${limit}`, limit)
      const matching = Number(total.rows[0]?.[0] ?? 0)
      const of = Option.isSome(args.where) ? `${count(matching)} matching of ${count(manifest.tables[tableName]!.rows)}` : count(matching)
      return [`${view} · ${of} rows · showing ${count(rows.rows.length)}`, ...rowsTable(rows)]
    }))
    yield* Console.log(lines.join("\n"))
  }).pipe(reportErrors)
).pipe(Command.withDescription("Print rows of a node's table from its cached artifact"))

/** A --where condition the engine refused or could not evaluate, said in terms of the condition. */
function badCondition(
  condition: string,
  view: string,
  columns: ReadonlyArray<{ readonly name: string; readonly type: string }>,
  e: DataError | SqlError
): DataError {
  const why = e._tag === "DataError" ? e.found : e.reason.split("\n")[0]!
  const first = columns.find((c) => !c.name.startsWith("_wb")) ?? columns[0]
  return new DataError({
    where: `wb show --where ${JSON.stringify(condition)}`,
    found: why,
    expected: `one SQL condition on the columns of "${view}": ${columns.map((c) => `${c.name} (${c.type})`).join(", ")}`,
    fix: `correct the condition, e.g. --where "${first === undefined ? "true" : `${sqlIdentifier(first.name)} IS NOT NULL`}"; ` +
      "for joins or several statements use wb sql"
  })
}
