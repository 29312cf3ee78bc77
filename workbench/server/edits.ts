/**
 * Edits from the browser that persist: a param (`POST …/params`) and a SQL cell saved as a
 * `transform.sql` node (`POST …/sql-node`). Each edit is checked by opening the pipeline with it (the
 * same decode, did-you-mean and graph checks as `wb run --set`) before anything is written. YAML
 * pipelines are rewritten in place with the `yaml` Document API, which keeps comments and layout; a
 * TypeScript pipeline's params go to its overrides file (io/overrides-file.ts), which every `wb`
 * command applies; a node is not added to a TS file (code is the user's), so the reply carries the
 * line to paste (`tsNodeSnippet`).
 */
import { Effect } from "effect"
import { readFileSync, renameSync, writeFileSync } from "node:fs"
import { parseDocument } from "yaml"
import { openPipeline } from "../io/catalog/pipeline-context.js"
import { writeOverride } from "../io/overrides-file.js"
import { badRequest, HttpProblem, nodeStates, type PipelineEntry, problemOf, type Project } from "./project.js"

const writeAtomic = (file: string, text: string) => {
  const tmp = `${file}.tmp-${process.pid}`
  writeFileSync(tmp, text)
  renameSync(tmp, file)
}

const PATH = /^[A-Za-z_][\w-]*(\.[A-Za-z_][\w-]*)*$/

/** Set (or with `reset`, remove) one param; returns where it was saved and the nodes now not cached. */
export const editParam = (
  project: Project,
  entry: PipelineEntry,
  body: { readonly node?: unknown; readonly param?: unknown; readonly value?: unknown; readonly reset?: unknown }
) =>
  Effect.gen(function* () {
    const { node, param } = body
    if (typeof node !== "string" || typeof param !== "string" || !PATH.test(param) || !PATH.test(node))
      return yield* Effect.fail(
        badRequest(
          "params",
          JSON.stringify({ node, param }),
          '{ "node": "clean", "param": "threshold", "value": 0.9 }',
          "name a node and one of its params"
        )
      )
    const reset = body.reset === true
    if (!reset && body.value === undefined)
      return yield* Effect.fail(badRequest("params", "no value", "a JSON value, or reset: true", "send the new value"))
    const target = `${node}.${param}`
    // checked before anything is written: unknown node or param, a value the Schema refuses
    if (!reset)
      yield* openPipeline(entry.file, project.workspace, { set: [`${target}=${JSON.stringify(body.value)}`] }).pipe(
        Effect.mapError(problemOf)
      )
    let saved: string
    if (entry.format === "yaml") {
      const text = readFileSync(entry.file, "utf8")
      const doc = parseDocument(text)
      const path = ["nodes", node, "with", ...param.split(".")]
      if (reset) doc.deleteIn(path)
      else doc.setIn(path, body.value)
      writeAtomic(entry.file, doc.toString())
      saved = entry.id
    } else {
      saved = writeOverride(entry.file, target, reset ? undefined : body.value)
    }
    const ctx = yield* openPipeline(entry.file, project.workspace).pipe(Effect.mapError(problemOf))
    const notCached = nodeStates(ctx)
      .filter((s) => s.state._tag !== "Cached")
      .map((s) => s.node.name)
    return { saved, persisted: entry.format === "yaml" ? "yaml" : "overrides", notCached }
  })

const NODE_NAME = /^[A-Za-z][A-Za-z0-9_-]*$/

/**
 * Add `name: { use: transform.sql, in: inputs, with: { sql } }` to a YAML pipeline. `inputs` maps the
 * names the SQL reads to "node" or "node.table" (a SQL cell's `"clean.removed"` becomes an input
 * named, say, `removed`).
 */
export const saveSqlNode = (
  project: Project,
  entry: PipelineEntry,
  body: { readonly name?: unknown; readonly sql?: unknown; readonly inputs?: unknown }
) =>
  Effect.gen(function* () {
    const { name, sql, inputs } = body
    const refs = inputs as Record<string, unknown> | undefined
    if (
      typeof name !== "string" ||
      !NODE_NAME.test(name) ||
      typeof sql !== "string" ||
      sql.trim() === "" ||
      refs === null ||
      typeof refs !== "object" ||
      Array.isArray(refs) ||
      Object.entries(refs).some(([k, v]) => !NODE_NAME.test(k) || typeof v !== "string")
    )
      return yield* Effect.fail(
        badRequest(
          "sql-node",
          JSON.stringify({ name, sql, inputs }),
          '{ "name": "short", "sql": "select * from pairs where length(prompt) < 200", "inputs": { "pairs": "clean" } }',
          "give the new node a name (letters, digits, - and _), the SQL, and which node each name in the SQL reads"
        )
      )
    const spec = { use: "transform.sql", in: refs, with: { sql } }
    if (entry.format !== "yaml")
      return {
        saved: null,
        persisted: "snippet",
        node: name,
        why:
          `${entry.id} is TypeScript: wb serve rewrites YAML pipelines in place, but not code ` +
          "(the pipeline's own variables, helpers and formatting are yours), so nothing was written",
        snippet: tsNodeSnippet(name, sql, refs as Record<string, string>),
        imports: 'import { transform } from "preference-workbench/nodes"',
        fix: "paste the line into the pipeline's function, after the nodes it reads; the names before the dots are the variables holding those nodes"
      }
    const before = readFileSync(entry.file, "utf8")
    const doc = parseDocument(before)
    if (doc.hasIn(["nodes", name]))
      return yield* Effect.fail(
        new HttpProblem(409, { error: "exists", found: `node "${name}" already exists`, fix: "choose another name" })
      )
    doc.setIn(["nodes", name], doc.createNode(spec, { flow: true }))
    writeAtomic(entry.file, doc.toString())
    // the graph must still build (inputs exist, no clash); otherwise the file goes back as it was
    const check = yield* openPipeline(entry.file, project.workspace).pipe(Effect.mapError(problemOf), Effect.result)
    if (check._tag === "Failure") {
      writeAtomic(entry.file, before)
      return yield* Effect.fail(check.failure)
    }
    return { saved: entry.id, node: name }
  })

/** A node name as the variable a TS pipeline most likely holds it in (`filter-by-strength` -> `filterByStrength`). */
const variableOf = (node: string) => node.replace(/[-_]+([A-Za-z0-9])/g, (_, c: string) => c.toUpperCase())

/** A property access that is valid JavaScript for any table name. */
const member = (table: string) => (/^[A-Za-z_$][\w$]*$/.test(table) ? `.${table}` : `[${JSON.stringify(table)}]`)

/**
 * The `p.node(…)` line that adds a `transform.sql` node to a TypeScript pipeline. The SQL is a JSON
 * string literal, which is a valid JS string literal for any text (quotes, backslashes, newlines);
 * each input is the upstream node's variable, with `.table` for a table other than its main one.
 */
export function tsNodeSnippet(name: string, sql: string, inputs: Readonly<Record<string, string>>): string {
  const ins = Object.entries(inputs).map(([k, ref]) => {
    const dot = ref.indexOf(".")
    const value = dot === -1 ? variableOf(ref) : `${variableOf(ref.slice(0, dot))}${member(ref.slice(dot + 1))}`
    return `${/^[A-Za-z_$][\w$]*$/.test(k) ? k : JSON.stringify(k)}: ${value}`
  })
  const node = `p.node(${JSON.stringify(name)}, transform.sql({ sql: ${JSON.stringify(sql)} })`
  return ins.length === 0 ? `${node})` : `${node}, { ${ins.join(", ")} })`
}
