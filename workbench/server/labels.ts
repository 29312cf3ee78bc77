/**
 * Pairwise labeling from the browser. A queue is one pairs table of one node (`node`, `table`); each
 * `next` leases one pair to one tab (`user` + `tab`) for LEASE_MS, so several tabs never get the same
 * pair at once; the pair's two responses are shown in a random order, which the vote records. Votes go
 * to `<workspace>/labels.duckdb` (committed, so durable, before the reply) as votes with
 * rater = the user and rater_kind = "human", and after each change to a Parquet snapshot,
 * `<workspace>/labels/votes.parquet`, which a pipeline reads with `load.votes` (see API.md): its
 * content hash is in that node's cache key, so new labels turn it and what reads it stale.
 *
 * Why not meta.duckdb: a running `wb run` holds the run log's file lock for the whole run, and
 * labeling must go on while a pipeline runs.
 */
import { randomInt } from "node:crypto"
import { mkdirSync, renameSync } from "node:fs"
import { join } from "node:path"
import { Effect } from "effect"
import { type DuckDBConnection, DuckDBInstance, quotedString } from "../io/duckdb-api.js"
import { badRequest, HttpProblem } from "./project.js"
import { parquet, type Reader } from "./reader.js"

export const LEASE_MS = 5 * 60_000
const VOTES = ["a", "b", "tie"] as const

const SCHEMA = `CREATE TABLE IF NOT EXISTS votes (pair_id VARCHAR, rater VARCHAR, rater_kind VARCHAR, vote VARCHAR,
  p_a DOUBLE, "order" VARCHAR, sample BIGINT, meta JSON, queue VARCHAR, created TIMESTAMP)`

interface Lease {
  readonly holder: string
  readonly queue: string
  readonly order: "ab" | "ba"
  readonly expires: number
}

export interface LabelStore {
  readonly next: (q: { queue: string; file: string; user: string; tab: string }) => Effect.Effect<unknown, HttpProblem>
  readonly vote: (v: {
    queue: string
    pipeline: string
    pair_id: string
    vote: string
    order: string
    user: string
    tab: string
  }) => Effect.Effect<unknown, HttpProblem>
  readonly undo: (u: { queue: string; user: string }) => Effect.Effect<unknown, HttpProblem>
  readonly snapshot: string
  readonly close: () => void
}

