/**
 * A loader over several files (a list of paths, or a pattern's matches): its own step runs once per
 * file, exactly as it would on that file alone, and the outputs are stacked in file order. So every
 * record keeps its file and its line/index/row in the rejects table, and its pair keeps the pair_id,
 * sides and source_row (the record's number in its own file) that loading its file alone gives.
 *
 * Why per file rather than one stacked records table: loaders key their scratch tables on the
 * record number (and UltraFeedback seeds its draw with it), so a stacked table would need numbers
 * unique across files, which would then leak into source_row and the draws.
 *
 * The reject rate is checked once, over all files (a file's share alone may exceed maxRejectRate
 * while the load as a whole does not), and the rejects table is built over all files in order.
 * Counted stats add up; text stats (a layout, a mapping mode) list each distinct value once.
 *
 * Gotchas
 * - Pass-through columns are typed per file and stacked by name: a field one file lacks is NULL in
 *   its rows, and a field typed differently in two files takes the wider type (a number and a text
 *   become text). Columns that cannot be stacked (two different structs) fail the node, naming them.
 * - Records are not merged across files: the same pair in two files is two pairs (a dedupe node
 *   downstream sees both), as it would be twice within one file.
 */
import { Effect } from "effect"
import { DataError, type SqlError } from "../../workbench/core/errors.js"
import type { CoreServices } from "../../workbench/core/node.js"
import { Sql } from "../../workbench/core/services.js"
import { collectRejects } from "./check.js"
import { type LoadContext, type SourceFile, where } from "./files.js"
import type { Loaded } from "./finish.js"

type Part = Omit<Loaded, "ctx">

/**
 * Stack `tables` (tables or views; the same name for the same column) in order; one is returned as
 * is. The parts stay until the node ends (the runner drops what a node created).
 */
const stackTables = (ctx: LoadContext, hint: string, tables: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    if (tables.length === 1) return tables[0]!
    const sql = yield* Sql
    const out = sql.tempName(hint)
    // the columns of all parts, typed to fit each; then each part appended in order (an INSERT of a
    // plain scan keeps its rows' order, where one UNION ALL query need not)
    const statements = [
      `CREATE TABLE ${out} AS SELECT * FROM (${tables.map((t) => `SELECT * FROM ${t}`).join(" UNION ALL BY NAME ")}) LIMIT 0`,
      ...tables.map((t) => `INSERT INTO ${out} BY NAME SELECT * FROM ${t}`)
    ]
    for (const statement of statements) {
      yield* sql.run(statement).pipe(
        Effect.catchTag("SqlError", (e) =>
          Effect.fail(
            new DataError({
              where: where(ctx, hint),
              found: `the files' ${hint} tables cannot be stacked: ${e.reason.split("\n")[0]!.trim()}`,
              expected: "fields of the same name holding the same kind of value in every file",
              fix: "load the files with one node each, or make the field agree across the files"
            })
          )
        )
      )
    }
    return out
  })

/** Add up counted stats; text stats list each distinct value once ("tree, flat"). */
export function mergeStats(all: ReadonlyArray<Part["stats"]>): Record<string, number | string> {
  const out: Record<string, number | string> = {}
  for (const stats of all) {
    for (const [k, v] of Object.entries(stats ?? {})) {
      const prev = out[k]
      if (prev === undefined) out[k] = v
      else if (typeof prev === "number" && typeof v === "number") out[k] = prev + v
      else if (!String(prev).split(", ").includes(String(v))) out[k] = `${prev}, ${v}`
    }
  }
  return out
}

/**
 * Run `loadOne` on each file in order and stack the results into one load. `loadOne` gets a context
 * whose `sample` is what is left of the sample run's record budget (files past it are not read), and
 * must not check the reject rate (its rejects table is rebuilt here over all files).
 */
export const loadEach = (
  ctx: LoadContext,
  files: ReadonlyArray<SourceFile>,
  loadOne: (ctx: LoadContext, file: SourceFile) => Effect.Effect<Part, DataError | SqlError, CoreServices>,
  maxRejectRate: number
) =>
  Effect.gen(function* () {
    const sql = yield* Sql
    const parts: Array<Part> = []
    let taken = 0
    for (const file of files) {
      const left = ctx.sample === undefined ? undefined : ctx.sample - taken
      if (left !== undefined && left <= 0) break
      const part = yield* loadOne({ ...ctx, sample: left }, file)
      taken += part.files.reduce((s, f) => s + f.records.records, 0)
      parts.push(part)
    }
    for (const p of parts) yield* sql.run(`DROP TABLE IF EXISTS ${p.rejects.table}`)
    const checked = parts.flatMap((p) => p.files)
    const rejects = yield* collectRejects(ctx, checked, maxRejectRate)
    const optional = (pick: (p: Part) => string | undefined, hint: string) => {
      const tables = parts.flatMap((p) => pick(p) ?? [])
      return tables.length === 0 ? Effect.succeed(undefined) : stackTables(ctx, hint, tables)
    }
    const pairs = yield* stackTables(
      ctx,
      "pairs",
      parts.map((p) => p.pairs)
    )
    const votes = yield* optional((p) => p.votes, "votes")
    const removed = yield* optional((p) => p.removed, "removed")
    // extra outputs (ratings, raters) stack like votes; every file's step returns the same names
    const extra: Record<string, string> = {}
    for (const name of new Set(parts.flatMap((p) => Object.keys(p.extra ?? {})))) {
      const stacked = yield* optional((p) => p.extra?.[name], name)
      if (stacked === undefined) continue
      // one row per rater, as the raters contract says: each file lists the same raters again
      extra[name] =
        name === "raters" && parts.length > 1
          ? yield* sql.create(
              "raters",
              `SELECT rater, rater_kind, first(attributes ORDER BY rowid) AS attributes FROM ${stacked}
               GROUP BY rater, rater_kind ORDER BY min(rowid)`
            )
          : stacked
    }
    const loaded: Part = {
      pairs,
      rejects,
      files: checked,
      ...(votes === undefined ? {} : { votes }),
      ...(removed === undefined ? {} : { removed }),
      ...(Object.keys(extra).length === 0 ? {} : { extra }),
      ...(parts.some((p) => p.expands === true) ? { expands: true } : {}),
      stats: { files: parts.length, ...mergeStats(parts.map((p) => p.stats)) }
    }
    return loaded
  })
