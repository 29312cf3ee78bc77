/**
 * @duckdb/node-api for the workbench's io modules, loaded with `require`. The package is CommonJS
 * (~60 files): imported as an ES module, Node first scans every one of its files for export names
 * (cjs-module-lexer), ~0.13 s of CPU on every `wb run`, `show` and `sql`. Import DuckDB from here,
 * not from "@duckdb/node-api" (types may come from either); add a name below when a module needs one.
 */
import type * as Api from "@duckdb/node-api"
import { createRequire } from "node:module"

const api = createRequire(import.meta.url)("@duckdb/node-api") as typeof Api

export const DuckDBInstance = api.DuckDBInstance
export type DuckDBInstance = Api.DuckDBInstance
export const JSDuckDBValueConverter = api.JSDuckDBValueConverter
export const StatementType = api.StatementType
export type StatementType = Api.StatementType
export const quotedIdentifier = api.quotedIdentifier
export const quotedString = api.quotedString
export const LIST = api.LIST
export const INTEGER = api.INTEGER
export const FLOAT = api.FLOAT
export const BIGINT = api.BIGINT
export const BLOB = api.BLOB
export const BOOLEAN = api.BOOLEAN
export const DOUBLE = api.DOUBLE
export const VARCHAR = api.VARCHAR
export const DuckDBVarCharType = api.DuckDBVarCharType
export const DuckDBDataChunk = api.DuckDBDataChunk
export type DuckDBDataChunk = Api.DuckDBDataChunk
export const blobValue = api.blobValue
export type { DuckDBConnection, DuckDBValue } from "@duckdb/node-api"