export async function openLabelStore(workspace: string, reader: Reader): Promise<LabelStore> {
  mkdirSync(join(workspace, "labels"), { recursive: true })
  const instance = await DuckDBInstance.create(join(workspace, "labels.duckdb"), { threads: "1" })
  const con: DuckDBConnection = await instance.connect()
  await con.run(SCHEMA)
  const snapshot = join(workspace, "labels", "votes.parquet")
  const leases = new Map<string, Lease>() // pair_id -> lease
  const skipped = new Map<string, Set<string>>() // holder|queue -> pair ids skipped this session
  const db = <A>(f: () => Promise<A>) =>
    Effect.tryPromise({ try: f, catch: (e) => new HttpProblem(500, { error: "label store", found: String(e) }) })
  const writeSnapshot = async () => {
    const tmp = `${snapshot}.tmp`
    await con.run(
      `COPY (SELECT pair_id, rater, rater_kind, vote, p_a, "order", sample, meta FROM votes ORDER BY created, pair_id, rater)
       TO ${quotedString(tmp)} (FORMAT parquet)`
    )
    renameSync(tmp, snapshot)
  }
  const votedBy = (queue: string, user: string) =>
    db(async () =>
      (
        await con.runAndReadAll(`SELECT DISTINCT pair_id FROM votes WHERE queue = $q AND rater = $u`, {
          q: queue,
          u: user
        })
      )
        .getRowObjectsJS()
        .map((r) => String(r["pair_id"]))
    )
  return {
    snapshot,
    next: ({ queue, file, user, tab }) =>
      Effect.gen(function* () {
        const holder = `${user}\u0000${tab}`
        const now = Date.now()
        for (const [id, l] of leases)
          if (l.expires < now || (l.holder === holder && l.queue === queue)) leases.delete(id)
        const voted = yield* votedBy(queue, user)
        const exclude = [...voted, ...(skipped.get(`${holder}|${queue}`) ?? []), ...leases.keys()]
        const rows = yield* reader.rows(
          `SELECT pair_id, prompt, response_a, response_b, (SELECT count(*) FROM ${parquet(file)})::INTEGER AS total
           FROM ${parquet(file)} WHERE pair_id IS NOT NULL AND NOT list_contains(from_json($ex::JSON, '["VARCHAR"]'), pair_id)
           ORDER BY hash(pair_id || $seed), pair_id LIMIT 1`,
          { ex: JSON.stringify(exclude), seed: user }
        )
        const row = rows[0]
        if (row === undefined) return { done: true, progress: { labeled: voted.length } }
        const order = randomInt(2) === 0 ? "ab" : "ba"
        const pairId = String(row["pair_id"])
        const expires = now + LEASE_MS
        leases.set(pairId, { holder, queue, order, expires })
        const [first, second] =
          order === "ab" ? [row["response_a"], row["response_b"]] : [row["response_b"], row["response_a"]]
        return {
          pair_id: pairId,
          prompt: row["prompt"],
          first,
          second,
          order,
          lease_expires: new Date(expires).toISOString(),
          progress: { labeled: voted.length, total: Number(row["total"]) }
        }
      }),
    vote: (v) =>
      Effect.gen(function* () {
        if (v.vote === "skip") {
          const key = `${v.user}\u0000${v.tab}|${v.queue}`
          if (!skipped.has(key)) skipped.set(key, new Set())
          skipped.get(key)!.add(v.pair_id)
          leases.delete(v.pair_id)
          return { ok: true, skipped: v.pair_id }
        }
        if (!(VOTES as ReadonlyArray<string>).includes(v.vote) || (v.order !== "ab" && v.order !== "ba"))
          return yield* Effect.fail(
            badRequest(
              "label",
              JSON.stringify({ vote: v.vote, order: v.order }),
              'vote "a", "b", "tie" or "skip" (the pair\'s sides, not screen positions); order "ab" or "ba"',
              "send the order that next returned"
            )
          )
        const lease = leases.get(v.pair_id)
        if (lease !== undefined && lease.holder !== `${v.user}\u0000${v.tab}` && lease.expires > Date.now())
          return yield* Effect.fail(
            new HttpProblem(409, {
              error: "leased",
              found: `pair ${v.pair_id} is being labeled in another tab`,
              fix: "ask for the next pair"
            })
          )
        yield* db(async () => {
          await con.run(
            `INSERT INTO votes VALUES ($pair, $user, 'human', $vote, $pa, $order, NULL, $meta, $queue, now())`,
            {
              pair: v.pair_id,
              user: v.user,
              vote: v.vote,
              pa: v.vote === "a" ? 1 : v.vote === "b" ? 0 : 0.5,
              order: v.order,
              meta: JSON.stringify({ queue: v.queue, pipeline: v.pipeline }),
              queue: v.queue
            }
          )
          await writeSnapshot()
        })
        leases.delete(v.pair_id)
        return { ok: true, pair_id: v.pair_id }
      }),
    undo: ({ queue, user }) =>
      db(async () => {
        const last = (
          await con.runAndReadAll(
            `SELECT pair_id, rowid::BIGINT AS rid FROM votes WHERE queue = $q AND rater = $u ORDER BY created DESC, rowid DESC LIMIT 1`,
            { q: queue, u: user }
          )
        ).getRowObjectsJS()[0]
        if (last === undefined) return { ok: false, undone: null }
        await con.run(`DELETE FROM votes WHERE rowid = $r`, { r: Number(last["rid"]) })
        await writeSnapshot()
        return { ok: true, undone: String(last["pair_id"]) }
      }),
    close: () => {
      con.closeSync()
      instance.closeSync()
    }
  }
}
