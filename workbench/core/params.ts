/**
 * Node params: `param()` declares one with its default and its doc; `decodeParams` decodes them once,
 * turning Schema issues into (path, value found, expected) triples.
 */
import { Effect, Result, Schema, type SchemaAST } from "effect"
import { closeMatches } from "./did-you-mean.js"
import type { ParamIssue } from "./errors.js"
import type { ParamsSchema } from "./node.js"

const show = (value: unknown): string => {
  if (value === undefined) return "nothing (missing)"
  const text = JSON.stringify(value)
  return text === undefined ? String(value) : text.length > 80 ? `${text.slice(0, 80)}…` : text
}

const at = (root: unknown, path: ReadonlyArray<PropertyKey>): unknown =>
  path.reduce<unknown>(
    (v, k) => (typeof v === "object" && v !== null ? (v as Record<PropertyKey, unknown>)[k] : undefined),
    root
  )

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

/** The struct(s) an AST stands for: itself, or the struct members of a union (`X | null`). */
const structsOf = (ast: SchemaAST.AST): Array<SchemaAST.Objects> => {
  if (ast._tag === "Suspend") return structsOf(ast.thunk())
  if (ast._tag === "Objects") return [ast]
  if (ast._tag === "Union") return ast.types.flatMap(structsOf)
  return []
}

/** The param names declared at `path` (the struct holding an unknown key), in declaration order. */
function declaredAt(schema: ParamsSchema, path: ReadonlyArray<PropertyKey>): Array<string> {
  let level = structsOf(schema.ast)
  for (const key of path) {
    level = level.flatMap((o) =>
      o.propertySignatures.filter((ps) => ps.name === key).flatMap((ps) => structsOf(ps.type))
    )
  }
  return [...new Set(level.flatMap((o) => o.propertySignatures.map((ps) => String(ps.name))))]
}

/** What an unknown param should have been: the names declared beside it, and the closest ones. */
function unknownParamExpected(schema: ParamsSchema, path: ReadonlyArray<PropertyKey>): string {
  const known = declaredAt(schema, path.slice(0, -1))
  if (known.length === 0) return "one of the declared params"
  const close = closeMatches(String(path.at(-1) ?? ""), known)
  return (
    `one of the declared params: ${known.join(", ")}` +
    (close.length === 0 ? "" : `; did you mean ${close.map((k) => `"${k}"`).join(" or ")}?`)
  )
}

export function decodeParams(schema: ParamsSchema, raw: unknown): Result.Result<unknown, ReadonlyArray<ParamIssue>> {
  const standard = Schema.toStandardSchemaV1(schema, { parseOptions: { errors: "all", onExcessProperty: "error" } })
  const out = standard["~standard"].validate(raw)
  if (out instanceof Promise) {
    return Result.fail([{ path: "", value: show(raw), expected: "params that decode without services" }])
  }
  if (out.issues === undefined) return Result.succeed(out.value)
  return Result.fail(
    out.issues.map((issue) => {
      const path = (issue.path ?? []).map((p) => (typeof p === "object" && p !== null && "key" in p ? p.key : p))
      const unknown = /^Unexpected key|excess property/.test(issue.message)
      return {
        path: path.map(String).join("."),
        value: unknown ? "an unknown param" : show(at(raw, path)),
        expected: unknown ? unknownParamExpected(schema, path) : issue.message.replace(/^Expected /, "")
      }
    })
  )
}
