/**
 * Sample runs (`wb run --sample N`, distilabel's dry run): the whole pipeline on the first N records of
 * each source. They live in a workspace of their own, `<workspace>/sample-N/`, and their sources' cache
 * keys include N, so a sampled artifact never passes for a full one; `wb show`, `wb sql` and `wb gc`
 * take the same `--sample N` to look at them.
 */
import { Effect, Option } from "effect"
import { Flag } from "effect/cli"
import { join } from "node:path"
import { DataError } from "../core/errors.js"
import { shellArg } from "./args.js"

export const sampleFlag = (description: string) =>
  Flag.Int("sample").pipe(Flag.withDescription(description), Flag.optional)

/** The sample size, checked: a whole number of records, 1 or more. */
export const checkSample = (flag: Option.Option<number>, label: string): Effect.Effect<number | undefined, DataError> =>
  Option.match(flag, {
    onNone: () => Effect.succeed(undefined),
    onSome: (n) =>
      n >= 1
        ? Effect.succeed(n)
        : Effect.fail(
            new DataError({
              where: `${label} --sample`,
              found: String(n),
              expected: "how many records of each source to use: a whole number, 1 or more",
              fix: "pass e.g. --sample 50, or leave the flag out for the full data"
            })
          )
  })

/** The workspace a sample of `sample` records lives in: `<workspace>/sample-N`; the workspace itself for full runs. */
export const sampleWorkspace = (workspace: string, sample: number | undefined): string =>
  sample === undefined ? workspace : join(workspace, `sample-${sample}`)

/** The lines after a sample run's summary: where its artifacts are, and the full run. */
export const sampleNote = (sample: number, label: string, file: string): string =>
  `\nsample run: the first ${sample} records of each source, kept in ${label} apart from full runs ` +
  `(wb show, wb sql and wb gc read it with --sample ${sample}); the full data: wb run ${shellArg(file)}`
