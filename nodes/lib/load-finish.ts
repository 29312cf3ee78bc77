/**
 * The end of every loader: count what was loaded, make sure a typed votes table exists, drop the
 * scratch tables, and return the node's output.
 */
import { Effect } from "effect"
import type { NodeOutput } from "../../workbench/core/node.js"
import { Sql } from "../../workbench/core/services.js"
import type { CheckedFile, Rejects } from "./load-check.js"
import { createEmptyVotesSql } from "./load-sql.js"

export interface Loaded {
  readonly pairs: string
  /** Omitted when the source has no raters: an empty, typed votes table is made. */
  readonly votes?: string
  readonly rejects: Rejects
  readonly files: ReadonlyArray<CheckedFile>
  /** Source rows read; defaults to the records of all files. */
  readonly rowsIn?: number
  readonly stats?: Readonly<Record<string, number | string>>
}

/** Counts every loader reports: pairs, labels, empty responses. */
const pairStats = (pairs: string) =>
  Effect.gen(function*() {
    const sql = yield* Sql
    const [s] = yield* sql.rows<Record<string, number>>(`SELECT count(*) AS pairs,
      count(*) FILTER (WHERE label = 'a') AS label_a, count(*) FILTER (WHERE label = 'b') AS label_b,
      count(*) FILTER (WHERE label = 'tie') AS label_tie, count(*) FILTER (WHERE label IS NULL) AS label_none,
      count(*) FILTER (WHERE response_a = '' OR response_b = '') AS empty_responses
      FROM ${pairs}`)
    return s!
  })

export const finishLoad = (loaded: Loaded) =>
  Effect.gen(function*() {
    const sql = yield* Sql
    let votes = loaded.votes
    if (votes === undefined) {
      votes = sql.tempName("votes")
      yield* sql.run(createEmptyVotesSql(votes))
    }
    const counts = yield* pairStats(loaded.pairs)
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
