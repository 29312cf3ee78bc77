/**
 * Column types as the engine speaks them. Adapters map their own type names (DuckDB's VARCHAR,
 * Arrow's Utf8) onto these, so contracts never mention a storage engine.
 */
export type ColumnType =
  | "utf8"
  | "int32"
  | "int64"
  | "float64"
  | "bool"
  | "json"
  | "timestamp"
  | "list<utf8>"
  /** lists of 32-bit integers (DuckDB INTEGER[]): hashed feature ids */
  | "list<int32>"
  /** lists of 32-bit floats (DuckDB FLOAT[]): embeddings */
  | "list<float32>"
  /** raw bytes (DuckDB BLOB): model weights and other opaque payloads */
  | "blob"
  | "any"
  | (string & { readonly __other?: never })

const families: Record<string, string> = {
  utf8: "text",
  json: "text",
  int32: "integer",
  int64: "integer",
  float64: "float",
  bool: "bool",
  timestamp: "timestamp"
}

/** Whether a column of type `found` satisfies a contract that asks for `expected`. */
export function isAssignable(found: ColumnType, expected: ColumnType): boolean {
  if (expected === "any" || found === expected) return true
  const f = families[found],
    e = families[expected]
  if (f !== undefined && f === e) return true
  // integers widen to floats without loss for the ranges preference data uses (ranks, counts)
  return e === "float" && f === "integer"
}
