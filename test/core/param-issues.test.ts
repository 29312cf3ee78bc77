/**
 * A misspelt param is the commonest pipeline mistake. Its message names the params that exist at
 * that level (top level, a nested struct, a struct inside `X | null`) and the closest one, instead of
 * "expected one of the declared params".
 */
import { Schema } from "effect"
import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { decodeParams, param } from "../../workbench/core/params.js"

const Params = Schema.Struct({
  maxChars: param(Schema.Int, 2000, "longest response kept"),
  exact: param(
    Schema.Struct({ enabled: Schema.Boolean, onConflict: Schema.String }),
    { enabled: true, onConflict: "merge" },
    "the exact step"
  ),
  columns: param(
    Schema.NullOr(
      Schema.Struct({ prompt: Schema.optionalKey(Schema.String), chosen: Schema.optionalKey(Schema.String) })
    ),
    null,
    "mapping"
  )
})

const issues = (raw: unknown) => {
  const r = decodeParams(Params, raw)
  return Result.isFailure(r) ? r.failure : []
}

describe("unknown params", () => {
  it("list the params declared at their level, closest first as a did-you-mean", () => {
    expect(issues({ maxChar: 10 })).toEqual([
      {
        path: "maxChar",
        value: "an unknown param",
        expected: 'one of the declared params: maxChars, exact, columns; did you mean "maxChars"?'
      }
    ])
    expect(issues({ exact: { enabled: true, onConflict: "merge", enabeld: false } })).toEqual([
      {
        path: "exact.enabeld",
        value: "an unknown param",
        expected: 'one of the declared params: enabled, onConflict; did you mean "enabled"?'
      }
    ])
    // inside a struct that may also be null
    expect(issues({ columns: { promt: "q" } })).toEqual([
      {
        path: "columns.promt",
        value: "an unknown param",
        expected: 'one of the declared params: prompt, chosen; did you mean "prompt"?'
      }
    ])
    // nothing close: the list alone
    expect(issues({ zzz: 1 })[0]!.expected).toBe("one of the declared params: maxChars, exact, columns")
  })
})
