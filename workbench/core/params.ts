/**
 * Node params: `param()` declares one with its default and its doc; `decodeParams` decodes them once,
 * turning Schema issues into (path, value found, expected) triples.
 */
import { Effect, Result, Schema } from "effect"
import type { ParamIssue } from "./errors.js"
import type { ParamsSchema } from "./node.js"

const show = (value: unknown): string => {
  if (value === undefined) return "nothing (missing)"
  const text = JSON.stringify(value)
  return text === undefined ? String(value) : text.length > 80 ? `${text.slice(0, 80)}…` : text
}

const at = (root: unknown, path: ReadonlyArray<PropertyKey>): unknown =>
  path.reduce<unknown>((v, k) => (typeof v === "object" && v !== null ? (v as Record<PropertyKey, unknown>)[k] : undefined), root)

/**
 * A param with a default and a description (what `wb nodes` prints). The default lives in the schema:
 * a missing key decodes to `value` (Effect's `Schema.withDecodingDefaultKey`), so `run` always sees
 * one, and the cache key is the same whether a pipeline spells the default out or leaves it out.
 *
 * @example
 * const Params = Schema.Struct({
 *   threshold: param(Schema.Number.check(Schema.isBetween({ minimum: 0, maximum: 1 })), 0.8, "similarity at which two texts match"),
 *   model: Schema.String.annotate({ description: "required: no default" })
 * })
 * // Schema.decodeUnknownSync(Params)({ model: "m" }) -> { threshold: 0.8, model: "m" }
 */
export const param = <S extends Schema.Top & Schema.Constraint>(schema: S, value: S["Encoded"], doc: string) =>
  schema.pipe(Schema.withDecodingDefaultKey(Effect.succeed(value))).annotate({ description: doc })

export function decodeParams(
  schema: ParamsSchema,
  raw: unknown
): Result.Result<unknown, ReadonlyArray<ParamIssue>> {
  const standard = Schema.toStandardSchemaV1(schema, { parseOptions: { errors: "all", onExcessProperty: "error" } })
  const out = standard["~standard"].validate(raw)
  if (out instanceof Promise) {
    return Result.fail([{ path: "", value: show(raw), expected: "params that decode without services" }])
  }
  if (out.issues === undefined) return Result.succeed(out.value)
  return Result.fail(out.issues.map((issue) => {
    const path = (issue.path ?? []).map((p) => (typeof p === "object" && p !== null && "key" in p ? p.key : p))
    const expected = issue.message.replace(/^Expected /, "")
    return {
      path: path.map(String).join("."),
      value: /^Unexpected key|excess property/.test(issue.message) ? "an unknown param" : show(at(raw, path)),
      expected: /^Unexpected key|excess property/.test(issue.message) ? "one of the declared params" : expected
    }
  }))
}
