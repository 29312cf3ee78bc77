/**
 * `wb export <file> <node[.table]> --to PATH [--format F]`: write one table of a node's cached artifact
 * to a file (JSON Lines, JSON, CSV, Parquet), every row, with a data card section in the README.md
 * beside it. Read-only over the workspace: it never runs a node, and refuses one that has not run.
 */
import { Console, Effect } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { createHash, randomBytes } from "node:crypto"
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync
} from "node:fs"
import { basename, dirname, join, resolve } from "node:path"
import { type CardCount, isDataCard, mergeCard, renderCardSection } from "../core/data-card.js"
import { didYouMean } from "../core/did-you-mean.js"
import { DataError } from "../core/errors.js"
import { FORMATS, type FileFormat, formatOf, KNOWN_ENDINGS } from "../core/export-format.js"
import type { Manifest } from "../core/report.js"
import { cacheStates, mainTable, tableFile } from "../io/catalog/artifacts.js"
import { openPipeline } from "../io/catalog/pipeline-context.js"
import { openDuckDb } from "../io/duckdb.js"
import { lastNodeRun } from "../io/meta-db.js"
import { sqlString } from "../io/sql-text.js"
import { shellArg, workspaceFlag } from "./args.js"
import { reportErrors } from "./exit.js"
import { count } from "./format.js"

/** The node's cached artifact, or a message saying why there is none and how to make it. */
const cachedArtifact = (file: string, workspace: string, node: string) =>
  Effect.gen(function* () {
    const ctx = yield* openPipeline(file, workspace)
    const names = ctx.graph.nodes.map((n) => n.name)
    const state = cacheStates(ctx.graph, ctx.root, ctx.dir).find((s) => s.node.name === node)
    if (state === undefined) {
      return yield* new DataError({
        where: `wb export ${node}`,
        found: `pipeline "${ctx.graph.name}" has no node "${node}"`,
        expected: `one of: ${names.join(", ")}`,
        fix: didYouMean(node, names) || `pick a node from \`wb ls ${shellArg(file)}\``
      })
    }
    const kind = state.node.definition.kind
    if (state.state._tag === "Cached") return { ctx, kind, manifest: state.state.manifest }
    const run = `wb run ${shellArg(file)} --only ${node}`
    if (state.state._tag === "Damaged") {
      return yield* new DataError({
        where: `node "${node}" (${kind}): artifact ${state.key} in ${ctx.dir}`,
        found: `the artifact is damaged, so it is not read: ${state.state.problem}`,
        expected: "every file of the artifact with the size and content hash its manifest recorded",
        fix: `recompute it: ${run}, then export again`
      })
    }
    const last = state.key === undefined ? undefined : yield* lastNodeRun(ctx.dir, state.key)
    const failed = last?.status === "failed"
    return yield* new DataError({
      where: `node "${node}" (${kind})`,
      found: failed
        ? `its last run (${last.finished}) failed, so there is nothing to export: ${(last.error ?? "unknown error").split("\n")[0]}`
        : state.state._tag === "NotRun"
          ? "it has not run yet, so there is nothing to export (wb export only reads artifacts; it runs nothing)"
          : state.state._tag === "Upstream"
          ? `upstream ${state.state.upstream.map((u) => `"${u}"`).join(", ")} must run first (its params or inputs changed), so there is nothing to export yet`
          : "its last artifact is stale: its params or inputs changed since it ran",
      expected: "an artifact for the node's current params and inputs",
      fix: failed
        ? `fix what made it fail (${run} shows the whole error), run it again, then export`
        : `run it first: ${run}`
    })
  })

const sha256File = (path: string) => {
  const hash = createHash("sha256")
  const buffer = Buffer.alloc(1 << 20)
  const fd = openSync(path, "r")
  try {
    for (let n = readSync(fd, buffer); n > 0; n = readSync(fd, buffer)) hash.update(buffer.subarray(0, n))
  } finally {
    closeSync(fd)
  }
  return hash.digest("hex")
}

