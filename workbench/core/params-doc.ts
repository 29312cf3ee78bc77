/**
 * A node's params, documented from its Schema: each param (nested structs flattened to `a.b`) with its
 * type, whether it is required, its default and its description.
 *
 * Why not `Schema.toJsonSchemaDocument`: it describes the JSON codec and drops what `wb nodes` must
 * show. Decoding defaults (`withDecodingDefaultKey`) do not appear at all, and a description on a
 * field with a default is lost. So this walks the Schema AST, and finds each default by decoding the
 * field alone from an empty object, which runs the schema's own default logic.
 */
import { Result, Schema, SchemaAST } from "effect"

export interface ParamDoc {
  readonly path: string
  readonly type: string
  readonly required: boolean
  /** Present when the param has a default; the value as JSON. */
  readonly default?: string
  readonly description?: string
}

/** Every param of a params schema, parents before their fields. */
export function describeParams(schema: Schema.Top): Array<ParamDoc> {
  const out: Array<ParamDoc> = []
  walkObject(schema.ast, "", out)
  return out
}

function walkObject(ast: SchemaAST.AST, prefix: string, out: Array<ParamDoc>) {
  const objects = unwrap(ast)
  if (objects._tag !== "Objects") return
  for (const ps of objects.propertySignatures) {
    const path = `${prefix}${String(ps.name)}`
    const fallback = defaultOf(ps)
    const description = SchemaAST.resolveDescription(ps.type)
    out.push({
      path,
      type: typeText(ps.type),
      required: fallback === undefined && !SchemaAST.isOptional(SchemaAST.toEncoded(ps.type)),
      ...(fallback === undefined ? {} : { default: fallback }),
      ...(description === undefined ? {} : { description })
    })
    if (unwrap(ps.type)._tag === "Objects" && (unwrap(ps.type) as SchemaAST.Objects).propertySignatures.length > 0) {
      walkObject(ps.type, `${path}.`, out)
    }
  }
}

const unwrap = (ast: SchemaAST.AST): SchemaAST.AST => (ast._tag === "Suspend" ? unwrap(ast.thunk()) : ast)

/** The field's default, found by decoding `{}` with a struct of that field alone. */
function defaultOf(ps: SchemaAST.PropertySignature): string | undefined {
  const single = Schema.make(new SchemaAST.Objects([ps], [])) as Schema.ConstraintDecoder<unknown>
  let decoded: Result.Result<unknown, unknown>
  try {
    decoded = Schema.decodeUnknownResult(single)({})
  } catch {
    return undefined // a default that needs services or async work: not shown
  }
  if (Result.isFailure(decoded)) return undefined
  const value = decoded.success as Record<PropertyKey, unknown>
  return ps.name in value ? (JSON.stringify(value[ps.name]) ?? String(value[ps.name])) : undefined
}

/** A short type text: "integer (a value greater than 0)", "\"a\" | \"b\"", "array of string". */
export function typeText(ast: SchemaAST.AST): string {
  const expected = (ast.checks ?? []).flatMap(checkTexts)
  const isInt = expected.includes("an integer")
  const base = isInt && ast._tag === "Number" ? "integer" : baseText(ast)
  const rest = expected.filter((e) => !(isInt && e === "an integer")).map((e) => e.replace(/^a value /, ""))
  return rest.length === 0 ? base : `${base} (${rest.join(", ")})`
}

function checkTexts(check: SchemaAST.Check<any>): Array<string> {
  const own = check.annotations?.expected
  if (typeof own === "string") return [own]
  return check._tag === "FilterGroup" ? check.checks.flatMap(checkTexts) : []
}

function baseText(ast: SchemaAST.AST): string {
  switch (ast._tag) {
    case "String":
    case "TemplateLiteral":
      return "string"
    case "Number":
      return "number"
    case "Boolean":
      return "boolean"
    case "BigInt":
      return "bigint"
    case "Null":
      return "null"
    case "Undefined":
    case "Void":
      return "undefined"
    case "Literal":
      return JSON.stringify(ast.literal) ?? String(ast.literal)
    case "Enum":
      return ast.enums.map(([, v]) => JSON.stringify(v)).join(" | ")
    case "Union":
      return [...new Set(ast.types.map(typeText))].join(" | ")
    case "Arrays":
      if (ast.elements.length === 0 && ast.rest.length === 1) return `array of ${typeText(ast.rest[0]!)}`
      return `[${[...ast.elements, ...ast.rest].map(typeText).join(", ")}]`
    case "Objects":
      if (ast.propertySignatures.length === 0 && ast.indexSignatures.length === 1) {
        return `record of ${typeText(ast.indexSignatures[0]!.type)}`
      }
      return "object"
    case "Suspend":
      return typeText(ast.thunk())
    case "Declaration":
      return SchemaAST.resolveIdentifier(ast) ?? "value"
    default:
      return ast._tag.toLowerCase()
  }
}
