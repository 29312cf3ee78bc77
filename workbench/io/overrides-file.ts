/**
 * Param overrides kept in a file beside a TypeScript pipeline (`pipelines/x.ts.overrides.json`), written
 * when a param is edited in `wb serve`: a TS file cannot be rewritten safely, so the edit lives here and
 * every command that opens the pipeline (`wb run`, `show`, `sql`, `ls`, the server) applies it exactly
 * like `--set node.param=value` (core/param-overrides.ts), before its own `--set` flags. `wb run` says
 * when overrides are active. Delete the file to drop them.
 *
 * Shape: `{ "set": { "clean.threshold": 0.9, "hh.path": "data/x.jsonl" } }` (values as JSON).
 */
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs"
import { DataError } from "../core/errors.js"

export const overridesFileOf = (pipelinePath: string) => `${pipelinePath}.overrides.json`

export interface OverridesFile {
  readonly file: string
  /** As `--set` texts: `node.param=<JSON value>`. */
  readonly set: ReadonlyArray<string>
  readonly values: Readonly<Record<string, unknown>>
}

const NOTE =
  "param overrides written by wb serve; every wb command applies them like --set node.param=value. Delete this file to drop them."

/** The overrides beside `pipelinePath` (absolute), undefined when there is no file. */
export function readOverridesFile(pipelinePath: string): OverridesFile | DataError | undefined {
  const file = overridesFileOf(pipelinePath)
  if (!existsSync(file)) return undefined
  let values: unknown
  try {
    values = (JSON.parse(readFileSync(file, "utf8")) as { set?: unknown }).set
  } catch (e) {
    return new DataError({
      where: `overrides file ${file}`,
      found: `it is not valid JSON: ${e instanceof Error ? e.message : String(e)}`,
      expected: '{ "set": { "node.param": value } }',
      fix: "correct the file, or delete it to drop the overrides"
    })
  }
  if (values === null || typeof values !== "object" || Array.isArray(values)) {
    return new DataError({
      where: `overrides file ${file}`,
      found: `"set" is ${JSON.stringify(values) ?? "missing"}`,
      expected: '{ "set": { "node.param": value } }',
      fix: "correct the file, or delete it to drop the overrides"
    })
  }
  const record = values as Record<string, unknown>
  return { file, values: record, set: Object.entries(record).map(([k, v]) => `${k}=${JSON.stringify(v)}`) }
}

/** Set (or, with `value` undefined, remove) one override; the file is replaced atomically, removed when empty. */
export function writeOverride(pipelinePath: string, target: string, value: unknown): string {
  const file = overridesFileOf(pipelinePath)
  const current = readOverridesFile(pipelinePath)
  const values = { ...(current instanceof DataError || current === undefined ? {} : current.values) }
  if (value === undefined) delete values[target]
  else values[target] = value
  if (Object.keys(values).length === 0) {
    rmSync(file, { force: true })
    return file
  }
  const tmp = `${file}.tmp-${process.pid}`
  writeFileSync(tmp, `${JSON.stringify({ "//": NOTE, set: values }, null, 2)}\n`)
  renameSync(tmp, file)
  return file
}
