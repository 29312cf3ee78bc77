/**
 * The end of every loader: count what was loaded, check that no pair lacks its id, prompt or a
 * response, make sure a typed votes table exists, drop the scratch tables, and return the node's output.
 */
import { Effect } from "effect"
import { DataError } from "../../workbench/core/errors.js"
import type { NodeOutput } from "../../workbench/core/node.js"
import { Sql } from "../../workbench/core/services.js"
import type { CheckedFile, Rejects } from "./check.js"
import { type LoadContext, where } from "./files.js"
import { createEmptyVotesSql } from "./sql.js"

export interface Loaded {
  readonly pairs: string
  /** Omitted when the source has no raters: an empty, typed votes table is made. */
  readonly votes?: string
  readonly rejects: Rejects
  readonly files: ReadonlyArray<CheckedFile>
  /** Source rows read; defaults to the records of all files. */
  readonly rowsIn?: number
  readonly stats?: Readonly<Record<string, number | string>>
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
  Effect.gen(function*() {
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

export const finishLoad = (loaded: Loaded) =>
  Effect.gen(function*() {
    const sql = yield* Sql
    let votes = loaded.votes
    if (votes === undefined) {
      votes = sql.tempName("votes")
      yield* sql.run(createEmptyVotesSql(votes))
    }
    const { counts, incomplete, first } = yield* pairStats(loaded.pairs)
    if (incomplete > 0) return yield* incompleteError(loaded, incomplete, first)
    const voteCount = yield* sql.count(votes)
    for (const f of loaded.files) yield* sql.run(`DROP TABLE IF EXISTS ${f.records.table}`)
    const records = loaded.files.reduce((s, f) => s + f.records.records, 0)
    const blank = loaded.files.reduce((s, f) => s + f.records.blankLines, 0)
    return {
      tables: { pairs: loaded.pairs, votes, rejects: loaded.rejects.table },
      stats: {
        records,
        ...counts,
        rejected: loaded.rejects.rejected,
        votes: voteCount,
        ...(blank > 0 ? { blank_lines: blank } : {}),
        ...loaded.stats
      },
      rowsIn: loaded.rowsIn ?? records
    } satisfies NodeOutput
  })
