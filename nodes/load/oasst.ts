import { Effect, Schema } from "effect"
import { DataError } from "../../workbench/core/errors.js"
import { Sql } from "../../workbench/core/services.js"
import { checkRecords } from "./check.js"
import { defineLoader } from "./define.js"
import { recordStructure } from "./extras.js"
import { FormatParam, GlobParam, MaxRejectRateParam, PathsParam, SeedParam, SourceParam, where } from "./files.js"
import { chosenRejectedPairsSql } from "./pairs.js"
import { jsonTypeWordSql } from "./read-lines.js"
import { noPairSql } from "./removed.js"
import { renderMessagesSql } from "./sql.js"

export const OasstParams = Schema.Struct({
  path: PathsParam(
    "Open Assistant messages: a tree export (one tree per line, e.g. en_100_tree.jsonl) or flat messages (oasst1 parquet)"
  ),
  glob: GlobParam,
  format: FormatParam,
  source: SourceParam("oasst"),
  seed: SeedParam,
  maxRejectRate: MaxRejectRateParam
})
export type OasstParams = typeof OasstParams.Type

const field = (node: string, name: string) => `json_extract_string(${node}, '$.${name}')`

/** Message columns from a message object `node`. */
const messageColumns = (node: string) => `
  ${field(node, "message_id")} AS message_id, ${field(node, "role")} AS role, ${field(node, "text")} AS text,
  TRY_CAST(${field(node, "rank")} AS INTEGER) AS rank, coalesce(${field(node, "deleted")} = 'true', false) AS deleted,
  CASE WHEN json_type(${node}, '$.message_id') IS DISTINCT FROM 'VARCHAR' THEN 'message_id: expected a string, got ' || ${jsonTypeWordSql(`json_type(${node}, '$.message_id')`)}
       WHEN json_type(${node}, '$.text') IS DISTINCT FROM 'VARCHAR' THEN 'text: expected a string, got ' || ${jsonTypeWordSql(`json_type(${node}, '$.text')`)}
       WHEN ${field(node, "role")} IS NULL OR ${field(node, "role")} NOT IN ('prompter', 'assistant') THEN 'role: expected "prompter" or "assistant", got ' || coalesce(json_extract(${node}, '$.role')::VARCHAR, 'nothing')
       WHEN coalesce(json_type(${node}, '$.rank'), 'NULL') NOT IN ('NULL', 'UBIGINT', 'BIGINT') THEN 'rank: expected an integer, got ' || ${jsonTypeWordSql(`json_type(${node}, '$.rank')`)}
  END AS problem`

/** Tree export: walk each tree's `replies` recursively into (tree, record, parent_id, message columns). */
const treeMessagesSql = (records: string) => `
  WITH RECURSIVE m(record, node, parent_id, depth) AS (
    SELECT record, json_extract(raw, '$.prompt'), NULL::VARCHAR, 0 FROM ${records} WHERE reason IS NULL
    UNION ALL
    SELECT m.record, c.child, ${field("m.node", "message_id")}, m.depth + 1
    FROM m, LATERAL (SELECT unnest(json_extract(m.node, '$.replies[*]')) AS child) c)
  SELECT record::VARCHAR AS tree, record, parent_id, depth, ${messageColumns("node")} FROM m`

/** Flat export: one message per record, linked by parent_id within message_tree_id. */
const flatMessagesSql = (records: string) => `
  SELECT coalesce(${field("raw", "message_tree_id")}, '') AS tree, record, ${field("raw", "parent_id")} AS parent_id,
         NULL::INTEGER AS depth, ${messageColumns("raw")} FROM ${records} WHERE reason IS NULL`

