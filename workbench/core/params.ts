/** Decode node params once, turning Schema issues into (path, value found, expected) triples. */
import { Result, Schema } from "effect"
import type { ParamIssue } from "./errors.js"
import type { ParamsSchema } from "./node.js"

const show = (value: unknown): string => {
  if (value === undefined) return "nothing (missing)"
  const text = JSON.stringify(value)
  return text === undefined ? String(value) : text.length > 80 ? `${text.slice(0, 80)}…` : text
}

const at = (root: unknown, path: ReadonlyArray<PropertyKey>): unknown =>
  path.reduce<unknown>((v, k) => (typeof v === "object" && v !== null ? (v as Record<PropertyKey, unknown>)[k] : undefined), root)

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
