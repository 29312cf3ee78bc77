/**
 * `wb show <file> <node>`: rows of one of a node's tables, from its cached artifact, via the read-only
 * sandbox: as a table fit to the terminal, vertically (--vertical), or as JSON, JSON Lines or CSV.
 */
import { Console, Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { didYouMean } from "../core/did-you-mean.js"
import { DataError, type SqlError } from "../core/errors.js"
import { lastNodeRun } from "../io/meta-db.js"
import { openSandbox } from "../io/sandbox-sql.js"
import { sqlIdentifier } from "../io/sql-text.js"
import { cacheStates, mainTable, tableFile, waitingFor } from "../io/catalog/artifacts.js"
import { openPipeline } from "../io/catalog/pipeline-context.js"
import { setFlag, shellArg, workspaceFlag } from "./args.js"
import { checkSample, sampleFlag, sampleWorkspace } from "./sample.js"
import { reportErrors } from "./exit.js"
import { count } from "./format.js"
import { outputWidth, rowsTable, rowsVertical, rowsWriter } from "./render-rows.js"
import { formatFlag, rowFormat, rowLimit, verticalFlag } from "./rows-flags.js"
import { join } from "node:path"

/** Rows a table on a terminal shows unless --limit says otherwise. */
const TERMINAL_ROWS = 20

export const showCommand = Command.make(
  "show",
  {
    file: Argument.String("file").pipe(Argument.withDescription("Pipeline file (.ts or .yaml)")),
    node: Argument.String("node").pipe(Argument.withDescription("Node whose table to print")),
    table: Flag.String("table").pipe(
      Flag.withDescription("Which of the node's tables (default: its main table)"),
      Flag.optional
    ),
    limit: Flag.Int("limit").pipe(
      Flag.withDescription("How many rows to print (default: 20 in a table on a terminal; every row otherwise)"),
      Flag.optional
    ),
    where: Flag.String("where").pipe(Flag.withDescription('SQL condition on the rows, e.g. "n > 10"'), Flag.optional),
    columns: Flag.String("columns").pipe(
      Flag.withDescription("Only these columns, in this order: a,b,c"),
      Flag.optional
    ),
    format: formatFlag,
    vertical: verticalFlag,
    set: setFlag,
    sample: sampleFlag("Read the artifacts of `wb run --sample N` (in <workspace>/sample-N/)"),
    workspace: workspaceFlag
  },
  (args) =>
    Effect.gen(function* () {
      const format = yield* rowFormat(args.format, false, args.vertical, "wb show")
      const limit = yield* rowLimit(args.limit, format, "wb show", TERMINAL_ROWS)
      const sample = yield* checkSample(args.sample, "wb show")
      const ctx = yield* openPipeline(args.file, sampleWorkspace(args.workspace, sample), { set: args.set })
      const names = ctx.graph.nodes.map((n) => n.name)
      const states = cacheStates(ctx.graph, ctx.root, ctx.dir, sample)
      const state = states.find((s) => s.node.name === args.node)
      if (state === undefined) {
        return yield* new DataError({
          where: `wb show ${args.node}`,
          found: `pipeline "${ctx.graph.name}" has no node "${args.node}"`,
          expected: `one of: ${names.join(", ")}`,
          fix: didYouMean(args.node, names) || `pick a node from \`wb ls ${shellArg(args.file)}\``
        })
      }
      if (state.state._tag === "Damaged") {
        return yield* new DataError({
          where: `node "${args.node}" (${state.node.definition.kind}): artifact ${state.key} in ${ctx.dir}`,
          found: `the artifact is damaged, so it is not read: ${state.state.problem}`,
          expected: "every file of the artifact with the size and content hash its manifest recorded",
          fix: `recompute it: wb run ${shellArg(args.file)} --only ${args.node} (a run replaces a damaged artifact by itself)`
        })
      }
      if (state.state._tag !== "Cached") {
        // a node that ran and failed has no artifact either: the run log tells the two apart
        const last = state.key === undefined ? undefined : yield* lastNodeRun(ctx.dir, state.key)
        const failed = last?.status === "failed"
        return yield* new DataError({
          where: `node "${args.node}" (${state.node.definition.kind})`,
          found: failed
            ? `its last run (${last.finished}) failed, so there is no table to show: ${(last.error ?? "unknown error").split("\n")[0]}`
            : state.state._tag === "NotRun"
              ? "it has not run yet, so there is no table to show"
              : state.state._tag === "Upstream"
                ? `upstream ${waitingFor(states, state.state.upstream)} must run first, so there is no table to show yet`
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
      const columns = manifest.tables[tableName]!.columns
      const picked = yield* pickColumns(args.columns, columns, view)
      // always quoted: a column may be named by a keyword (votes' "order")
      const select = picked === undefined ? "*" : picked.map((c) => `"${c.replaceAll('"', '""')}"`).join(", ")
      const where = Option.match(args.where, { onNone: () => "", onSome: (w) => ` WHERE (${w})` })
      yield* Effect.scoped(
        Effect.gen(function* () {
          const sandbox = yield* openSandbox({
            directory: join(ctx.dir, "artifacts"),
            tables: [{ name: view, file: tableFile(ctx.dir, manifest, tableName) }]
          })
          const explain = <A, R>(e: Effect.Effect<A, DataError | SqlError, R>) =>
            e.pipe(
              Effect.mapError((e) => (Option.isSome(args.where) ? badCondition(args.where.value, view, columns, e) : e))
            )
          const rowsSql = `SELECT ${select} FROM "${view}"${where}`
          const maxRows = limit.rows === undefined ? {} : { maxRows: limit.rows }
          if (format !== "table") {
            const writer = rowsWriter(format, (text) => void process.stdout.write(text))
            yield* explain(
              sandbox.stream(rowsSql, {
                label: "wb show --where",
                ...maxRows,
                onColumns: writer.columns,
                onRows: writer.rows
              })
            )
            return writer.end()
          }
          const total = yield* explain(
            sandbox.query(`SELECT count(*) AS n FROM "${view}"${where}`, { label: "wb show --where" })
          )
          const rows = yield* explain(sandbox.query(rowsSql, { label: "wb show --where", ...maxRows }))
          const matching = Number(total.rows[0]?.[0] ?? 0)
          const of = Option.isSome(args.where)
            ? `${count(matching)} matching of ${count(manifest.tables[tableName]!.rows)}`
            : count(matching)
          // a terminal's default cut is said in the output itself, with how to see the rest
          const more =
            !limit.explicit && rows.rows.length < matching ? " (--limit N for more; piped output has every row)" : ""
          const width = outputWidth()
          const body = args.vertical ? rowsVertical(rows, width) : rowsTable(rows, width)
          yield* Console.log([`${view} · ${of} rows · showing ${count(rows.rows.length)}${more}`, ...body].join("\n"))
        })
      )
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
    fix:
      `correct the condition, e.g. --where "${first === undefined ? "true" : `${sqlIdentifier(first.name)} IS NOT NULL`}"; ` +
      "for joins or several statements use wb sql"
  })
}

/** The --columns list, checked against the table's columns; undefined for every column. */
function pickColumns(
  flag: Option.Option<string>,
  columns: ReadonlyArray<{ readonly name: string; readonly type: string }>,
  view: string
): Effect.Effect<ReadonlyArray<string> | undefined, DataError> {
  if (Option.isNone(flag)) return Effect.succeed(undefined)
  const names = columns.map((c) => c.name)
  const wanted = flag.value.split(",").map((c) => c.trim())
  const unknown = wanted.find((c) => !names.includes(c))
  if (unknown === undefined) return Effect.succeed(wanted)
  return Effect.fail(
    new DataError({
      where: `wb show --columns ${flag.value}`,
      found: unknown === "" ? "an empty column name" : `"${view}" has no column "${unknown}"`,
      expected: `names of its columns, separated by commas: ${names.join(", ")}`,
      fix: (unknown === "" ? "" : didYouMean(unknown, names)) || `e.g. --columns ${names.slice(0, 2).join(",")}`
    })
  )
}
