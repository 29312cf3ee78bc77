/**
 * `defineExport`: an export node from its one specific step (which rows to write, in what layout).
 * The steps every export shares are here: the `rows`, `removed` and `card` outputs, the file written
 * atomically to the `to` path, the data card beside it, the note naming the path, and, on a cache hit,
 * the check that the file and its card section are still what the artifact recorded (restored from
 * the artifact when they were deleted or changed). The files themselves are core's `ExportFiles` service
 * (the guards on `to`, the atomic write, the record, the card merge), which `wb export` shares.
 */
import { Effect, type Schema } from "effect"
import { type CardCount, cardCountsSql, renderCardSection } from "../../workbench/core/data-card.js"
import {
  input as inputContract,
  type InputContract,
  output,
  outputLike,
  type TableSchema
} from "../../workbench/core/contract.js"
import { DataError, type SqlError } from "../../workbench/core/errors.js"
import { type ExportCaller, ExportFiles, type ExportTarget } from "../../workbench/core/export-files.js"
import { type CoreServices, defineNode, type InputTable } from "../../workbench/core/node.js"
import { Progress, Sql, Workspace } from "../../workbench/core/services.js"
import { type FileFormat, formatOf, type FormatName } from "./format.js"
import { sqlText } from "./pairs.js"

/** The params every export has. */
interface ExportParams {
  readonly to: string
  readonly format?: "auto" | FormatName
}

/** What an export's own step makes. */
export interface Built {
  /** The rows to write, in order: the node's main output. */
  readonly rows: string
  /** Rows left out, with the input's columns and `reason` (omitted: none). */
  readonly removed?: string
  /** A relation of the written rows' input rows, for the card's counts by label_source and source. */
  readonly kept: string
  readonly stats?: Readonly<Record<string, number | string>>
  /** Lines for the card (layout, markers restored). */
  readonly notes?: ReadonlyArray<string>
  /** How to use the file, for the card (Markdown). */
  readonly usage?: string
}

export interface ExportStep<P> {
  readonly node: string
  readonly kind: string
  readonly params: P
  readonly input: InputTable
  readonly target: ExportTarget
  readonly format: FileFormat
}

export interface ExportDeclaration<S extends Schema.Top & { readonly Type: ExportParams }> {
  readonly kind: string
  readonly version: number
  readonly summary: string
  readonly params: S
  /** The one input: its name (`pairs`, `table`) and contract. */
  readonly input: { readonly name: string; readonly contract: InputContract }
  readonly build: (step: ExportStep<S["Type"]>) => Effect.Effect<Built, DataError | SqlError, CoreServices>
  /**
   * The columns of `rows` from the params and what is known of the input before anything runs, or a
   * param the input cannot satisfy (where: "param keep"). Omitted: the input's columns.
   */
  readonly rowsSchema?: (params: S["Type"], input: TableSchema) => TableSchema | DataError
}

const cardColumns = { file: "utf8", section: "utf8", sha256: "utf8", bytes: "int64" } as const

/** The node as the writer of its file, for the messages of ExportFiles. */
const callerOf = (node: string, kind: string): ExportCaller => ({
  where: `node "${node}" (${kind}) param to`,
  option: "`to`",
  example: (path) => `"${path}"`,
  again: "run again"
})

/** The file format the params ask for; `at` prefixes the error's where (the node, at run time). */
const formatFor = (at: string, params: ExportParams) =>
  Effect.gen(function* () {
    const format = formatOf(params.to, params.format ?? "auto")
    if ("problem" in format) {
      return yield* new DataError({
        where: `${at}param ${params.format === undefined || params.format === "auto" ? "to" : "format"}`,
        found: format.problem,
        expected:
          "a file name ending in .jsonl, .json, .csv or .parquet (optionally .gz, not for Parquet), or a format param",
        fix: `name the file e.g. "${params.to.replace(/(\.[^./]*)?$/, ".jsonl")}", or set format: "jsonl"`
      })
    }
    return format
  })

/** Counts of a column's values in `relation`, most frequent first (undefined when it has no such column). */
const countsOf = (relation: string, columns: ReadonlySet<string>, column: string) =>
  Effect.gen(function* () {
    if (!columns.has(column)) return undefined
    return yield* (yield* Sql).rows<CardCount>(cardCountsSql(relation, column))
  })

/** Declare an export node (see the module doc). */
export const defineExport = <
  S extends Schema.Top & Schema.ConstraintDecoder<unknown> & { readonly Type: ExportParams }
