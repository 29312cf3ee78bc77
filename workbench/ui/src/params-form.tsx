/**
 * A node's params as a form generated from their JSON Schema: enums as selects, booleans as checkboxes,
 * numbers checked against their bounds before anything is sent, nested objects as fieldsets. A change
 * is saved at once (POST …/params, which checks it as `wb run --set` would); the server's refusal, or
 * the bounds check, shows inline under the field.
 */
import { useEffect, useState } from "preact/hooks"
import { ApiError, pipelinePath, postJson } from "./api.ts"
import type { GraphNode, JsonSchema, ParamDoc } from "./types.ts"

type Field =
  | { readonly kind: "enum"; readonly options: ReadonlyArray<string | number> }
  | { readonly kind: "boolean" }
  | { readonly kind: "number"; readonly integer: boolean; readonly schema: JsonSchema }
  | { readonly kind: "string" }
  | { readonly kind: "json" }
  | { readonly kind: "object"; readonly properties: Readonly<Record<string, JsonSchema>> }

/** What widget a schema gets. `number | "NaN" | "Infinity"` (how Schema writes a finite-or-not number) is a number. */
export function fieldOf(s: JsonSchema): Field {
  if (s.enum) return { kind: "enum", options: s.enum }
  if (s.anyOf) {
    const numeric = s.anyOf.find((a) => a.type === "number" || a.type === "integer")
    if (numeric && s.anyOf.every((a) => a === numeric || a.enum !== undefined))
      return { kind: "number", integer: numeric.type === "integer", schema: numeric }
    return { kind: "json" }
  }
  if (s.type === "boolean") return { kind: "boolean" }
  if (s.type === "number" || s.type === "integer") return { kind: "number", integer: s.type === "integer", schema: s }
  if (s.type === "string") return { kind: "string" }
  if (s.type === "object" && s.properties) return { kind: "object", properties: s.properties }
  return { kind: "json" }
}

/** The bounds check done before a number is sent: a sentence, or undefined when it is fine. */
export function numberProblem(text: string, integer: boolean, s: JsonSchema): string | undefined {
  const v = Number(text)
  if (text.trim() === "" || !Number.isFinite(v)) return `"${text}" is not a number`
  if (integer && !Number.isInteger(v)) return `${v} is not a whole number`
  if (s.minimum !== undefined && v < s.minimum) return `${v} is below the minimum ${s.minimum}`
  if (s.maximum !== undefined && v > s.maximum) return `${v} is above the maximum ${s.maximum}`
  if (s.exclusiveMinimum !== undefined && v <= s.exclusiveMinimum) return `${v} must be above ${s.exclusiveMinimum}`
  if (s.exclusiveMaximum !== undefined && v >= s.exclusiveMaximum) return `${v} must be below ${s.exclusiveMaximum}`
  return undefined
}

const at = (obj: unknown, path: ReadonlyArray<string>): unknown =>
  path.reduce<unknown>(
    (o, k) => (o !== null && typeof o === "object" ? (o as Record<string, unknown>)[k] : undefined),
    obj
  )

interface Props {
  readonly pipeline: string
  readonly node: GraphNode
  readonly onSaved: () => void
}

export function ParamsForm({ pipeline, node, onSaved }: Props) {
  const props = node.paramsSchema?.properties
  if (!props) return <p class="muted">no params</p>
  const docs = new Map(node.paramsDoc.map((d) => [d.path, d]))
  return (
    <div class="params">
      {Object.entries(props).map(([k, s]) => (
        <ParamField key={k} path={[k]} schema={s} {...{ pipeline, node, onSaved, docs }} />
      ))}
    </div>
  )
}

interface FieldProps extends Props {
  readonly path: ReadonlyArray<string>
  readonly schema: JsonSchema
  readonly docs: Map<string, ParamDoc>
}

function ParamField({ pipeline, node, onSaved, docs, path, schema }: FieldProps) {
  const [error, setError] = useState<string | undefined>()
  const [busy, setBusy] = useState(false)
  // the value just chosen, shown while it is saved (the graph, and so `value`, refreshes after)
  const [pending, setPending] = useState<unknown>(undefined)
  const field = fieldOf(schema)
  const dotted = path.join(".")
  const value = at(node.params, path)
  useEffect(() => setPending(undefined), [value])
  const doc = docs.get(dotted)
  if (field.kind === "object") {
    return (
      <details class="param-group">
        <summary>{path[path.length - 1]}</summary>
        {Object.entries(field.properties).map(([k, s]) => (
          <ParamField key={k} path={[...path, k]} schema={s} {...{ pipeline, node, onSaved, docs }} />
        ))}
      </details>
    )
  }
  const save = async (v: unknown) => {
    setPending(v)
    setBusy(true)
    try {
      await postJson(`${pipelinePath(pipeline)}/params`, { node: node.name, param: dotted, value: v })
      setError(undefined)
      onSaved()
    } catch (e) {
      setPending(undefined)
      setError(e instanceof ApiError ? e.message : String(e))
    } finally {
      setBusy(false)
    }
  }
  const commitText = (text: string) => {
    if (field.kind === "number") {
      const problem = numberProblem(text, field.integer, field.schema)
      return problem ? setError(problem) : save(Number(text))
    }
    if (field.kind === "json") {
      try {
        return save(JSON.parse(text))
      } catch {
        return save(text) // a plain string (a path, say) needs no quotes
      }
    }
    return save(text)
  }
  const name = `${node.name}.${dotted}`
  const id = `param-${name}`
  let input: preact.JSX.Element
  if (field.kind === "enum") {
    input = (
      <select
        id={id}
        name={name}
        disabled={busy}
        value={String(pending ?? value)}
        onChange={(e) => save(e.currentTarget.value)}
      >
        {field.options.map((o) => (
          <option key={String(o)} value={String(o)}>
            {String(o)}
          </option>
        ))}
      </select>
    )
  } else if (field.kind === "boolean") {
    input = (
      <input
        type="checkbox"
        id={id}
        name={name}
        disabled={busy}
        checked={(pending ?? value) === true}
        onChange={(e) => save(e.currentTarget.checked)}
      />
    )
  } else {
    const shown =
      field.kind === "json" && typeof value !== "string" ? JSON.stringify(value ?? null) : String(value ?? "")
    input = (
      <input
        type="text"
        id={id}
        name={name}
        disabled={busy}
        value={shown}
        class={field.kind === "number" ? "num" : ""}
        onChange={(e) => commitText(e.currentTarget.value)}
      />
    )
  }
  return (
    <div class={`param${error ? " invalid" : ""}`} data-param={dotted}>
      <label for={id} title={doc?.description ?? schema.description ?? ""}>
        <span class="pname">
          {path[path.length - 1]}
          {doc?.required ? " *" : ""}
        </span>
        {input}
      </label>
      {error && <div class="param-error">{error}</div>}
    </div>
  )
}
