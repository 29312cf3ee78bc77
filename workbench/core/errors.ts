/**
 * Tagged errors of the engine. They carry data (node, column, expected, found); `message` renders
 * them in the house order: where, what was found, what was expected, what to do.
 */
import { Data } from "effect"
import type { ColumnSpec } from "./contract.js"
import { didYouMean } from "./did-you-mean.js"

const listColumns = (cols: ReadonlyArray<ColumnSpec>) =>
  cols.length === 0 ? "(no columns)" : cols.map((c) => `${c.name} (${c.type})`).join(", ")

export class UnknownNodeKindError extends Data.TaggedError("UnknownNodeKindError")<{
  readonly node: string
  readonly kind: string
  readonly known: ReadonlyArray<string>
}> {
  override get message() {
    const hint = didYouMean(this.kind, this.known)
    // the kinds of the same family when there are some: the whole list is long once libraries add theirs
    const family = this.kind.split(".")[0]
    const same = this.known.filter((k) => k.split(".")[0] === family)
    const known =
      same.length > 0 && same.length < this.known.length
        ? `known ${family}.* kinds: ${same.join(", ")} (\`wb nodes\` lists every kind)`
        : `known kinds: ${this.known.join(", ") || "(none)"}`
    // a family wb does not know, and nothing close: most likely the project's own kind, not registered
    const tsName = (this.kind.split(".").slice(1).join(".") || this.kind).replace(/[-_.]+(\w)/g, (_, c: string) =>
      c.toUpperCase()
    )
    const fix =
      same.length === 0 && !hint
        ? "correct the kind; for a kind of your own, register it in wb.config.ts at the project root " +
          `(export default defineConfig({ nodes: { ${family}: { ${tsName} } } }), see docs/custom-nodes.md); \`wb nodes\` lists every kind`
        : "correct the kind, or run `wb nodes` to list every kind with its params"
    return (
      `node "${this.node}" uses unknown node kind "${this.kind}"${hint ? `; ${hint}` : ""}\n` +
      `  ${known}\n` +
      `  fix: ${fix}`
    )
  }
}

export class UnknownInputError extends Data.TaggedError("UnknownInputError")<{
  readonly node: string
  readonly input: string
  readonly reference: string
  readonly available: ReadonlyArray<string>
}> {
  override get message() {
    const hint = didYouMean(this.reference, this.available)
    return (
      `node "${this.node}" input "${this.input}" refers to "${this.reference}", which is not a node or table of this pipeline` +
      `${hint ? `; ${hint}` : ""}\n` +
      `  available: ${this.available.join(", ") || "(none)"}\n` +
      `  fix: refer to an existing node ("name") or one of its tables ("name.table")`
    )
  }
}

export class InputNameError extends Data.TaggedError("InputNameError")<{
  readonly node: string
  readonly kind: string
  readonly input: string
  readonly accepted: ReadonlyArray<string>
}> {
  override get message() {
    const hint = didYouMean(this.input, this.accepted)
    return (
      `node "${this.node}" (${this.kind}) has no input named "${this.input}"${hint ? `; ${hint}` : ""}\n` +
      `  it accepts: ${this.accepted.join(", ") || "(no inputs)"}\n` +
      `  fix: rename the input, or run \`wb nodes ${this.kind}\` to see its inputs`
    )
  }
}

export class InputMissingError extends Data.TaggedError("InputMissingError")<{
  readonly node: string
  readonly kind: string
  readonly input: string
}> {
  override get message() {
    return (
      `node "${this.node}" (${this.kind}) needs input "${this.input}", but none is connected\n` +
      `  fix: add \`${this.input}: <node>\` to the node's inputs`
    )
  }
}

export class InputArityError extends Data.TaggedError("InputArityError")<{
  readonly node: string
  readonly kind: string
  readonly input: string
  readonly count: number
}> {
  override get message() {
    return (
      `node "${this.node}" (${this.kind}) input "${this.input}" takes one table, but ${this.count} are connected\n` +
      `  fix: connect a single node, or combine the tables upstream`
    )
  }
}

export class CycleError extends Data.TaggedError("CycleError")<{ readonly path: ReadonlyArray<string> }> {
  override get message() {
    return (
      `the pipeline has a cycle: ${this.path.join(" -> ")}\n` +
      `  a node cannot depend on its own output, directly or through other nodes\n` +
      `  fix: remove one of these input references`
    )
  }
}

