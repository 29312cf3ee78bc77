/** `wb nodes [KIND]`: the node kinds of the node library; with KIND, its inputs, outputs and params. */
import { Console, Effect, Option } from "effect"
import { Argument, Command } from "effect/cli"
import type { TableSchema } from "../core/contract.js"
import { didYouMean } from "../core/did-you-mean.js"
import { DataError } from "../core/errors.js"
import type { NodeDefinition } from "../core/node.js"
import { reportErrors } from "./exit.js"
import { table, truncate } from "./format.js"
import { loadNodeLibrary, nodeLibraryLocation } from "./node-library.js"
import { describeParams } from "./params-doc.js"

const libraryName = () =>
  nodeLibraryLocation().custom ? `${process.env["WB_NODE_LIBRARY"]} (WB_NODE_LIBRARY)` : "nodes/index.ts"

const columnsText = (cols: Readonly<Record<string, string>>) =>
  Object.entries(cols).map(([name, type]) => `${name} (${type})`).join(", ")

const schemaText = (s: TableSchema) =>
  `${s.columns.map((c) => `${c.name} (${c.type})`).join(", ") || "(no fixed columns)"}${s.open ? ", …" : ""}`

export function describeKind(d: NodeDefinition): Array<string> {
  const out = [`${d.kind} · version ${d.version}`, `  ${d.summary}`, "", "inputs"]
  const inputs = Object.entries(d.inputs)
  if (inputs.length === 0) out.push("  (none: a source node)")
  for (const [name, c] of inputs) {
    const flags = [c.optionalInput ? "optional" : "", c.many ? "accepts several tables" : ""].filter((x) => x !== "")
    out.push(`  ${name}${flags.length > 0 ? ` (${flags.join(", ")})` : ""}${c.doc ? ` · ${c.doc}` : ""}`)
    out.push(`    needs: ${columnsText(c.required) || "(any columns)"}`)
    if (c.optional !== undefined && Object.keys(c.optional).length > 0) out.push(`    uses if present: ${columnsText(c.optional)}`)
  }
  // what the outputs look like when each input has exactly the columns the node needs (", …": plus pass-through)
  const known = Object.fromEntries(inputs.map(([name, c]) => [name, {
    columns: Object.entries({ ...c.required, ...c.optional }).map(([n, type]) => ({ name: n, type })),
    open: true
  }]))
  out.push("", "outputs")
  for (const [name, c] of Object.entries(d.outputs)) {
    out.push(`  ${name} (${c.role})${c.doc ? ` · ${c.doc}` : ""}`, `    columns: ${schemaText(c.schema(known))}`)
  }
  out.push("", "params")
  const params = describeParams(d.params)
  if (params.length === 0) out.push("  (none)")
  else {
    out.push(...table(
      [{ header: "param" }, { header: "type" }, { header: "default" }, { header: "description" }],
      params.map((p) => [
        p.path,
        p.type,
        p.default !== undefined ? truncate(p.default, 40) : p.required ? "required" : "optional",
        p.description ?? ""
      ])
    ))
  }
  return out
}

export const nodesCommand = Command.make("nodes", {
  kind: Argument.String("kind").pipe(Argument.withDescription("A node kind to describe"), Argument.optional)
}, ({ kind }) =>
  Effect.gen(function*() {
    const registry = yield* loadNodeLibrary
    const kinds = [...registry.keys()].sort()
    if (Option.isNone(kind)) {
      if (kinds.length === 0) {
        const present = nodeLibraryLocation().present
        return yield* Console.log(present
          ? `no node kinds: ${libraryName()} exports an empty registry`
          : `no node kinds yet: the node library ${libraryName()} does not exist (set WB_NODE_LIBRARY=<module> to use another)`)
      }
      const lines = table([{ header: "kind" }, { header: "summary" }], kinds.map((k) => [k, registry.get(k)!.summary]))
      return yield* Console.log([`${kinds.length} node kinds · ${libraryName()}`, ...lines, "", "details: wb nodes <kind>"].join("\n"))
    }
    const definition = registry.get(kind.value)
    if (definition === undefined) {
      return yield* new DataError({
        where: "wb nodes",
        found: `no node kind "${kind.value}" in ${libraryName()}`,
        expected: `one of: ${kinds.join(", ") || "(none)"}`,
        fix: didYouMean(kind.value, kinds) || "run `wb nodes` to list the kinds"
      })
    }
    yield* Console.log(describeKind(definition).join("\n"))
  }).pipe(reportErrors)
).pipe(Command.withDescription("List node kinds, or describe one: inputs, outputs and params"))
