/**
 * Load a pipeline by path. TypeScript/JavaScript files are imported and must default-export
 * `pipeline(...)`; YAML files are parsed into the same `PipelineDefinition`, whose node kinds are
 * resolved by `buildGraph` against a node registry.
 *
 * YAML shape:
 *   pipeline: <name>
 *   nodes:
 *     <node>: { use: <kind>, in?: { <input>: "node" | "node.table" | [..] }, with?: { <params> } }
 */
import { Effect } from "effect"
import { type Document, isMap, isScalar, isSeq, LineCounter, parseDocument } from "yaml"
import { existsSync, readFileSync, statSync } from "node:fs"
import { extname, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { didYouMean } from "../core/did-you-mean.js"
import { PipelineFileError } from "../core/errors.js"
import { importFailureText } from "./import-failure.js"
import { packageRoot } from "./package-root.js"
import { pipelineImported, pipelineModuleUrl } from "./pipeline-reload.js"
import {
  builtByThisCopy,
  type InputBinding,
  isPipelineDefinition,
  type PipelineDefinition,
  type PipelineNodeDefinition
} from "../core/pipeline.js"

/** The code bin/module-hooks.mjs gives an import of the workbench's sources while wb runs from its bundle. */
const SOURCE_IMPORT = "ERR_WB_SOURCE_IMPORT"

const MODULE_EXTENSIONS = [".ts", ".mts", ".js", ".mjs"]
const YAML_EXTENSIONS = [".yaml", ".yml"]

/** Load and shape-check a pipeline file; `file` is resolved against `cwd`. */
export const loadPipelineFile = (file: string, cwd: string = process.cwd()) =>
  Effect.suspend(() => {
    const path = resolve(cwd, file)
    if (!existsSync(path) || !statSync(path).isFile()) {
      return Effect.fail(
        new PipelineFileError({
          file,
          found: `no such file (looked for ${path})`,
          expected: "a pipeline file (.ts, .js, .yaml or .yml)",
          fix: "check the path; pipeline files usually live in pipelines/"
        })
      )
    }
    const ext = extname(path).toLowerCase()
    if (MODULE_EXTENSIONS.includes(ext)) return importPipeline(file, path)
    if (YAML_EXTENSIONS.includes(ext)) return readYamlPipeline(file, path)
    return Effect.fail(
      new PipelineFileError({
        file,
        found: `unsupported extension "${ext || "(none)"}"`,
        expected: `one of ${[...MODULE_EXTENSIONS, ...YAML_EXTENSIONS].join(", ")}`,
        fix: "write the pipeline as TypeScript (default-export pipeline(...)) or as YAML"
      })
    )
  })

const importPipeline = (file: string, path: string) =>
  Effect.tryPromise({
    // a versioned URL under `wb serve`, so that edits are seen (pipeline-reload.ts)
    try: () => (import(pipelineModuleUrl(path)) as Promise<Record<string, unknown>>).finally(pipelineImported),
    catch: (e) => {
      const message = e instanceof Error ? e.message : String(e)
      return new PipelineFileError({
        file,
        found: `importing it failed: ${importFailureText(e)}`,
        expected: "a module that loads without errors and default-exports pipeline(...)",
        fix:
          (e as { code?: unknown }).code === SOURCE_IMPORT
            ? 'import the workbench as "preference-workbench" and its nodes as "preference-workbench/nodes" (the public API), ' +
              "or run from the sources with WB_FROM_SOURCE=1"
            : /require\(\) ES Module|ERR_REQUIRE_ESM|require\(esm\)/.test(message)
              ? 'the file was loaded as CommonJS because no package.json with "type": "module" is above it: ' +
                'rename it to .mts, or add a package.json containing {"type": "module"} to its folder'
              : "fix the error above; `npx tsc -p .` type-checks pipeline files"
      })
    }
  }).pipe(
    Effect.flatMap((mod) => {
      const def = mod["default"]
      if (isPipelineDefinition(def) && !builtByThisCopy(def)) {
        const theirs = def.builtBy === undefined ? "another install" : fileURLToPath(def.builtBy)
        return Effect.fail(
          new PipelineFileError({
            file,
            found: `its pipeline was built by another copy of preference-workbench (${theirs}) than the one running it (${packageRoot()})`,
            expected:
              "a pipeline built by the preference-workbench that runs it: two copies do not share their node kinds' schemas",
            fix: "run the wb installed next to the pipeline (`npx wb …` from its project folder)"
          })
        )
      }
      if (isPipelineDefinition(def)) return Effect.succeed(def)
      const named = Object.entries(mod)
        .filter(([, v]) => isPipelineDefinition(v))
        .map(([k]) => k)
      return Effect.fail(
        new PipelineFileError({
          file,
          found: def === undefined ? "no default export" : `a default export that is ${describe(def)}, not a pipeline`,
          expected: '`export default pipeline("name", (p) => { ... })`',
          fix:
            named.length > 0
              ? `default-export the pipeline: \`export default ${named[0]}\``
              : "build the pipeline with `pipeline` from preference-workbench and default-export it"
        })
      )
    })
  )

const describe = (u: unknown): string =>
  u === null ? "null" : Array.isArray(u) ? "an array" : typeof u === "object" ? "an object" : `a ${typeof u}`

/** A shape problem at a path inside the YAML document. */
export class YamlShapeError {
  constructor(
    readonly at: string,
    readonly found: string,
    readonly expected: string,
    readonly fix: string
  ) {}
}

/**
 * Parse a YAML pipeline (the `yaml` package: its errors carry line and column, which messages give
 * as `file:line:column`, with the lines around the spot), then check its shape, again naming the
 * line and column of the key or value at fault.
 */
const readYamlPipeline = (file: string, path: string) =>
  Effect.suspend(() => {
    const lines = new LineCounter()
    const doc = parseDocument(readFileSync(path, "utf8"), {
      lineCounter: lines,
      prettyErrors: true,
      merge: true,
      uniqueKeys: true
    })
    const error = doc.errors[0]
    if (error !== undefined) {
      const [head = "", ...rest] = error.message.split("\n")
      const pos = error.linePos?.[0]
      const what = head.replace(/ at line \d+, column \d+:?$/, "")
      // the lines around the spot, as the parser quotes them (already indented by 2), without blank edges
      const frame = rest.join("\n").replace(/^\s*\n|\s+$/g, "")
      return Effect.fail(
        new PipelineFileError({
          file: pos === undefined ? file : `${file}:${pos.line}:${pos.col}`,
          found: `it is not valid YAML: ${what}${
            frame === ""
              ? ""
              : `\n${frame
                  .split("\n")
                  .map((l) => `  ${l}`.trimEnd())
                  .join("\n")}`
          }`,
          expected: "a YAML document with `pipeline:` and `nodes:`",
          fix: `fix the YAML at line ${pos?.line ?? "?"}, column ${pos?.col ?? "?"} (the ^ marks the spot)`
        })
      )
    }
    const def = definitionOrProblem(doc.toJS({ maxAliasCount: 1000 }))
    if (!(def instanceof YamlShapeError)) return Effect.succeed(def)
    const pos = positionOf(doc, lines, def)
    return Effect.fail(
      new PipelineFileError({
        file: pos === undefined ? file : `${file}:${pos.line}:${pos.col}`,
        found: `at ${def.at}: found ${def.found}`,
        expected: def.expected,
        fix: def.fix
      })
    )
  })

/**
 * Line and column of the YAML node a shape problem names (`nodes.a.with`, `nodes.a.in.pairs[0]`): the
 * key for an unknown key, else the value; the nearest existing parent where the path runs out.
 */
function positionOf(
  doc: Document,
  lines: LineCounter,
  problem: YamlShapeError
): { line: number; col: number } | undefined {
  const path =
    problem.at === "(document)" ? [] : problem.at.split(/\.|(?=\[)/).map((p) => /^\[(\d+)\]$/.exec(p)?.[1] ?? p)
  let node: unknown = doc.contents
  let offset = (doc.contents as { range?: [number] } | null)?.range?.[0]
  for (const [i, segment] of path.entries()) {
    const last = i === path.length - 1
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === segment)
      if (pair === undefined) break
      const key = pair.key as { range?: [number] } | null
      const value = pair.value as { range?: [number] } | null
      offset =
        (last && problem.found === "an unknown key" ? key?.range?.[0] : (value?.range?.[0] ?? key?.range?.[0])) ??
        offset
      node = pair.value
    } else if (isSeq(node)) {
      const item = node.items[Number(segment)] as { range?: [number] } | undefined
      if (item === undefined) break
      offset = item.range?.[0] ?? offset
      node = item
    } else break
  }
  return offset === undefined ? undefined : lines.linePos(offset)
}