export class DuplicateNodeError extends Data.TaggedError("DuplicateNodeError")<{ readonly node: string }> {
  override get message() {
    return `node name "${this.node}" is used more than once\n  fix: give each node a unique name`
  }
}

export class NodeNameError extends Data.TaggedError("NodeNameError")<{ readonly node: string }> {
  override get message() {
    return (
      `node name "${this.node}" is not allowed\n` +
      `  expected: letters, digits, "-" or "_", starting with a letter (no dots: "a.b" means table b of node a)\n` +
      `  fix: rename the node`
    )
  }
}

export interface ParamIssue {
  readonly path: string
  readonly value: string
  readonly expected: string
}

export class ParamDecodeError extends Data.TaggedError("ParamDecodeError")<{
  readonly node: string
  readonly kind: string
  readonly issues: ReadonlyArray<ParamIssue>
}> {
  override get message() {
    const lines = this.issues.map((i) => `  param ${i.path || "(params)"}: found ${i.value}; expected ${i.expected}`)
    return (
      `node "${this.node}" (${this.kind}) has invalid params\n${lines.join("\n")}\n` +
      `  fix: correct the params, or run \`wb nodes ${this.kind}\` to see each param, its type and default`
    )
  }
}

export class ColumnMissingError extends Data.TaggedError("ColumnMissingError")<{
  readonly node: string
  readonly kind: string
  readonly input: string
  readonly missing: ReadonlyArray<ColumnSpec>
  readonly producer: string
  readonly available: ReadonlyArray<ColumnSpec>
}> {
  override get message() {
    const names = this.available.map((c) => c.name)
    const hints = this.missing.map((c) => didYouMean(c.name, names)).filter((h) => h !== "")
    const what = this.missing.length === 1 ? "column" : "columns"
    return (
      `node "${this.node}" (${this.kind}) needs ${what} ${listColumns(this.missing)} on input "${this.input}"\n` +
      `  its input comes from ${this.producer} has: ${listColumns(this.available)}\n` +
      `  fix: ${hints.length > 0 ? `${hints.join("; ")} ` : ""}map or add the ${what} upstream, or connect a node that produces ${this.missing.length === 1 ? "it" : "them"}`
    )
  }
}

export class ColumnTypeError extends Data.TaggedError("ColumnTypeError")<{
  readonly node: string
  readonly kind: string
  readonly input: string
  readonly column: string
  readonly expected: string
  readonly found: string
  readonly producer: string
}> {
  override get message() {
    return (
      `node "${this.node}" (${this.kind}) needs column ${this.column} on input "${this.input}" as ${this.expected}\n` +
      `  ${this.producer} gives it as ${this.found}\n` +
      `  fix: cast ${this.column} to ${this.expected} upstream, or connect a node that produces it with that type`
    )
  }
}

/** A node needs a service (beyond the core ones (Sql, Progress, Workspace, ExportFiles)) that no layer of this run provides. */
export class ServiceMissingError extends Data.TaggedError("ServiceMissingError")<{
  readonly node: string
  readonly kind: string
  /** The service's name (its class name) and its key. */
  readonly service: string
  readonly key: string
}> {
  override get message() {
    const named = this.service === this.key ? `"${this.key}"` : `${this.service} ("${this.key}")`
    return (
      `node "${this.node}" (${this.kind}) needs the service ${named}, which no layer of this run provides\n` +
      `  fix: provide it with a layer: \`runPipeline(p, { layer })\` from TypeScript, or for \`wb\`, ` +
      `\`export default defineConfig({ layer })\` in wb.config.ts beside package.json`
    )
  }
}

/**
 * A node's own check, after the graph is built, of its params against what is known of its inputs
 * (a SQL transform's query over the upstream columns): see `inferOutputs` in node.ts.
 */
export class NodeCheckError extends Data.TaggedError("NodeCheckError")<{
  readonly node: string
  readonly kind: string
  /** Within the node, e.g. "param sql". */
  readonly where: string
  readonly found: string
  readonly expected: string
  readonly fix: string
}> {
  override get message() {
    return `node "${this.node}" (${this.kind}) ${this.where}: ${this.found}\n  expected: ${this.expected}\n  fix: ${this.fix}`
  }
}

/** A node's writing of a file, for SameFileWritersError: the path as its param gives it. */
export interface FileWriter {
  readonly node: string
  readonly kind: string
  readonly param: string
  readonly path: string
}