/** The conversation from the root to each message, as a list of {role, content} JSON messages. */
const pathsSql = (messages: string) => `
  WITH RECURSIVE p(tree, message_id, conv) AS (
    SELECT tree, message_id, [json_object('role', CASE role WHEN 'prompter' THEN 'user' ELSE role END, 'content', text)]
    FROM ${messages} WHERE parent_id IS NULL
    UNION ALL
    SELECT c.tree, c.message_id, list_append(p.conv, json_object('role', CASE c.role WHEN 'prompter' THEN 'user' ELSE c.role END, 'content', c.text))
    FROM p JOIN ${messages} c ON c.tree = p.tree AND c.parent_id = p.message_id)
  SELECT tree, message_id, to_json(conv) AS conv FROM p`

/** Every (better, worse) pair of ranked, undeleted assistant siblings under a prompter message. */
const rankedPairsSql = (messages: string, paths: string) => `
  WITH g AS (SELECT * FROM ${messages} WHERE role = 'assistant' AND rank IS NOT NULL AND NOT deleted)
  SELECT x.tree, x.parent_id AS rank_group, x.message_id AS better_id, x.text AS better, x.rank AS better_rank,
         y.message_id AS worse_id, y.text AS worse, y.rank AS worse_rank, parent.record AS record, p.conv
  FROM g x JOIN g y ON x.tree = y.tree AND x.parent_id = y.parent_id AND x.rank < y.rank
  JOIN ${messages} parent ON parent.tree = x.tree AND parent.message_id = x.parent_id AND parent.role = 'prompter'
  JOIN ${paths} p ON p.tree = x.tree AND p.message_id = x.parent_id`

/**
 * Load Open Assistant message trees as ranked pairs.
 *
 * Sibling assistant replies under a prompter message carry a human `rank` (0 = best). Every two
 * ranked siblings with rank i < j give a pair (the lower rank chosen), so a group of n ranked
 * replies gives n(n-1)/2 pairs sharing `rank_group` (the parent message id). The prompt is the
 * conversation from the root to the parent, kept as `messages` JSON ({role: user|assistant,
 * content}) and rendered as text. Chosen goes on side a or b by a seeded hash. Deleted replies and
 * unranked ones are skipped. Reads the tree export (`prompt` with nested `replies`, one tree per
 * record) or the flat export (one message per record with `parent_id`, as in oasst1's parquet).
 *
 * **Input columns**: none (reads `path`).
 *
 * **Output columns**
 * - `pairs`: pair_id, prompt, response_a, response_b, label ('a' | 'b': the better-ranked side),
 *   label_source 'human', source, source_row (the tree's line; flat: the parent message's record),
 *   messages, rank_a, rank_b, message_id_a, message_id_b, rank_group.
 * - `votes`: empty (the merged ranking has no per-rater votes). `rejects`: file, line (or index, row: by format), reason, raw
 *   (a tree with one malformed message is rejected whole).
 * - `removed`: one row per tree that gives no pair (no two ranked sibling replies): reason 'no-pair',
 *   prompt = the root message, source_row = its record, responses NULL.
 *
 * **Params**: path (a file, a list, or patterns with glob), glob (false), format (auto), source ("oasst"), seed (0), maxRejectRate (0).
 *
 * **Stats**: records (trees, or messages in the flat export), messages, rank_groups, pairs,
 * rejected, removed, label_a, label_b. Pairs expand from records, so rowsIn counts a tree once per
 * pair it gives, or once when it is rejected (a message, in the flat export) or gives none (removed):
 * rowsIn = pairs + rejected + removed, and every record is one of them.
 *
 * **Example**
 * ```ts
 * const oa = p.node("oa", load.oasst({ path: "data/oasst-en-100-trees/en_100_tree.jsonl" }))
 * ```
 */