/** The definition a parsed YAML document describes, or its first shape problem. */
export function definitionOrProblem(doc: unknown): PipelineDefinition | YamlShapeError {
  try {
    return pipelineFromYaml(doc)
  } catch (e) {
    if (e instanceof YamlShapeError) return e
    throw e
  }
}

const show = (u: unknown): string => {
  if (u === undefined) return "nothing"
  const text = JSON.stringify(u)
  return text === undefined ? String(u) : text.length > 60 ? `${text.slice(0, 60)}…` : text
}

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/** Keys people write from habit (other tools, the TS API), and the key this format uses instead. */
const SYNONYMS: Record<string, string> = {
  params: "with",
  args: "with",
  config: "with",
  inputs: "in",
  input: "in",
  from: "in",
  kind: "use",
  type: "use",
  node: "use",
  name: "pipeline",
  steps: "nodes"
}

const checkKeys = (where: string, value: Record<string, unknown>, allowed: ReadonlyArray<string>) => {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      const synonym = SYNONYMS[key]
      const hint =
        synonym !== undefined && allowed.includes(synonym) ? `did you mean "${synonym}"?` : didYouMean(key, allowed)
      throw new YamlShapeError(
        `${where}${where ? "." : ""}${key}`,
        "an unknown key",
        `one of: ${allowed.join(", ")}`,
        hint ? `${hint} (rename the key)` : "remove the key"
      )
    }
  }
}

