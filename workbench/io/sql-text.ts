/** SQL text helpers with no DuckDB dependency, so file-only commands (`wb ls`) need not load the native module. */

/** SQL string literal. */
export const sqlString = (s: string): string => `'${s.replaceAll("'", "''")}'`

/** SQL identifier, quoted when it is not a plain lower-case name. */
export const sqlIdentifier = (s: string): string => (/^[a-z_][a-z0-9_]*$/.test(s) ? s : `"${s.replaceAll('"', '""')}"`)
