/**
 * A node's input in DuckDB SQL: the upstream artifact's table, or several tables unioned by column
 * name, with `_wb_row` numbering for the `numbered` relation. Columns the tables share under one name
 * but not one type are read as text, so the union cannot fail at run time.
 */
import { Effect, Layer } from "effect"
import { type AssembledInput, InputAssembly, type InputPart } from "../core/input-assembly.js"
import { ArtifactStore } from "../core/services.js"

const NUMERIC = new Set(["int32", "int64", "float64"])

const columnsOf = (p: InputPart) => p.manifest.tables[p.table]?.columns ?? []

/**
 * Columns that several tables of one input share under one name but not one type. Numbers widen by
 * themselves in a union; any other disagreement (JSON here, text there) would fail it at run time.
 */
export function typeClashes(tables: ReadonlyArray<ReadonlyArray<{ readonly name: string; readonly type: string }>>) {
  const types = new Map<string, Set<string>>()
  for (const columns of tables) for (const c of columns) types.set(c.name, (types.get(c.name) ?? new Set()).add(c.type))
  return [...types]
    .filter(([, t]) => t.size > 1 && ![...t].every((x) => NUMERIC.has(x)))
    .map(([name, t]) => ({ name, types: [...t].sort() }))
}

/** One table of a union, with the clashing columns it has cast to text. */
function selectAsText(
  relation: string,
  clashes: ReadonlyArray<{ readonly name: string }>,
  columns: ReadonlyArray<{ readonly name: string }>
) {
  const own = clashes.filter((c) => columns.some((x) => x.name === c.name))
  // always quoted: a column may be named like a keyword
  const quoted = (n: string) => `"${n.replaceAll('"', '""')}"`
  return own.length === 0
    ? `SELECT * FROM ${relation}`
    : `SELECT * REPLACE (${own.map((c) => `${quoted(c.name)}::VARCHAR AS ${quoted(c.name)}`).join(", ")}) FROM ${relation}`
}

/** Needs the ArtifactStore, which knows where each artifact's files are. */
export const InputAssemblyLive = Layer.effect(
  InputAssembly,
  Effect.gen(function* () {
    const store = yield* ArtifactStore
    return InputAssembly.of({
      assemble: (sql, parts) =>
        Effect.gen(function* () {
          const clashes = typeClashes(parts.map(columnsOf))
          const union = (relationOf: (p: InputPart, i: number) => string) =>
            parts.length === 1
              ? relationOf(parts[0]!, 0)
              : `(${parts.map((p, i) => selectAsText(relationOf(p, i), clashes, columnsOf(p))).join(" UNION ALL BY NAME ")})`
          const relation = union((p) => store.relation(p.manifest, p.table))
          const numbered = union((p, i) => store.numberedRelation(p.manifest, p.table, i))
          const schema = yield* sql.describe(relation)
          const rows = parts.reduce((s, p) => s + (p.manifest.tables[p.table]?.rows ?? 0), 0)
          return { table: { relation, numbered, schema, rows }, readAsText: clashes } satisfies AssembledInput
        })
    })
  })
)
