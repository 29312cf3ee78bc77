/**
 * User SQL inside a node (transform.sql's SELECT, filter.sql's expression), checked on the parse tree
 * DuckDB itself gives (`json_serialize_sql`), never by regex, the way `wb sql`'s sandbox checks its
 * queries: exactly one SELECT; every table it reads is one of the node's inputs (by its input name) or
 * a CTE of the query; table functions only from a short allowlist, so nothing reads a file (read_csv,
 * read_parquet, glob), another table of the run (query, query_table) or the engine's state. DuckDB's
 * parser refuses anything that is not a SELECT (DDL, COPY, ATTACH, SET, PRAGMA) when serializing.
 *
 * The same check runs when the graph is built (on the schema probe) and when the node runs.
 */
import { Effect } from "effect"
import { DataError } from "../../workbench/core/errors.js"
import type { TableSchema } from "../../workbench/core/contract.js"
import type { SqlShape } from "../../workbench/core/services.js"
import { didYouMean } from "../../workbench/core/did-you-mean.js"

/** Table functions a node's SQL may call: they make rows from their arguments, and read nothing. */
export const ALLOWED_TABLE_FUNCTIONS: ReadonlySet<string> = new Set(["range", "generate_series", "unnest"])

/** What a user's text was refused for, in the house fields (where is the caller's: "param sql"). */
export interface SqlRefusal {
  readonly found: string
  readonly expected: string
  readonly fix: string
}

export type SelectCheck =
  | { readonly _tag: "Ok"; readonly star: boolean; readonly tables: ReadonlyArray<string> }
  | ({ readonly _tag: "Refused" } & SqlRefusal)

interface Tree {
  readonly error: boolean
  readonly error_message?: string
  readonly statements?: ReadonlyArray<unknown>
}

const lower = (s: string) => s.toLowerCase()

/**
 * Check DuckDB's parse tree (the JSON of `json_serialize_sql`) of a user's SELECT against the inputs it
 * may read. `star`: the query selects `*` somewhere (over an input with unlisted columns, the output has
 * unlisted ones too). `tables`: the inputs it reads.
 */
export function checkSelectTree(
  treeJson: string,
  inputs: ReadonlyArray<string>,
  example: string,
  what: "select" | "expression" = "select"
): SelectCheck {
  const tree = JSON.parse(treeJson) as Tree
  const refuse = (found: string, expected: string, fix: string): SelectCheck => ({
    _tag: "Refused",
    found,
    expected,
    fix
  })
  if (tree.error) {
    const message = tree.error_message ?? "unknown error"
    if (what === "expression") {
      return refuse(
        `a syntax error: ${message}`,
        "one SQL boolean expression over the input's columns",
        `correct the expression, e.g. ${example}`
      )
    }
    return /only SELECT statements/i.test(message)
      ? refuse(
          "a statement that is not a SELECT (DDL, COPY, ATTACH, SET, … cannot run inside a node)",
          "one SELECT statement over the node's inputs",
          `write a SELECT, e.g. ${example}`
        )
      : refuse(`a syntax error: ${message}`, "one valid SELECT statement", `correct the SQL, e.g. ${example}`)
  }
  const count = tree.statements?.length ?? 0
  if (count !== 1)
    return refuse(
      `${count} statements`,
      "exactly one SELECT statement",
      "keep one SELECT; chain nodes for several steps"
    )
  const found = { tables: new Set<string>(), other: [] as Array<string>, functions: [] as Array<string>, star: false }
  walk(tree.statements, new Set(), new Set(inputs.map(lower)), found)
  const banned = found.functions.find((f) => !ALLOWED_TABLE_FUNCTIONS.has(lower(f)))
  if (banned !== undefined) {
    return refuse(
      `table function ${banned}() is not allowed: a node reads only its inputs`,
      `the node's inputs by name (${inputs.join(", ") || "none connected"}), or one of: ${[...ALLOWED_TABLE_FUNCTIONS].join(", ")}`,
      "connect what it should read as an input (a loader for a file), and name that input in the SQL"
    )
  }
  const other = found.other[0]
  if (other !== undefined) {
    const hint = didYouMean(other, [...inputs])
    return refuse(
      `table ${other} is not an input of this node${hint ? `; ${hint}` : ""}`,
      `one of its inputs by name: ${inputs.join(", ") || "(none connected)"}`,
      `connect the table as an input under that name (\`{ ${/^[A-Za-z_][A-Za-z0-9_]*$/.test(other) ? other : "name"}: node }\`), or correct the name`
    )
  }
  return { _tag: "Ok", star: found.star, tables: [...found.tables] }
}

/** Collect base tables (outside the CTEs in scope), table functions and stars, anywhere in the tree. */
function walk(
  n: unknown,
  ctes: ReadonlySet<string>,
  inputs: ReadonlySet<string>,
  out: { tables: Set<string>; other: Array<string>; functions: Array<string>; star: boolean }
): void {
  if (Array.isArray(n)) return n.forEach((x) => walk(x, ctes, inputs, out))
  if (n === null || typeof n !== "object") return
  const o = n as Record<string, unknown>
  // a query's CTEs are in scope in the whole query, its own CTE bodies included (recursive CTEs)
  const map = (o["cte_map"] as { map?: ReadonlyArray<{ key?: unknown }> } | undefined)?.map
  const scope =
    map === undefined || map.length === 0 ? ctes : new Set([...ctes, ...map.map((m) => lower(String(m.key)))])
  if (o["type"] === "BASE_TABLE") {
    const name = String(o["table_name"])
    const qualified = o["schema_name"] !== "" || o["catalog_name"] !== ""
    if (!qualified && scope.has(lower(name))) return
    if (!qualified && inputs.has(lower(name))) out.tables.add(name)
    else
      out.other.push(qualified ? [o["catalog_name"], o["schema_name"], name].filter((x) => x !== "").join(".") : name)
    return
  }
  if (o["type"] === "TABLE_FUNCTION") {
    const fn = (o["function"] as { function_name?: unknown } | undefined)?.function_name
    out.functions.push(typeof fn === "string" ? fn : "(unknown)")
  }
  if (o["class"] === "STAR") out.star = true
  for (const v of Object.values(o)) walk(v, scope, inputs, out)
}

