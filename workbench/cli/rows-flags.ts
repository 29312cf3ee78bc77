/**
 * The output flags `wb sql` and `wb show` share: --format, --vertical, and --limit, whose default
 * applies only to a table on a terminal (a pipe or a file gets every row: never a silent cut).
 */
import { Effect, Option } from "effect"
import { Flag } from "effect/cli"
import { DataError } from "../core/errors.js"
import { ROW_FORMATS, type RowFormat } from "./render-rows.js"

export const formatFlag = Flag.Literals("format", ROW_FORMATS).pipe(
  Flag.withDescription("table (for people), json (one array), jsonl (one object per line) or csv"),
  Flag.optional
)

export const verticalFlag = Flag.Boolean("vertical").pipe(
  Flag.withDescription("One line per field, long text wrapped (for rows with long prompts and responses)"),
  Flag.withDefault(false)
)

/** The format asked for: --format, or --json (kept for scripts that use it), else a table. */
export const rowFormat = (
  format: Option.Option<RowFormat>,
  json: boolean,
  vertical: boolean,
  label: string
): Effect.Effect<RowFormat, DataError> => {
  if (json && Option.isSome(format) && format.value !== "json") {
    return Effect.fail(
      new DataError({
        where: `${label} --json --format ${format.value}`,
        found: "two different output formats",
        expected: "one format",
        fix: `drop --json (it means --format json), or drop --format ${format.value}`
      })
    )
  }
  const chosen = json ? "json" : Option.getOrElse(format, () => "table" as const)
  if (vertical && chosen !== "table") {
    return Effect.fail(
      new DataError({
        where: `${label} --vertical --format ${chosen}`,
        found: `--vertical with --format ${chosen}`,
        expected: "--vertical with the table format: it lays out text for people; the other formats have no layout",
        fix: `drop --vertical, or drop --format ${chosen}`
      })
    )
  }
  return Effect.succeed(chosen)
}

export interface RowLimit {
  /** At most this many rows; every row when undefined. */
  readonly rows: number | undefined
  /** Whether the user asked for it (--limit), rather than the terminal default. */
  readonly explicit: boolean
}

/**
 * The row limit: --limit when given; else `terminalRows` for a table on a terminal (the output then
 * says that rows were left out), and every row otherwise.
 */
export const rowLimit = (
  limit: Option.Option<number>,
  format: RowFormat,
  label: string,
  terminalRows: number,
  isTTY: boolean = process.stdout.isTTY === true
): Effect.Effect<RowLimit, DataError> => {
  if (Option.isSome(limit)) {
    return limit.value >= 0
      ? Effect.succeed({ rows: limit.value, explicit: true })
      : Effect.fail(
          new DataError({
            where: `${label} --limit`,
            found: String(limit.value),
            expected: "a number of rows, 0 or more",
            fix: `pass --limit ${terminalRows}, or leave it out for every row (a terminal shows the first ${terminalRows})`
          })
        )
  }
  return Effect.succeed({ rows: format === "table" && isTTY ? terminalRows : undefined, explicit: false })
}
