/**
 * The export family: write tables to files that other tools read, each with a data card.
 *
 * | preset | kind | writes |
 * |---|---|---|
 * | `trl` | `export.trl` | a TRL preference dataset: explicit / implicit prompt, standard or conversational, optional margin |
 * | `openrlhf` | `export.openrlhf` | OpenRLHF reward-model / DPO data: your field names, chat-template-ready messages |
 * | `table` | `export.table` | any table as JSON Lines, JSON, CSV or Parquet |
 *
 * Every export writes its file to the `to` path (relative to the project root) by way of a temp file
 * renamed into place, so a reader never sees half a file and a failed write leaves the old one; prints
 * the path; and writes a data card, `README.md`, beside it: counts, label sources, what was left out
 * and why, and the nodes and artifact keys the rows came from (one section per file, so train and test
 * exports can share a folder). Each is an artifact like any node, with three tables: `rows` (as
 * written), `removed` (left out, with the reason: rows in = rows + removed) and `card`. When the
 * node is cached, the file and its card section are checked against the artifact and rewritten from
 * it if they were deleted or changed.
 *
 * The family's TypeScript name is `exportTo` (`export` is a keyword): `exportTo.trl({ to: … })`.
 * `wb export <file> <node[.table]> --to PATH` writes any artifact table the same way without a node.
 *
 * @example
 * const clean = p.node("clean", dedupe.pairs(), { pairs: [hh, panda] })
 * p.node("trl", exportTo.trl({ to: "exports/hh-trl/train.jsonl" }), { pairs: clean })
 */
import { openrlhf } from "./openrlhf.js"
import { table } from "./table.js"
import { trl } from "./trl.js"

export type { OpenRlhfExportParams } from "./openrlhf.js"
export type { TableExportParams } from "./table.js"
export type { TrlExportParams } from "./trl.js"

export const exportTo = { trl, openrlhf, table }
