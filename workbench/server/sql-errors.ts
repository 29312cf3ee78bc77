/**
 * DuckDB's errors for a SQL cell or a table filter, in the house style (where / found / expected / fix).
 * DuckDB says what is wrong ("Referenced column "x" not found in FROM clause!") but not what exists
 * under the names the user sees, and a sandbox refusal of a syntax error has lost DuckDB's position.
 * So: an unknown column lists the columns of the tables the query names, an unknown table lists the
 * pipeline's tables, a syntax error shows the spot with a caret. Anything else passes through as it was.
 */
import { Effect } from "effect"
import { closeMatches } from "../core/did-you-mean.js"
import { HttpProblem } from "./project.js"
import type { Reader } from "./reader.js"

export interface KnownTable {
  /** As the query names it: "clean", "clean.removed" (or the filter's table). */
  readonly name: string
  readonly columns: ReadonlyArray<string>
}

export interface ExplainedSqlError {
  readonly where: string
  readonly found: string
  readonly expected: string
  readonly fix: string
  readonly message: string
}

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`
const list = (names: ReadonlyArray<string>, max = 40) =>
  names.length === 0
    ? "(none)"
    : names.slice(0, max).map(quote).join(", ") + (names.length > max ? `, … (${names.length - max} more)` : "")
const suggest = (name: string, known: ReadonlyArray<string>, otherwise: string) => {
  const m = closeMatches(name, known)
  return m.length === 0 ? otherwise : `did you mean ${m.map(quote).join(" or ")}?`
}

/** The tables the query names (quoted or bare words), in the order of `tables`; all of them when none matches. */
export function tablesNamedIn(sql: string, tables: ReadonlyArray<KnownTable>): Array<KnownTable> {
  const quoted = new Set([...sql.matchAll(/"((?:[^"]|"")+)"/g)].map((m) => m[1]!.replaceAll('""', '"')))
  // bare words outside quotes and string literals ("clean.removed" does not name "clean")
  const rest = sql.replace(/"(?:[^"]|"")*"|'(?:[^']|'')*'/g, " ")
  const named = tables.filter(
    (t) => quoted.has(t.name) || (/^[A-Za-z_]\w*$/.test(t.name) && new RegExp(`\\b${t.name}\\b`, "i").test(rest))
  )
  return named.length > 0 ? named : [...tables]
}

/** Line and column (1-based) of a 0-based character offset, and the line with a caret under the spot. */
export function pointAt(sql: string, offset: number): { line: number; column: number; excerpt: string } {
  const before = sql.slice(0, Math.max(0, Math.min(offset, sql.length)))
  const line = before.split("\n").length
  const start = before.lastIndexOf("\n") + 1
  const end = sql.indexOf("\n", start)
  const text = sql.slice(start, end === -1 ? undefined : end)
  const column = before.length - start + 1
  return { line, column, excerpt: `${text}\n${" ".repeat(column - 1)}^` }
}

const done = (e: Omit<ExplainedSqlError, "message">): ExplainedSqlError => ({
  ...e,
  message: `${e.where}: ${e.found}\n  expected: ${e.expected}\n  fix: ${e.fix}`
})

/**
 * `error` is DuckDB's message (or a sandbox refusal's `found`); `position` the offset of a syntax error
 * (json_serialize_sql's `position`) when known. `label` names the place ("SQL cell", "filter").
 */
export function explainSqlError(
  error: string,
  context: {
    readonly sql: string
    readonly label: string
    readonly tables: ReadonlyArray<KnownTable>
    readonly position?: number | undefined
  }
): ExplainedSqlError | undefined {
  const { sql, label, tables } = context
  const column = /Referenced column "([^"]+)" not found/.exec(error)
  if (column !== null) {
    const named = tablesNamedIn(sql, tables)
    const columns = [...new Set(named.flatMap((t) => t.columns))]
    return done({
      where: `${label}: column ${quote(column[1]!)}`,
      found: `no column ${quote(column[1]!)} in ${named.map((t) => quote(t.name)).join(", ") || "the query's tables"}`,
      expected: named.map((t) => `a column of ${quote(t.name)}: ${list(t.columns)}`).join("; "),
      fix: suggest(column[1]!, columns, "use one of the columns listed (double-quote names with capitals or spaces)")
    })
  }
  const alias = /Referenced table "([^"]+)" not found!(?:\s*Candidate tables: ([^\n]*))?/.exec(error)
  if (alias !== null) {
    return done({
      where: `${label}: ${quote(alias[1]!)}.…`,
      found: `no table or alias ${quote(alias[1]!)} in the query's FROM clause`,
      expected: `one of the names the FROM clause gives: ${alias[2]?.trim() || "(none)"}`,
      fix: `qualify the column with one of those names, or add ${quote(alias[1]!)} to the FROM clause`
    })
  }
  const table = /Table with name (.+?) does not exist!/.exec(error)
  if (table !== null) {
    const name = table[1]!.replace(/^"(.*)"$/, "$1")
    const names = tables.map((t) => t.name)
    return done({
      where: `${label}: table ${quote(name)}`,
      found: `no table ${quote(name)}`,
      expected: `one of the pipeline's tables (a node's main table, or "node.table"): ${list(names)}; a node that has not run has none`,
      fix: suggest(name, names, 'name a table listed; quote names with a dot, e.g. select * from "clean.removed"')
    })
  }
  const syntax = /syntax error at or near (.+?)(?:\n|$)/.exec(error) ?? /syntax error at end of input/.exec(error)
  if (syntax !== null) {
    const offset = context.position ?? (syntax[1] === undefined ? sql.length : undefined)
    const near = syntax[1] === undefined ? "the end of the query" : syntax[1]
    const at = offset === undefined ? undefined : pointAt(sql, offset)
    return done({
      where: at === undefined ? `${label}` : `${label}, line ${at.line}, column ${at.column}`,
      found: `a syntax error at or near ${near}${at === undefined ? "" : `\n${at.excerpt}`}`,
      expected: "one valid SELECT statement",
      fix:
        at === undefined
          ? "correct the query near that word"
          : `correct the query at the ^ (line ${at.line}, column ${at.column})`
    })
  }
  const fn = /(Scalar|Aggregate|Table) Function with name (\S+) does not exist!(?:\s*Did you mean "([^"]+)"\?)?/.exec(
    error
  )
  if (fn !== null) {
    return done({
      where: `${label}: function ${fn[2]}()`,
      found: `no ${fn[1]!.toLowerCase()} function named ${fn[2]}`,
      expected: "a DuckDB function (https://duckdb.org/docs/sql/functions/overview)",
      fix: fn[3] === undefined ? "check the function's name" : `did you mean ${fn[3]}()?`
    })
  }
  return undefined
}

