/**
 * The end of every loader: count what was loaded, check that no pair lacks its id, prompt or a
 * response and that every record is accounted for (rows in = out + rejected + removed), make sure
 * typed votes and removed tables exist, warn about empty input files, drop the scratch tables, and
 * return the node's output.
 */
import { Effect } from "effect"
import { DataError } from "../../workbench/core/errors.js"
import type { NodeOutput } from "../../workbench/core/node.js"
import { Progress, Sql } from "../../workbench/core/services.js"
import type { CheckedFile, Rejects } from "./check.js"
import { type LoadContext, where } from "./files.js"
import { createEmptyVotesSql } from "../lib/pair-tables.js"
import { createEmptyRemovedSql } from "./removed.js"

export interface Loaded {
  readonly pairs: string
  /** Omitted when the source has no raters: an empty, typed votes table is made. */
  readonly votes?: string
  readonly rejects: Rejects
  readonly files: ReadonlyArray<CheckedFile>
  /**
   * Records that are neither a pair nor a reject (removed.ts: merged into another pair, or giving no
   * pair), with their reason. Omitted: none (an empty, typed table is made).
   */
  readonly removed?: string
  /**
   * The source expands records into pairs (a record gives 0..n pairs: OASST trees, UltraFeedback
   * records): rows in then count a record once per pair it gives, or once when it is rejected or
   * removed, so that rows in = out + rejected + removed still says that nothing went unaccounted.
   * Otherwise rows in = the records of all files, and they must add up (checked: a loader bug if not).
   */
  readonly expands?: boolean
  readonly stats?: Readonly<Record<string, number | string>>
  /** Tables for the loader's extra outputs (`defineLoader`'s `outputs`: ratings, raters), by output name. */
  readonly extra?: Readonly<Record<string, string>>
  /** Who is loading, for error messages. */
  readonly ctx: LoadContext
}

/** The columns no pair may leave a loader without. */
const REQUIRED = ["pair_id", "prompt", "response_a", "response_b"]

/**
 * Counts every loader reports (pairs, labels, empty responses), and, in the same scan, the pairs
 * missing a required column with the first one's source_row (`incomplete`, `first_incomplete`).
 */
const pairStats = (pairs: string) =>
  Effect.gen(function* () {
    const sql = yield* Sql
    const missing = REQUIRED.map((c) => `${c} IS NULL`).join(" OR ")
    const [s] = yield* sql.rows<Record<string, number>>(`SELECT count(*) AS pairs,
      count(*) FILTER (WHERE label = 'a') AS label_a, count(*) FILTER (WHERE label = 'b') AS label_b,
      count(*) FILTER (WHERE label = 'tie') AS label_tie, count(*) FILTER (WHERE label IS NULL) AS label_none,
      count(*) FILTER (WHERE response_a = '' OR response_b = '') AS empty_responses,
      count(*) FILTER (WHERE ${missing}) AS incomplete, min(source_row) FILTER (WHERE ${missing}) AS first_incomplete
      FROM ${pairs}`)
    const { incomplete, first_incomplete, ...counts } = s!
    return { counts, incomplete: incomplete!, first: first_incomplete }
  })

/**
 * A pair without its id, prompt or a response is a loader bug (its checks let a record through that
 * it cannot render): fail rather than hand on rows that every later step would mistake for data.
 */
const incompleteError = (loaded: Loaded, incomplete: number, first: number | undefined) =>
  new DataError({
    where: where(loaded.ctx, "pairs"),
    found: `${incomplete} pair(s) with a NULL ${REQUIRED.join(", ")} (first: source_row ${first})`,
    expected: "every loaded pair has all of them; records that cannot give them are rejects",
    fix: "this is a bug in the loader: report it with that source record; until then, remove the record from the file"
  })

/** Records that are neither a pair, a reject nor a removed row: a loader that folds or drops records silently. */
const unaccountedError = (loaded: Loaded, records: number, pairs: number, rejected: number, removed: number) =>
  new DataError({
    where: where(loaded.ctx, "pairs"),
    found: `${records} records in, ${pairs} pairs + ${rejected} rejected + ${removed} removed out`,
    expected: "every record is a pair, a reject, or a removed row with its reason (rows in = out + rejected + removed)",
    fix: "this is a bug in the loader: report it with the file; no output was written"
  })

export const finishLoad = (loaded: Loaded) =>
  Effect.gen(function* () {
    const sql = yield* Sql
    let votes = loaded.votes
    if (votes === undefined) {
      votes = sql.tempName("votes")
      yield* sql.run(createEmptyVotesSql(votes))
    }
    let removedTable = loaded.removed
    if (removedTable === undefined) {
      removedTable = sql.tempName("removed")
      yield* sql.run(createEmptyRemovedSql(removedTable))
    }
    const removed = yield* sql.count(removedTable)
    const { counts, incomplete, first } = yield* pairStats(loaded.pairs)
    if (incomplete > 0) return yield* incompleteError(loaded, incomplete, first)
    const voteCount = yield* sql.count(votes)
    // an empty file loads as 0 rows, which is legal but rarely meant (a failed export, a wrong path)
    const empty = loaded.files.filter((f) => f.records.records === 0)
    if (empty.length > 0) {
      yield* (yield* Progress).note(
        `warning: ${empty.map((f) => f.file.shown).join(", ")} ${empty.length === 1 ? "holds" : "hold"} no records (0 rows loaded from ${empty.length === 1 ? "it" : "them"})`
      )
    }
    for (const f of loaded.files) yield* sql.run(`DROP TABLE IF EXISTS ${f.records.table}`)
    const records = loaded.files.reduce((s, f) => s + f.records.records, 0)
    const blank = loaded.files.reduce((s, f) => s + f.records.blankLines, 0)
    const accounted = counts["pairs"]! + loaded.rejects.rejected + removed
    if (loaded.expands !== true && accounted !== records) {
      return yield* unaccountedError(loaded, records, counts["pairs"]!, loaded.rejects.rejected, removed)
    }
    return {
      tables: { ...loaded.extra, pairs: loaded.pairs, votes, rejects: loaded.rejects.table, removed: removedTable },
      stats: {
        records,
        ...counts,
        rejected: loaded.rejects.rejected,
        ...(removed > 0 ? { removed } : {}),
        votes: voteCount,
        ...(blank > 0 ? { blank_lines: blank } : {}),
        ...(empty.length > 0 ? { empty_files: empty.length } : {}),
        ...loaded.stats
      },
      rowsIn: loaded.expands === true ? accounted : records
    } satisfies NodeOutput
  })