export const oasst = defineLoader({
  kind: "load.oasst",
  version: 5,
  summary:
    "Open Assistant message trees -> all pairs of ranked sibling replies (rank i < j), prompt = conversation path",
  params: OasstParams,
  passThrough: false,
  // declared, so split.hash({ groupBy: "rank_group" }) and train.reward-model's Plackett–Luce see them at graph build
  pairColumns: {
    messages: "json",
    rank_a: "int32",
    rank_b: "int32",
    message_id_a: "utf8",
    message_id_b: "utf8",
    rank_group: "utf8"
  },
  load: ({ ctx, params, read, rejectsOf }) =>
    Effect.gen(function* () {
      const sql = yield* Sql
      const { file, records } = yield* read()
      const keys = Object.keys(yield* recordStructure(records))
      // no fields at all (an empty file, or every record unreadable): either layout gives no messages
      const layout =
        keys.includes("prompt") || keys.length === 0 ? "tree" : keys.includes("message_id") ? "flat" : undefined
      if (layout === undefined) {
        return yield* new DataError({
          where: where(ctx, `file ${file.shown}`),
          found: `records have neither "prompt" (a message tree) nor "message_id" (a message); fields: ${keys.join(", ") || "(none)"}`,
          expected: "the Open Assistant tree export or its flat message export",
          fix: "point path at an oasst file, or load other layouts with load.table"
        })
      }
      if (layout === "tree") yield* checkRecords(records, [{ name: "prompt", kinds: ["object"] }])
      const messages = sql.tempName("oasst_messages")
      yield* sql.run(
        `CREATE TEMP TABLE ${messages} AS ${layout === "tree" ? treeMessagesSql(records.table) : flatMessagesSql(records.table)}`
      )
      // a malformed message rejects its record: the whole tree, or the message itself (flat)
      yield* sql.run(`UPDATE ${records.table} SET reason = b.reason FROM (
          SELECT record, min_by(coalesce('message ' || message_id || ': ', '') || problem, coalesce(depth, 0)) AS reason
          FROM ${messages} WHERE problem IS NOT NULL GROUP BY record) b
        WHERE ${records.table}.record = b.record;
        DELETE FROM ${messages} WHERE record IN (SELECT record FROM ${records.table} WHERE reason IS NOT NULL)`)
      const rejects = yield* rejectsOf([{ file, records }])
      const paths = sql.tempName("oasst_paths"),
        ranked = sql.tempName("oasst_ranked")
      yield* sql.run(`CREATE TEMP TABLE ${paths} AS ${pathsSql(messages)}`)
      yield* sql.run(`CREATE TEMP TABLE ${ranked} AS ${rankedPairsSql(messages, paths)}`)
      const pairs = yield* sql.create(
        "pairs",
        chosenRejectedPairsSql({
          from: ranked,
          prompt: renderMessagesSql("conv"),
          messages: "conv",
          chosen: "better",
          rejected: "worse",
          seed: params.seed,
          record: "record",
          source: params.source,
          labelSource: "human",
          sides: [
            { name: "rank", chosen: "better_rank", rejected: "worse_rank" },
            { name: "message_id", chosen: "better_id", rejected: "worse_id" }
          ],
          extras: [["rank_group", "rank_group"]],
          orderBy: ["rank_group", "better_rank", "worse_rank"]
        })
      )
      // a tree with no two ranked sibling replies gives no pair: listed in removed, not dropped unseen
      const removed = yield* sql.create(
        "removed",
        noPairSql(
          `(SELECT record, text FROM ${messages} WHERE parent_id IS NULL AND tree NOT IN (SELECT tree FROM ${ranked}))`,
          "text",
          params.source
        )
      )
      const [s] = yield* sql.rows<{ messages: number; rank_groups: number }>(
        `SELECT (SELECT count(*) FROM ${messages}) AS messages, (SELECT count(DISTINCT rank_group) FROM ${ranked}) AS rank_groups`
      )
      yield* sql.run(`DROP TABLE ${messages}; DROP TABLE ${paths}; DROP TABLE ${ranked}`)
      return { pairs, rejects, removed, expands: true, files: [{ file, records }], stats: { layout, ...s! } }
    })
})
