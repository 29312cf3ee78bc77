/** SQL text helpers with no DuckDB dependency, so file-only commands (`wb ls`) need not load the native module. */

/** SQL string literal. */
export const sqlString = (s: string): string => `'${s.replaceAll("'", "''")}'`
