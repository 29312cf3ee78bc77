/**
 * `wb nodes [KIND]`: the node kinds a pipeline of this project can name (built-in, WB_NODE_LIBRARY's,
 * wb.config.ts's), with the TypeScript name where it is not the kind id; with KIND (an id or a
 * TypeScript name), its inputs, outputs and params.
 */
import { Console, Effect, Option } from "effect"
import { Argument, Command } from "effect/cli"
import type { TableSchema } from "../core/contract.js"
import { didYouMean } from "../core/did-you-mean.js"
import { DataError } from "../core/errors.js"
import type { NodeDefinition } from "../core/node.js"
import { reportErrors } from "./exit.js"
import { table, truncate } from "./format.js"
import { describeParams } from "../core/params-doc.js"
import { loadNodeLibrary } from "../io/catalog/node-library.js"
import { currentProjectRoot, loadProjectConfig } from "../io/catalog/project-config.js"

const columnsText = (cols: Readonly<Record<string, string>>) =>
  Object.entries(cols)
    .map(([name, type]) => `${name} (${type})`)
    .join(", ")

const schemaText = (s: TableSchema) =>
  `${s.columns.map((c) => `${c.name} (${c.type})`).join(", ") || "(no fixed columns)"}${s.open ? ", …" : ""}`

/** A kind's page; `tsName`: what TypeScript calls it, when not its id. */
export function describeKind(d: NodeDefinition, tsName?: string): Array<string> {
  const named = tsName === undefined ? "" : ` · in TypeScript: ${tsName}(...)`
  const out = [`${d.kind} · version ${d.version}${named}`, `  ${d.summary}`, "", "inputs"]
  // a kind that reads inputs by the names the pipeline gives them (transform.sql) shows them as <any name>
  const inputs = [
    ...Object.entries(d.inputs),
    ...(d.otherInputs === undefined ? [] : [["<any name>", d.otherInputs] as const])
  ]
  if (inputs.length === 0) out.push("  (none: a source node)")
  for (const [name, c] of inputs) {
    const flags = [c.optionalInput ? "optional" : "", c.many ? "accepts several tables" : ""].filter((x) => x !== "")
    out.push(`  ${name}${flags.length > 0 ? ` (${flags.join(", ")})` : ""}${c.doc ? ` · ${c.doc}` : ""}`)
    out.push(`    needs: ${columnsText(c.required) || "(any columns)"}`)
    if (c.optional !== undefined && Object.keys(c.optional).length > 0)
      out.push(`    uses if present: ${columnsText(c.optional)}`)
  }
  // what the outputs look like when each input has exactly the columns the node needs (", …": plus pass-through)
  const known = Object.fromEntries(
    inputs.map(([name, c]) => [
      name,
      {
        columns: Object.entries({ ...c.required, ...c.optional }).map(([n, type]) => ({ name: n, type })),
        open: true
      }
    ])
  )
  out.push("", "outputs")
  for (const [name, c] of Object.entries(d.outputs)) {
    out.push(`  ${name} (${c.role})${c.doc ? ` · ${c.doc}` : ""}`, `    columns: ${schemaText(c.schema(known))}`)
  }
  out.push("", "params")
  const params = describeParams(d.params)
  if (params.length === 0) out.push("  (none)")
  else {
    out.push(
      ...table(
        [{ header: "param" }, { header: "type" }, { header: "default" }, { header: "description" }],
        params.map((p) => [
          p.path,
          p.type,
          p.default !== undefined ? truncate(p.default, 40) : p.required ? "required" : "optional",
          p.description ?? ""
        ])
      )
    )
  }
  return out
}

export const nodesCommand = Command.make(
  "nodes",
  {
    kind: Argument.String("kind").pipe(Argument.withDescription("A node kind to describe"), Argument.optional)
  },
  ({ kind }) =>
    Effect.gen(function* () {
      const library = yield* loadNodeLibrary(yield* loadProjectConfig(currentProjectRoot()))
      const { registry } = library
      const kinds = [...registry.keys()].sort()
      const from = library.sources.join(" + ")
      const tsName = (k: string) => registry.names?.get(k)
      if (Option.isNone(kind)) {
        if (kinds.length === 0) {
          return yield* Console.log(
            `no node kinds: ${from === "" ? "the node library nodes/index.ts does not exist yet" : `${from} register none`}; ` +
              "add your own with `nodes` in wb.config.ts (docs/custom-nodes.md)"
          )
        }
        // the TypeScript column only when some kind is called otherwise in TypeScript (load.hh-rlhf: load.hhRlhf)
        const named = kinds.some((k) => tsName(k) !== undefined)
        const lines = named
          ? table(
              [{ header: "kind" }, { header: "in TypeScript" }, { header: "summary" }],
              kinds.map((k) => [k, tsName(k) ?? "", registry.get(k)!.summary])
            )
          : table(
              [{ header: "kind" }, { header: "summary" }],
              kinds.map((k) => [k, registry.get(k)!.summary])
            )
        return yield* Console.log(
          [
            `${kinds.length} node kinds · ${from}`,
            ...lines,
            "",
            `details: wb nodes <kind>${named ? " · in TypeScript a kind is its family and name: load.hhRlhf(...); blank: the kind id" : ""}`
          ].join("\n")
        )
      }
      // a TypeScript name finds its kind too (`wb nodes load.hhRlhf`)
      const id = registry.has(kind.value)
        ? kind.value
        : [...(registry.names ?? [])].find(([, n]) => n === kind.value)?.[0]
      const definition = id === undefined ? undefined : registry.get(id)
      if (id === undefined || definition === undefined) {
        const family = kind.value.split(".")[0]
        const same = kinds.filter((k) => k.split(".")[0] === family)
        return yield* new DataError({
          where: "wb nodes",
          found: `no node kind "${kind.value}" in ${from || "the node library"}`,
          expected:
            same.length > 0 && same.length < kinds.length
              ? `one of the ${family}.* kinds: ${same.join(", ")} (\`wb nodes\` lists every kind)`
              : `one of: ${kinds.join(", ") || "(none)"}`,
          fix:
            didYouMean(kind.value, [...kinds, ...(registry.names?.values() ?? [])]) ||
            "run `wb nodes` to list the kinds"
        })
      }
      yield* Console.log(describeKind(definition, tsName(id)).join("\n"))
    }).pipe(reportErrors)
).pipe(Command.withDescription("List node kinds, or describe one: inputs, outputs and params"))