/** Two nodes of one pipeline write the same file (see file-writers.ts). */
export class SameFileWritersError extends Data.TaggedError("SameFileWritersError")<{
  /** The path both name, normalised. */
  readonly file: string
  readonly first: FileWriter
  readonly second: FileWriter
}> {
  override get message() {
    const { first: a, second: b } = this
    const given = a.path === b.path ? "" : ` (given as "${a.path}" and "${b.path}")`
    const param = a.param === b.param ? `\`${a.param}\`` : `file (\`${a.param}\`, \`${b.param}\`)`
    // the second writer's own name beside its file's extension: "out/x.jsonl" -> "out/x-b.jsonl"
    const example = this.file.replace(/(\.[^./]*)*$/, (ext) => `-${b.node}${ext}`)
    return (
      `nodes "${a.node}" (${a.kind}) param ${a.param} and "${b.node}" (${b.kind}) param ${b.param} both write ${this.file}${given}\n` +
      `  expected: one writer per file (with two, every run rewrites it twice and it holds whichever ran last)\n` +
      `  fix: give each its own ${param} (e.g. "${example}" for "${b.node}"), or export one table`
    )
  }
}

export type DefinitionError =
  | NodeCheckError
  | SameFileWritersError
  | ServiceMissingError
  | UnknownNodeKindError
  | UnknownInputError
  | InputNameError
  | InputMissingError
  | InputArityError
  | CycleError
  | DuplicateNodeError
  | NodeNameError
  | ParamDecodeError
  | ColumnMissingError
  | ColumnTypeError

/** Every definition problem found in one pipeline, reported together before anything runs. */
export class PipelineInvalidError extends Data.TaggedError("PipelineInvalidError")<{
  readonly pipeline: string
  readonly problems: ReadonlyArray<DefinitionError>
}> {
  override get message() {
    return (
      `pipeline "${this.pipeline}" is invalid\n` +
      this.problems
        .map((p) =>
          p.message
            .split("\n")
            .map((l) => `  ${l}`)
            .join("\n")
        )
        .join("\n")
    )
  }
}

/** A pipeline file that could not be read or parsed. */
export class PipelineFileError extends Data.TaggedError("PipelineFileError")<{
  readonly file: string
  readonly found: string
  readonly expected: string
  readonly fix: string
}> {
  override get message() {
    return `pipeline file ${this.file}: ${this.found}\n  expected: ${this.expected}\n  fix: ${this.fix}`
  }
}

/** Bad data met at run time: says where, what was found, what was expected, and what to do. */
export class DataError extends Data.TaggedError("DataError")<{
  readonly where: string
  readonly found: string
  readonly expected: string
  readonly fix: string
}> {
  override get message() {
    return `${this.where}: ${this.found}\n  expected: ${this.expected}\n  fix: ${this.fix}`
  }
}

/** A SQL statement failed inside the table engine. */
export class SqlError extends Data.TaggedError("SqlError")<{
  readonly sql: string
  readonly reason: string
}> {
  override get message() {
    const snippet = this.sql.replace(/\s+/g, " ").trim()
    return `${this.reason}\n  while running: ${snippet.length > 300 ? `${snippet.slice(0, 300)}…` : snippet}`
  }
}

/** An artifact could not be written or read. */
export class ArtifactError extends Data.TaggedError("ArtifactError")<{
  readonly path: string
  readonly reason: string
}> {
  override get message() {
    return `artifact ${this.path}: ${this.reason}\n  fix: check disk space and permissions of the workspace, then re-run`
  }
}

/**
 * What a node's run may fail with: any tagged error with a message. The engine's own are above
 * (DataError, SqlError, …); a node family declares its own, best as `Schema.TaggedError` classes so
 * they serialize (to the run log, to a browser). The runner reports `message` and keeps `_tag`.
 */
export interface NodeError {
  readonly _tag: string
  readonly message: string
}

/** Two node kinds registered under one id (e.g. a wb.config.ts kind and a built-in one). */
export class NodeKindClashError extends Data.TaggedError("NodeKindClashError")<{
  readonly kind: string
  /** Where the kind being added comes from, and where the one already registered came from. */
  readonly added: string
  readonly existing: string
}> {
  override get message() {
    return (
      `node kind "${this.kind}" from ${this.added} clashes with the kind "${this.kind}" of ${this.existing}\n` +
      `  expected: each kind id registered once (YAML pipelines name kinds by id)\n` +
      `  fix: give the kind in ${this.added} another id${this.example === this.kind ? "" : `, e.g. "${this.example}"`}`
    )
  }

  /** A free-looking id to suggest: the kind's own name in the `my` family. */
  private get example() {
    return `my.${this.kind.split(".").pop()}`
  }
}
