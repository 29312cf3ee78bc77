/**
 * The dedupe family's run, in SQL around the pure plan (dedupe-plan.ts): compute one row of keys per
 * pair (hashes of normalised text), read the keys into JS, run MinHash when asked (dedupe-near.ts),
 * plan, load the plan back and build the five output tables from it.
 *
 * The rows are read where they are when the input is numbered 0..n-1 (`InputTable.numbered`, one
 * upstream table) and no votes are connected: the outputs are then filters of the input, so its text
 * is read, not copied. Otherwise (several tables, votes to re-point and labels to re-vote) the input
 * is copied into a table first, which the outputs filter and relabel in place.
 *
 * Gotchas:
 * - Keys are 64-bit hashes of normalised text. Two different texts share a hash with odds ~n^2 / 2^65
 *   (about 3e-8 for a million pairs); not verified.
 * - "first" is by (source, source_row), then by position (`_wb_row`, or in the copy), never by scan
 *   order. Outputs keep that position order.
 */
import { Effect } from "effect"
import type { InputTable, NodeOutput } from "../../workbench/core/node.js"
import { Progress, Sql, type SqlShape } from "../../workbench/core/services.js"
import { planDedupe, type DedupeKeys, type DedupePlan } from "./plan.js"
import type { DedupeOptions } from "./params.js"
import { nearStage } from "./near.js"
import { applyPlan, type DedupeSource } from "./apply.js"
import { DROP, emptySql, hasColumn, normalizedSql, unionClash } from "./sql.js"
import { attributeVotes, votesPerRowSql } from "./votes.js"

export interface DedupeTables {
  readonly pairs: InputTable
  readonly votes?: InputTable | undefined
  readonly against?: InputTable | undefined
}

/** Copy an input into a table (the copy is where a union of clashing tables first fails). */
const copyInput = (sql: SqlShape, node: string, input: string, table: string, relation: string) =>
  sql.run(`CREATE TABLE ${table} AS SELECT * FROM ${relation}`).pipe(Effect.mapError(unionClash(node, input)))

/** The rows to dedupe, with their plan positions 0..n-1: the numbered input itself when it can be. */
const dedupeSource = (sql: SqlShape, node: string, pairs: InputTable, withVotes: boolean) =>
  Effect.gen(function* () {
    if (!withVotes) {
      // one upstream table numbers its rows 0..n-1 (file_row_number): filters of it keep that order
      const [w] = yield* sql.rows<{ n: number; lo: number | null; hi: number | null }>(
        `SELECT count(*) AS n, min(_wb_row) AS lo, max(_wb_row) AS hi FROM ${pairs.numbered}`
      )
      const n = w!.n
      if (n === 0 || (w!.lo === 0 && w!.hi === n - 1)) {
        return {
          source: { relation: pairs.numbered, row: "_wb_row", hidden: "_wb_row", copied: false } satisfies DedupeSource,
          n
        }
      }
    }
    const base = sql.tempName("dedupe_pairs")
    yield* copyInput(sql, node, "pairs", base, pairs.relation)
    // the drop flag lets the main output be a plain filter of the copy, which keeps its order with no sort
    yield* sql.run(`ALTER TABLE ${base} ADD COLUMN ${DROP} BOOLEAN DEFAULT false`)
    return {
      source: { relation: base, row: "rowid", hidden: DROP, copied: true } satisfies DedupeSource,
      n: yield* sql.count(base)
    }
  })

/** Run the dedupe steps in `options` over the tables. */
export const runDedupe = (node: string, tables: DedupeTables, options: DedupeOptions) =>
  Effect.gen(function* () {
    const sql = yield* Sql
    const progress = yield* Progress
    const { pairs, votes, against } = tables
    const { source, n } = yield* dedupeSource(sql, node, pairs, votes !== undefined)
    yield* progress.note(`dedupe: ${n} pairs`)
    const votesCopy = votes === undefined ? undefined : sql.tempName("dedupe_votes_in")
    if (votesCopy !== undefined) yield* copyInput(sql, node, "votes", votesCopy, votes!.relation)
    const voteRows = votesCopy === undefined ? undefined : yield* attributeVotes(sql, source, pairs, votesCopy, votes!)

    const keys = yield* readKeys(sql, source, n, pairs, votesCopy, voteRows, against, options)
    const near = yield* nearStage(node, source, n, against, options)
    const contaminated = keys.contaminated
    if (near.contaminatedNear !== undefined) {
      for (let i = 0; i < n; i++) if (contaminated[i] === 0 && near.contaminatedNear[i]) contaminated[i] = 2
    }
    const plan: DedupePlan = planDedupe(keys, {
      keep: options.keep,
      exact: options.exact,
      mirrored: options.mirrored,
      emptySide: options.emptySide,
      identical: options.identical,
      near: near.near,
      decontaminate: options.decontaminate !== undefined && against !== undefined
    })
    const out: NodeOutput = yield* applyPlan(
      sql,
      {
        node,
        source,
        keys: keys.table,
        n,
        pairs,
        votes: votesCopy,
        votesInput: votes,
        voteRows
      },
      plan
    )
    if (options.decontaminate !== undefined && against === undefined) {
      yield* progress.note("dedupe: no `against` input connected; decontamination skipped")
    }
    if (options.decontaminate === undefined || against === undefined) return out
    const [e] = yield* sql.rows<{ m: number; empty: number }>(
      `SELECT count(*)::INTEGER AS m, count_if(${emptySql("prompt")})::INTEGER AS empty FROM ${against.relation}`
    )
    if (e!.empty > 0)
      yield* progress.note(`dedupe: ${e!.empty} of ${e!.m} eval prompts are empty or whitespace only; ignored`)
    return { ...out, stats: { ...out.stats, eval_prompts: e!.m, eval_prompts_empty: e!.empty } }
  }).pipe(Effect.withSpan("dedupe.run"))