const fsync = (path: string) => {
  const fd = openSync(path, "r")
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

const writeFailed = (to: string, e: unknown) =>
  new DataError({
    where: `wb export --to ${to}`,
    found: `could not write it: ${e instanceof Error ? e.message.split("\n")[0] : String(e)}`,
    expected: "a path in a folder this user may write to, on a disk with room for the file",
    fix: "pick another --to path, or free space / fix the folder's permissions (a previous file there is unchanged)"
  })

/**
 * COPY the artifact table to `target` through a temp file renamed into place; with the facts the card
 * needs. The rows written are counted by the engine and must equal the manifest's: nothing is cut.
 */
const writeTable = (
  dir: string,
  parquet: string,
  target: string,
  to: string,
  format: FileFormat,
  removedFile: string | undefined
) =>
  Effect.tryPromise({
    try: async () => {
      const db = await openDuckDb({ tempDirectory: join(dir, "tmp"), threads: 2 })
      const con = await db.connect()
      const tmp = join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`)
      try {
        mkdirSync(dirname(target), { recursive: true })
        const source = `read_parquet(${sqlString(parquet)})`
        const copied = await con.runAndReadAll(`COPY (SELECT * FROM ${source}) TO ${sqlString(tmp)} (${format.copy})`)
        const written = Number(copied.getRows()[0]?.[0] ?? -1)
        fsync(tmp)
        renameSync(tmp, target)
        fsync(dirname(target))
        const counts = async (column: string, from: string) => {
          const cols = (await con.runAndReadAll(`DESCRIBE SELECT * FROM ${from}`))
            .getRowObjectsJS()
            .map((r) => String(r["column_name"]))
          if (!cols.includes(column)) return undefined
          const r = await con.runAndReadAll(
            `SELECT "${column}"::VARCHAR AS value, count(*)::BIGINT AS rows FROM ${from} GROUP BY 1 ORDER BY 2 DESC, 1`
          )
          return r
            .getRowObjectsJS()
            .map(
              (x): CardCount => ({ value: x["value"] === null ? null : String(x["value"]), rows: Number(x["rows"]) })
            )
        }
        const removedSource = removedFile === undefined ? undefined : `read_parquet(${sqlString(removedFile)})`
        return {
          written,
          labelSources: await counts("label_source", source),
          sources: await counts("source", source),
          upstreamRemoved: removedSource === undefined ? undefined : await counts("reason", removedSource)
        }
      } finally {
        rmSync(tmp, { force: true })
        con.closeSync()
        db.closeSync()
      }
    },
    catch: (e) => writeFailed(to, e)
  })

const writeCardBeside = (target: string, to: string, section: string) =>
  Effect.try({
    try: () => {
      const card = join(dirname(target), "README.md")
      const text = mergeCard(
        existsSync(card) ? readFileSync(card, "utf8") : undefined,
        basename(target),
        section,
        (f) => existsSync(join(dirname(target), f))
      )
      writeFileSync(`${card}.${process.pid}.tmp`, text)
      renameSync(`${card}.${process.pid}.tmp`, card)
      return card
    },
    catch: (e) => writeFailed(to, e)
  })

/** The artifact's table `removed`-role table, if it has one: what the node itself left out. */
const removedTableOf = (m: Manifest) => Object.keys(m.tables).find((t) => m.tables[t]!.role === "removed")

export const exportCommand = Command.make(
  "export",
  {
    file: Argument.String("file").pipe(Argument.withDescription("Pipeline file (.ts or .yaml)")),
    ref: Argument.String("node").pipe(
      Argument.withDescription("Node (its main table) or node.table, e.g. clean or clean.removed")
    ),
    to: Flag.String("to").pipe(
      Flag.withDescription("File to write (relative to the current directory); its folder is created")
    ),
    format: Flag.Literals("format", ["auto", ...FORMATS]).pipe(
      Flag.withDescription(`jsonl, json, csv or parquet (default: from the --to name: ${KNOWN_ENDINGS})`),
      Flag.withDefault("auto" as const)
    ),
    workspace: workspaceFlag
  },
  (args) =>
    Effect.gen(function* () {
      const [node, table] = args.ref.includes(".")
        ? [args.ref.slice(0, args.ref.indexOf(".")), args.ref.slice(args.ref.indexOf(".") + 1)]
        : [args.ref, undefined]
      const { ctx, kind, manifest } = yield* cachedArtifact(args.file, args.workspace, node)
      const tables = Object.keys(manifest.tables)
      const tableName = table ?? mainTable(manifest)
      if (tableName === undefined || !tables.includes(tableName)) {
        return yield* new DataError({
          where: `wb export ${args.ref}`,
          found: `node "${node}" (${kind}) has no table "${tableName}"`,
          expected: `one of its tables: ${tables.join(", ")}`,
          fix: didYouMean(tableName ?? "", tables) || `use ${node}.${tables[0]}`
        })
      }
      const format = formatOf(args.to, args.format)
      if ("problem" in format) {
        return yield* new DataError({
          where: `wb export --to ${args.to}`,
          found: format.problem,
          expected: `a file name ending in ${KNOWN_ENDINGS}, or --format`,
          fix: "name the file e.g. out.jsonl, or pass --format jsonl"
        })
      }
      const target = resolve(args.to)
      const card = join(dirname(target), "README.md")
      if (existsSync(card) && !isDataCard(readFileSync(card, "utf8"))) {
        return yield* new DataError({
          where: `wb export --to ${args.to}`,
          found: `${join(dirname(args.to), "README.md")} exists and is not a wb data card; the export's card would replace it`,
          expected: "a folder whose README.md, if any, is a data card wb wrote",
          fix: `write the export into a folder of its own, e.g. --to exports/${basename(target)}`
        })
      }
      const removedTable = tableName === removedTableOf(manifest) ? undefined : removedTableOf(manifest)
      const facts = yield* writeTable(
        ctx.dir,
        tableFile(ctx.dir, manifest, tableName),
        target,
        args.to,
        format,
        removedTable === undefined ? undefined : tableFile(ctx.dir, manifest, removedTable)
      )
      const rows = manifest.tables[tableName]!.rows
      if (facts.written !== rows) {
        return yield* new DataError({
          where: `wb export ${args.ref} --to ${args.to}`,
          found: `${facts.written} rows written, but the artifact's manifest records ${rows}`,
          expected: "every row of the table in the file",
          fix: `recompute the artifact (wb run ${shellArg(args.file)} --only ${node} --force) and export again`
        })
      }
      const upstream = facts.upstreamRemoved ?? []
      const section = renderCardSection({
        file: basename(target),
        format: format.label,
        rows,
        bytes: statSync(target).size,
        sha256: sha256File(target),
        columns: manifest.tables[tableName]!.columns,
        writer: `\`wb export\` from pipeline \`${ctx.graph.name}\``,
        rowsIn: rows,
        removed: [],
        ...(facts.labelSources === undefined ? {} : { labelSources: facts.labelSources }),
        ...(facts.sources === undefined ? {} : { sources: facts.sources }),
        from: [{ node, table: tableName, key: manifest.key }],
        notes: [
          `every row of ${node}.${tableName}, in its order; wb export leaves nothing out`,
          ...(upstream.length === 0
            ? []
            : [
                `node \`${node}\` itself left out ${count(upstream.reduce((s, r) => s + r.rows, 0))} rows (its \`${removedTable}\` table): ` +
                  upstream.map((r) => `${r.value ?? "(no reason)"} ${count(r.rows)}`).join(", ")
              ])
        ]
      })
      yield* writeCardBeside(target, args.to, section)
      yield* Console.log(
        `wrote ${count(rows)} rows of ${node}.${tableName} to ${args.to} (${format.label}); data card: ${join(dirname(args.to), "README.md")}`
      )
    }).pipe(reportErrors)
).pipe(
  Command.withDescription(
    "Write a node's table from its cached artifact to a JSONL, JSON, CSV or Parquet file, with a data card"
  )
)