const refShape = 'a reference "node" or "node.table", or a list of them'

function bindingFromYaml(at: string, value: unknown): InputBinding {
  if (typeof value === "string" && value.length > 0) return value
  if (Array.isArray(value) && value.length > 0) {
    return value.map((v, i) => {
      if (typeof v !== "string" || v.length === 0) {
        throw new YamlShapeError(
          `${at}[${i}]`,
          show(v),
          refShape,
          "write the upstream node's name, e.g. `pairs: clean`"
        )
      }
      return v
    })
  }
  throw new YamlShapeError(at, show(value), refShape, "write the upstream node's name, e.g. `pairs: clean`")
}

function nodeFromYaml(name: string, value: unknown): PipelineNodeDefinition {
  const at = `nodes.${name}`
  if (!isRecord(value)) {
    throw new YamlShapeError(
      at,
      show(value),
      "a mapping with `use:` (and optionally `in:`, `with:`)",
      `write \`${name}: { use: <kind>, with: { ... } }\``
    )
  }
  checkKeys(at, value, ["use", "in", "with"])
  const use = value["use"]
  if (typeof use !== "string" || use.length === 0) {
    throw new YamlShapeError(
      `${at}.use`,
      show(use),
      "a node kind, e.g. `use: dedupe.pairs`",
      "name the node kind; `wb nodes` lists them"
    )
  }
  const ins = value["in"] ?? {}
  if (!isRecord(ins)) {
    throw new YamlShapeError(
      `${at}.in`,
      show(ins),
      "a mapping from input name to upstream node",
      "write `in: { <input>: <node> }`"
    )
  }
  const params = value["with"] ?? {}
  if (!isRecord(params)) {
    throw new YamlShapeError(
      `${at}.with`,
      show(params),
      "a mapping of params",
      `write \`with: { <param>: <value> }\`; \`wb nodes ${use}\` lists the params`
    )
  }
  const inputs: Record<string, InputBinding> = {}
  for (const [input, binding] of Object.entries(ins)) inputs[input] = bindingFromYaml(`${at}.in.${input}`, binding)
  return { name, spec: { kind: use, params }, inputs }
}

/** The `PipelineDefinition` a parsed YAML document describes (throws YamlShapeError). */
function pipelineFromYaml(doc: unknown): PipelineDefinition {
  if (!isRecord(doc)) {
    throw new YamlShapeError(
      "(document)",
      show(doc),
      "a mapping with `pipeline:` and `nodes:`",
      "start the file with `pipeline: <name>` and a `nodes:` mapping"
    )
  }
  checkKeys("", doc, ["pipeline", "nodes"])
  const name = doc["pipeline"]
  if (typeof name !== "string" || name.length === 0) {
    throw new YamlShapeError("pipeline", show(name), "the pipeline's name as a string", "add `pipeline: <name>`")
  }
  const nodes = doc["nodes"]
  if (!isRecord(nodes) || Object.keys(nodes).length === 0) {
    throw new YamlShapeError(
      "nodes",
      show(nodes),
      "a mapping from node name to `{ use, in, with }`",
      "add `nodes:` with at least one node, e.g. `pairs: { use: load.trl, with: { path: data/x.jsonl } }`"
    )
  }
  return {
    _tag: "PipelineDefinition",
    name,
    nodes: Object.entries(nodes).map(([n, v]) => nodeFromYaml(n, v))
  }
}