/** DuckDB's parse tree of `text`, as JSON, through the node's own connection (no file is touched). */
export const parseTree = (sql: SqlShape, text: string) =>
  Effect.map(
    sql.rows<{ tree: string }>("SELECT json_serialize_sql($text::VARCHAR) AS tree", { text }),
    (rows) => rows[0]!.tree
  )

/** The column a binder message says does not exist, if that is what it says. */
export function missingColumnOf(reason: string): string | undefined {
  const m =
    /Referenced column "?([^"\s]+)"? not found/.exec(reason) ??
    /does not have a column named "([^"]+)"/.exec(reason) ??
    /Referenced table "([^"]+)" not found/.exec(reason)
  return m?.[1]
}

/** The first line of an engine message, with DuckDB's position marker dropped. */
export const firstLine = (reason: string) => reason.split("\n")[0]!.trim()

const listColumns = (schema: TableSchema) =>
  `${schema.columns.map((c) => `${c.name} (${c.type})`).join(", ") || "(no known columns)"}${schema.open ? ", and columns not listed upstream" : ""}`

/**
 * A failure to bind the user's SQL over the inputs, in the house fields: the column DuckDB named, the
 * columns each input has, a close match. `reason` is DuckDB's message.
 */
export function bindRefusal(
  reason: string,
  inputs: Readonly<Record<string, TableSchema>>,
  what: "select" | "expression"
): SqlRefusal {
  const column = missingColumnOf(reason)
  const available = Object.entries(inputs)
    .map(([name, s]) => `${name}: ${listColumns(s)}`)
    .join("; ")
  const text = what === "select" ? "the SQL" : "the expression"
  if (column !== undefined) {
    const hint = didYouMean(
      column,
      Object.values(inputs).flatMap((s) => s.columns.map((c) => c.name))
    )
    return {
      found: `column ${column} does not exist (DuckDB: ${firstLine(reason)})`,
      expected: `a column of its inputs: ${available || "(no input connected)"}`,
      fix: `${hint ? `${hint} ` : ""}correct ${text}, or produce the column upstream`
    }
  }
  // DuckDB's own suggestion, for a function name or a type
  const suggestion = /Did you mean "([^"]+)"/.exec(reason)?.[1]
  return {
    found: `DuckDB cannot run it: ${firstLine(reason)}`,
    expected: `${what === "select" ? "a SELECT" : "an expression"} DuckDB can run over its inputs: ${available || "(no input connected)"}`,
    fix: `${suggestion === undefined ? "" : `did you mean "${suggestion}"? `}correct ${text}`
  }
}

/** The note for a column that only the run can check: it is not listed upstream, but may come through. */
export const deferredNote = (
  reason: string,
  inputs: Readonly<Record<string, TableSchema>>,
  reads: ReadonlyArray<string>
) => {
  const open = Object.keys(inputs).filter((n) => inputs[n]!.open && reads.some((r) => lower(r) === lower(n)))
  const column = missingColumnOf(reason) ?? "?"
  const hint = didYouMean(
    column,
    open.flatMap((n) => inputs[n]!.columns.map((c) => c.name))
  )
  return (
    `column ${column} is not among the columns ${open.join(", ")} is known to have${hint ? ` (${hint})` : ""}; ` +
    "its upstream may pass more columns through, so it is checked when the node runs"
  )
}

/** A refusal as the DataError a node fails with (at run time) or the infer phase reports (at build). */
export const refusalError = (where: string, r: SqlRefusal) =>
  new DataError({ where, found: r.found, expected: r.expected, fix: r.fix })

/**
 * Output columns that share a name (DuckDB compares names without case). A table made from such a
 * SELECT would get renamed columns (x, x_1) with nothing said, so the node refuses it instead.
 */
export function duplicateRefusal(columns: ReadonlyArray<{ readonly name: string }>): SqlRefusal | undefined {
  const seen = new Set<string>()
  const twice = columns.find((c) => {
    const again = seen.has(lower(c.name))
    seen.add(lower(c.name))
    return again
  })
  return twice === undefined
    ? undefined
    : {
        found: `the SELECT gives column ${twice.name} more than once (names are compared without case)`,
        expected: "one output column per name: tables are stored and read by column name",
        fix: `alias one of them, e.g. \`b.${twice.name} as ${twice.name}_2\`, or list the columns instead of \`*\``
      }
}

/** `text` with trailing semicolons and blanks removed (a pasted query often ends with one). */
export const trimStatement = (text: string) => text.replace(/[\s;]+$/, "")

/** Whether any input is `open` (may hold columns its upstream does not list). */
export const anyOpen = (inputs: Readonly<Record<string, TableSchema>>, names?: ReadonlyArray<string>) =>
  Object.entries(inputs).some(([n, s]) => s.open && (names === undefined || names.some((x) => lower(x) === lower(n))))