/**
 * A label as a small integer: 0 none, 1 'a', 2 'b', 3 'tie'; any other label 4 + 20 bits of its hash
 * (the plan only compares labels and swaps a <-> b, so distinct labels only need distinct codes).
 */
const labelCodeSql = (c: string) =>
  `CASE WHEN ${c} IS NULL THEN 0 WHEN ${c} = 'a' THEN 1 WHEN ${c} = 'b' THEN 2 WHEN ${c} = 'tie' THEN 3 ` +
  `ELSE 4 + (hash(${c}) % 1048576)::INTEGER END`
const labelOfCode = (code: number): string | null =>
  code === 0 ? null : code === 1 ? "a" : code === 2 ? "b" : code === 3 ? "tie" : `other-${code}`

/**
 * SQL for the key table: one row per pair with its position r, its pair_id and source_row (for the
 * removed rows' kept twins), group ids for exact and mirrored duplicates (the group's smallest r) with
 * their sizes, and the flags the steps test.
 */
function keysSql(
  source: DedupeSource,
  pairs: InputTable,
  votes: string | undefined,
  voteRows: string | undefined,
  against: InputTable | undefined,
  options: DedupeOptions
) {
  const K = (c: string) => normalizedSql(c, options.normalize)
  const col = (name: string, fallback: string) => (hasColumn(pairs, name) ? name : fallback)
  const voteCounts =
    votes === undefined || options.keep !== "most-votes"
      ? "(SELECT NULL::INTEGER AS r, 0 AS n WHERE false)"
      : votesPerRowSql(source, votes, voteRows)
  const evalKeys =
    against !== undefined && options.decontaminate !== undefined
      ? // an empty eval prompt would match every empty prompt: ignored (and counted, see evalCounts)
        `(SELECT DISTINCT hash(${K("prompt")}) AS ph FROM ${against.relation} WHERE NOT ${emptySql("prompt")})`
      : undefined
  // groups as GROUP BYs of the duplicated keys only (HAVING count > 1), joined back: a third faster than
  // min/count OVER (PARTITION BY …), which sorts every row twice (exact and mirrored) to find the few
  // groups. h is MATERIALIZED so its hashes are computed once for the three readers.
  const exactGroups = `(SELECT ph, ah, bh, min(r) AS ek, count(*) AS en FROM h GROUP BY ph, ah, bh HAVING count(*) > 1)`
  const mirrorGroups =
    `(SELECT ph, least(ah, bh) AS lo, greatest(ah, bh) AS hi, min(r) AS mk, count(*) AS mn FROM h ` +
    `GROUP BY ph, least(ah, bh), greatest(ah, bh) HAVING count(*) > 1)`
  return `WITH h AS MATERIALIZED (
      SELECT ${source.row}::INTEGER AS r, ${col("source", "NULL")} AS _src, ${col("source_row", "NULL")} AS _srow, pair_id,
        hash(${K("prompt")}) AS ph, hash(${K("response_a")}) AS ah, hash(${K("response_b")}) AS bh,
        ${options.emptySide ? `${emptySql("response_a")} OR ${emptySql("response_b")}` : "false"} AS empty_side,
        ${options.keep === "longest" ? "(coalesce(length(response_a), 0) + coalesce(length(response_b), 0))::DOUBLE" : "0::DOUBLE"} AS len,
        ${col("label", "NULL")}::VARCHAR AS label
      FROM ${source.relation})
    SELECT h.r, _src, _srow, pair_id,
      ${options.exact === undefined ? "h.r" : "coalesce(e.ek, h.r)"} AS ek, ${options.exact === undefined ? "1" : "coalesce(e.en, 1)"} AS en,
      ${options.mirrored === undefined ? "h.r" : "coalesce(m.mk, h.r)"} AS mk, ${options.mirrored === undefined ? "1" : "coalesce(m.mn, 1)"} AS mn,
      h.ah > h.bh AS flipped, h.ah = h.bh AS identical, empty_side, len, label, coalesce(vc.n, 0)::INTEGER AS votes,
      ${evalKeys === undefined ? "false" : `h.ph IN ${evalKeys}`} AS contaminated
    FROM h${options.exact === undefined ? "" : ` LEFT JOIN ${exactGroups} e ON e.ph = h.ph AND e.ah = h.ah AND e.bh = h.bh`}${
      options.mirrored === undefined
        ? ""
        : ` LEFT JOIN ${mirrorGroups} m ON m.ph = h.ph AND m.lo = least(h.ah, h.bh) AND m.hi = greatest(h.ah, h.bh)`
    }
    LEFT JOIN ${voteCounts} vc ON vc.r = h.r`
}