>(
  decl: ExportDeclaration<S>
) =>
  defineNode({
    kind: decl.kind,
    version: decl.version,
    summary: decl.summary,
    params: decl.params,
    inputs: { [decl.input.name]: decl.input.contract } as Readonly<Record<string, InputContract<false>>>,
    outputs: {
      rows: output("main", {}, { open: true, doc: "the rows as written to the file" }),
      removed: outputLike("removed", decl.input.name, {
        add: { reason: "utf8" },
        doc: "input rows left out, with the reason"
      }),
      card: output("aux", cardColumns, { doc: "the file's name, size, sha256 and its section of the data card" })
    },
    // a second export to the same file fails the graph build (each run would replace the other's file)
    writes: (params) => [{ param: "to", path: params.to }],
    // a wrong file name or a column the input lacks fails `wb validate`, before anything runs
    inferOutputs: ({ params, inputs }) =>
      Effect.gen(function* () {
        yield* formatFor("", params)
        const input = inputs[decl.input.name] ?? { columns: [], open: true }
        const rows = decl.rowsSchema === undefined ? input : decl.rowsSchema(params, input)
        if (rows instanceof DataError) return yield* rows
        return { outputs: { rows } }
      }),
    run: ({ node, kind, params, inputs }) =>
      Effect.gen(function* () {
        const sql = yield* Sql
        const files = yield* ExportFiles
        const caller = callerOf(node, kind)
        const input = inputs[decl.input.name]!
        const target = files.target(yield* Workspace, params.to)
        const format = yield* formatFor(`node "${node}" (${kind}) `, params)
        yield* files.checkCardFree(caller, target)
        yield* files.checkTargetFree(caller, target)
        const built = yield* decl.build({ node, kind, params, input, target, format })
        const removed =
          built.removed ??
          (yield* sql.create("removed", `SELECT *, NULL::VARCHAR AS reason FROM ${input.relation} WHERE false`))
        const select = `SELECT * FROM ${built.rows}`
        const { rows, bytes, sha256 } = yield* files.writeData({ sql, caller, select, target, format })
        const keptColumns = new Set((yield* sql.describe(built.kept)).columns.map((c) => c.name))
        const labelSources = yield* countsOf(built.kept, keptColumns, "label_source")
        const sources = yield* countsOf(built.kept, keptColumns, "source")
        const section = renderCardSection({
          file: target.path.split(/[\\/]/).pop()!,
          format: format.label,
          rows,
          bytes,
          sha256,
          columns: (yield* sql.describe(built.rows)).columns,
          writer: `node \`${node}\` (${kind})`,
          rowsIn: input.rows,
          removed: yield* sql.rows<CardCount>(cardCountsSql(removed, "reason")),
          ...(labelSources === undefined ? {} : { labelSources }),
          ...(sources === undefined ? {} : { sources }),
          from: input.from ?? [],
          notes: [...(built.notes ?? []), `params: \`${JSON.stringify(params)}\``],
          ...(built.usage === undefined ? {} : { usage: built.usage })
        })
        yield* files.writeCard(caller, target, section)
        const card = yield* sql.create(
          "card",
          `SELECT ${sqlText(target.path.split(/[\\/]/).pop()!)} AS file, ${sqlText(section)} AS section,
          ${sqlText(sha256)} AS sha256, ${bytes}::BIGINT AS bytes`
        )
        yield* (yield* Progress).note(
          `wrote ${rows.toLocaleString("en-US")} rows to ${target.shown} (data card: README.md beside it` +
            `${target.instead === undefined ? "" : `; a sample run: ${target.instead} is left as it was`})`
        )
        return {
          tables: { rows: built.rows, removed, card },
          stats: { written: rows, bytes, file: target.shown, ...built.stats }
        }
      }),
    onCacheHit: ({ node, kind, params, tables }) =>
      Effect.gen(function* () {
        const sql = yield* Sql
        const files = yield* ExportFiles
        const caller = callerOf(node, kind)
        const progress = yield* Progress
        const target = files.target(yield* Workspace, params.to)
        const [card] = yield* sql.rows<{ section: string; sha256: string }>(
          `SELECT section, sha256 FROM ${tables["card"]}`
        )
        if (card === undefined) return
        yield* files.checkCardFree(caller, target)
        const state = yield* files.fileState(target, card.sha256)
        if (state !== "same") {
          yield* files.checkTargetFree(caller, target)
          const format = yield* formatFor(`node "${node}" (${kind}) `, params)
          const select = `SELECT * FROM ${tables["rows"]}`
          yield* files.writeData({ sql, caller, select, target, format, expected: card.sha256 })
          yield* progress.note(
            `rewrote ${target.shown} from the cached artifact: the file was ${state === "missing" ? "missing" : "changed since wb wrote it"}`
          )
        }
        if (!(yield* files.cardHolds(target, card.section))) {
          yield* files.writeCard(caller, target, card.section)
          yield* progress.note(`restored the section of ${target.shown} in the README.md beside it`)
        }
      })
  })

/** An input contract taking any table. */
export const anyTable = (doc: string) => inputContract({}, { doc })
