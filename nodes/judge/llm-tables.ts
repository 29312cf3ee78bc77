/** The judge's rows as tables on the node's connection, typed by the output contracts. */
import { Effect } from "effect"
import type { ColumnType } from "../../workbench/core/column-type.js"
import type { SqlShape } from "../../workbench/core/services.js"
import { raterColumns, voteColumns } from "../lib/pair-tables.js"
import type { Judgment } from "./llm-plan.js"
import type { JudgeSetup } from "./llm-run.js"
import type { FailureRow, Rows } from "./llm-rows.js"
import { failureColumns, judgeRatingColumns, judgmentColumns } from "./tables.js"

/** Load `rows` as a table with `columns`, each value from the row's field of the same name. */
const loadRows = <R>(
  sql: SqlShape,
  hint: string,
  columns: Readonly<Record<string, ColumnType>>,
  rows: ReadonlyArray<R>,
  value: (row: R, column: string) => unknown
) =>
  Effect.gen(function* () {
    const table = sql.tempName(hint)
    const names = Object.keys(columns)
    yield* sql.load(
      table,
      names.map((name) => ({ name, type: columns[name]! })),
      names.map((name) => rows.map((r) => value(r, name)))
    )
    return table
  })

const field = (row: object, column: string) => (row as Record<string, unknown>)[column] ?? null

export const writeTables = (
  sql: SqlShape,
  s: JudgeSetup,
  rows: Omit<Rows, "failures"> & { readonly failures: ReadonlyArray<FailureRow> },
  judgments: ReadonlyArray<Judgment>
) =>
  Effect.gen(function* () {
    const rater = { rater: s.rater, rater_kind: "ai" }
    const withRater = (row: object, column: string) =>
      column in rater ? rater[column as keyof typeof rater] : field(row, column)
    return {
      // pairs pass through unchanged: the judge's label is in judgments (label_source is aggregate's and mix's call)
      pairs: yield* sql.create("pairs", `SELECT * FROM ${s.pairs.relation}`),
      votes: yield* loadRows(sql, "votes", voteColumns, rows.votes, withRater),
      judgments: yield* loadRows(sql, "judgments", judgmentColumns, judgments, withRater),
      ratings: yield* loadRows(sql, "ratings", judgeRatingColumns, rows.ratings, (r, c) =>
        c === "scale_min" ? 1 : c === "scale_max" ? 5 : withRater(r, c)
      ),
      raters: yield* loadRows(sql, "raters", raterColumns, [rater], (r, c) =>
        c === "attributes" ? JSON.stringify(s.attributes) : withRater(r, c)
      ),
      failures: yield* loadRows(sql, "failures", failureColumns, rows.failures, field)
    }
  })