/**
 * Compute the key table in SQL and read it into typed arrays, indexed by row position. Without
 * near-duplicates, only the rows a step can touch are read (members of a duplicate group, flagged
 * rows): the others are singletons with no flags, which is what the arrays hold by default, and
 * "first" only compares rows within a group, so their rank among the rows read is enough.
 */
const readKeys = (
  sql: SqlShape,
  source: DedupeSource,
  n: number,
  pairs: InputTable,
  votes: string | undefined,
  voteRows: string | undefined,
  against: InputTable | undefined,
  options: DedupeOptions
) =>
  Effect.gen(function* () {
    const keysTable = sql.tempName("dedupe_keys")
    yield* sql.run(`CREATE TABLE ${keysTable} AS ${keysSql(source, pairs, votes, voteRows, against, options)}`)
    const order = new Int32Array(n),
      exactKey = new Int32Array(n),
      mirrorKey = new Int32Array(n)
    const flipped = new Uint8Array(n),
      identical = new Uint8Array(n),
      emptySide = new Uint8Array(n)
    const length = new Float64Array(n),
      voteCount = new Int32Array(n),
      contaminated = new Uint8Array(n)
    const label: Array<string | null> = new Array(n).fill(null)
    for (let i = 0; i < n; i++) {
      exactKey[i] = i
      mirrorKey[i] = i
    }
    // read only the columns the steps use (decoding values into JS is most of this stage's time)
    const columns: Array<[string, (i: number, v: unknown) => void]> = [
      [
        "ord",
        (i, v) => {
          order[i] = v as number
        }
      ],
      // flags and the label in one integer: decoding a VARCHAR column costs more than all the integers
      [
        `(flipped::INTEGER + 2 * identical::INTEGER + 4 * empty_side::INTEGER + 8 * contaminated::INTEGER + 16 * ${labelCodeSql("label")})`,
        (i, v) => {
          const f = v as number
          flipped[i] = f & 1
          identical[i] = (f >> 1) & 1
          emptySide[i] = (f >> 2) & 1
          contaminated[i] = (f >> 3) & 1
          label[i] = labelOfCode(f >> 4)
        }
      ]
    ]
    if (options.exact !== undefined)
      columns.push([
        "ek",
        (i, v) => {
          exactKey[i] = v as number
        }
      ])
    if (options.mirrored !== undefined)
      columns.push([
        "mk",
        (i, v) => {
          mirrorKey[i] = v as number
        }
      ])
    if (options.keep === "longest")
      columns.push([
        "len",
        (i, v) => {
          length[i] = v as number
        }
      ])
    if (options.keep === "most-votes")
      columns.push([
        "votes",
        (i, v) => {
          voteCount[i] = v as number
        }
      ])
    const wanted = [
      ...(options.exact === undefined ? [] : ["en > 1"]),
      ...(options.mirrored === undefined ? [] : ["mn > 1"]),
      ...(options.emptySide ? ["empty_side"] : []),
      ...(options.identical ? ["identical"] : []),
      ...(options.decontaminate === undefined ? [] : ["contaminated"])
    ]
    const where = options.near !== undefined ? "" : `WHERE ${wanted.length === 0 ? "false" : wanted.join(" OR ")}`
    yield* sql.scan(
      `SELECT r, ${columns.map(([c]) => c).join(", ")}
    FROM (SELECT *, (row_number() OVER (ORDER BY _src NULLS LAST, _srow NULLS LAST, r) - 1)::INTEGER AS ord FROM ${keysTable} ${where})`,
      (c, rows) => {
        const r = c[0]!
        for (let k = 0; k < columns.length; k++) {
          const set = columns[k]![1],
            col = c[k + 1]!
          for (let j = 0; j < rows; j++) set(r[j] as number, col[j])
        }
      }
    )
    return {
      table: keysTable,
      order,
      exactKey,
      mirrorKey,
      flipped,
      identical,
      emptySide,
      label,
      length,
      votes: voteCount,
      contaminated
    } satisfies DedupeKeys & { table: string }
  })