/**
 * Offset of the syntax error in `sql`, from DuckDB's own parser (json_serialize_sql's `position`), on
 * the server's reader; undefined when DuckDB gives none. `prefix` is text the query was wrapped in.
 */
export const syntaxPosition = (reader: Reader, sql: string, prefix = "") =>
  reader.rows("SELECT json_serialize_sql($s::VARCHAR) AS j", { s: prefix + sql }).pipe(
    Effect.map((rows) => {
      const ast = JSON.parse(String(rows[0]?.["j"] ?? "{}")) as { position?: unknown }
      const at = ast.position === undefined || ast.position === null ? Number.NaN : Number(ast.position)
      return Number.isFinite(at) ? Math.max(0, at - prefix.length) : undefined
    }),
    Effect.orElseSucceed(() => undefined)
  )

/** A 400 problem about a query, explained (explainSqlError) when DuckDB's text is one of the common ones. */
export const explainProblem = (
  reader: Reader,
  problem: HttpProblem,
  context: {
    readonly sql: string
    readonly label: string
    readonly tables: ReadonlyArray<KnownTable>
    readonly prefix?: string
  }
) =>
  Effect.gen(function* () {
    if (problem.status !== 400) return problem
    const text = [problem.body["message"], problem.body["found"]].filter((x) => typeof x === "string").join("\n")
    const position = /syntax error/.test(text) ? yield* syntaxPosition(reader, context.sql, context.prefix) : undefined
    const explained = explainSqlError(text, { ...context, position })
    return explained === undefined
      ? problem
      : new HttpProblem(400, { error: String(problem.body["error"] ?? "refused"), ...explained })
  })
