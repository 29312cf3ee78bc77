/**
 * Errors as data: what a failed node or command reports, in a form that crosses a process boundary
 * (NDJSON, the server, the browser) unchanged. A tagged error keeps its tag, its rendered message and,
 * when it has them, the where / found / expected / fix fields the house message is built from. A bug
 * (a defect: a thrown TypeError, a broken contract function) is never shown as a stack: it becomes an
 * InternalError with a short id and the path of the log file holding the full trace.
 */
import { Schema } from "effect"

/** A tagged error of the engine or of a node family (DataError, SqlError, a judge's own error, …). */
export const ErrorData = Schema.Struct({
  /** The error's `_tag`, e.g. "DataError". */
  _tag: Schema.String,
  /** The rendered message: where, what was found, what was expected, what to do. */
  message: Schema.String,
  where: Schema.optionalKey(Schema.String),
  found: Schema.optionalKey(Schema.String),
  expected: Schema.optionalKey(Schema.String),
  fix: Schema.optionalKey(Schema.String)
}).annotate({ identifier: "ErrorData" })
export type ErrorData = typeof ErrorData.Type

/** A bug, not a problem with the user's data or pipeline: the id names the log with the trace. */
export const InternalErrorData = Schema.TaggedStruct("InternalError", {
  /** Short id, also the log file's name: `<workspace>/logs/<id>.log`. */
  id: Schema.String,
  /** The defect's own message (no stack), e.g. "TypeError: Cannot read properties of undefined". */
  message: Schema.String,
  /** Where the full trace is: the log file's path. */
  log: Schema.String
}).annotate({ identifier: "InternalErrorData" })
export type InternalErrorData = typeof InternalErrorData.Type

/** Why a node failed. InternalError is tried first: ErrorData's tag is any string. */
export const FailureData = Schema.Union([InternalErrorData, ErrorData])
export type FailureData = typeof FailureData.Type

export const isInternalError = (f: FailureData): f is InternalErrorData =>
  f._tag === "InternalError" && "id" in f && "log" in f

/** Fields of an error that are its data, not its machinery. */
const NOT_DATA = new Set(["_tag", "message", "name", "stack", "cause"])

/**
 * An error's message; for one without (a `Schema.TaggedError` whose author did not override
 * `message`), its tag and fields, and a note saying so, so that a failure never reads as a blank.
 */
export function errorMessage(e: { readonly _tag: string; readonly message: string }): string {
  if (typeof e.message === "string" && e.message.trim() !== "") return e.message
  const data = Object.fromEntries(Object.entries(e).filter(([k]) => !NOT_DATA.has(k)))
  let fields: string
  try {
    fields = JSON.stringify(data, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v))
  } catch {
    fields = "{…}"
  }
  return (
    `${e._tag} ${fields} (this error has no message: give ${e._tag} a \`message\` that says where, ` +
    "what was found, what was expected and what to do)"
  )
}

/** The data of any error-like value: its tag, message and house fields when present. */
export function errorData(e: { readonly _tag: string; readonly message: string }): ErrorData {
  const fields = e as unknown as Record<string, unknown>
  const text = (key: "where" | "found" | "expected" | "fix") =>
    typeof fields[key] === "string" ? { [key]: fields[key] as string } : {}
  return {
    _tag: e._tag,
    message: errorMessage(e),
    ...text("where"),
    ...text("found"),
    ...text("expected"),
    ...text("fix")
  }
}
