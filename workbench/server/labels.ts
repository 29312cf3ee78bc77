/**
 * Pairwise labeling from the browser. A queue is one pairs table of one node (`node`, `table`); each
 * `next` leases one pair to one tab (`user` + `tab`) for LEASE_MS, so several tabs never get the same
 * pair at once (leases are rows of labels.duckdb, so that holds across a server restart); the pair's
 * two responses are shown in a random order, which the vote records. Votes go to
 * `<workspace>/labels.duckdb` (committed, so durable, before the reply) as votes with
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
import { Effect, Semaphore } from "effect"
import { DataError } from "../core/errors.js"
import { type DuckDBConnection, DuckDBInstance, quotedString } from "../io/duckdb-api.js"
import { badRequest, HttpProblem } from "./project.js"
import { parquet, type Reader } from "./reader.js"

export const LEASE_MS = 5 * 60_000
const VOTES = ["a", "b", "tie"] as const

// leases live in the same file as the votes, so a restarted server still knows which tab holds which
// pair (until `expires`, epoch ms) and never hands it to a second tab meanwhile
const SCHEMA = `CREATE TABLE IF NOT EXISTS votes (pair_id VARCHAR, rater VARCHAR, rater_kind VARCHAR, vote VARCHAR,
  p_a DOUBLE, "order" VARCHAR, sample BIGINT, meta JSON, queue VARCHAR, created TIMESTAMP);
  CREATE TABLE IF NOT EXISTS leases (pair_id VARCHAR PRIMARY KEY, holder VARCHAR, queue VARCHAR, "order" VARCHAR,
  expires BIGINT)`

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
  const file = join(workspace, "labels.duckdb")
  const instance = await DuckDBInstance.create(file, { threads: "1" }).catch((e: unknown) => {
    throw lockedError(file, e)
  })
  const con: DuckDBConnection = await instance.connect()
  await con.run(SCHEMA)
  const snapshot = join(workspace, "labels", "votes.parquet")
  // one `next` at a time: reading the leases and taking one must not interleave with another tab's
  const lock = Semaphore.makeUnsafe(1)
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
  /** Drop the pair's lease (only `holder`'s, when given: a skip must not free another tab's pair). */
  const release = (pairId: string, holder?: string) =>
    db(() =>
      con.run(
        `DELETE FROM leases WHERE pair_id = $p${holder === undefined ? "" : " AND holder = $h"}`,
        holder === undefined ? { p: pairId } : { p: pairId, h: holder }
      )
    )
  return {
    snapshot,
    next: ({ queue, file, user, tab }) =>
      Effect.gen(function* () {
        const holder = `${user}\u0000${tab}`
        const now = Date.now()
        // expired leases go, and so does this tab's previous one in the queue (asking again releases it)
        const held = yield* db(async () => {
          await con.run(`DELETE FROM leases WHERE expires < $now OR (holder = $h AND queue = $q)`, {
            now,
            h: holder,
            q: queue
          })
          return (await con.runAndReadAll(`SELECT pair_id FROM leases`))
            .getRowObjectsJS()
            .map((r) => String(r["pair_id"]))
        })
        const voted = yield* votedBy(queue, user)
        const exclude = [...voted, ...(skipped.get(`${holder}|${queue}`) ?? []), ...held]
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
        yield* db(() =>
          con.run(`INSERT OR REPLACE INTO leases VALUES ($p, $h, $q, $o, $e)`, {
            p: pairId,
            h: holder,
            q: queue,
            o: order,
            e: expires
          })
        )
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
      }).pipe(Semaphore.withPermit(lock)),
    vote: (v) =>
      Effect.gen(function* () {
        if (v.vote === "skip") {
          const key = `${v.user}\u0000${v.tab}|${v.queue}`
          if (!skipped.has(key)) skipped.set(key, new Set())
          skipped.get(key)!.add(v.pair_id)
          yield* release(v.pair_id, `${v.user}\u0000${v.tab}`)
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
        const lease = (yield* db(() =>
          con.runAndReadAll(`SELECT holder, expires FROM leases WHERE pair_id = $p`, { p: v.pair_id })
        )).getRowObjectsJS()[0]
        if (
          lease !== undefined &&
          lease["holder"] !== `${v.user}\u0000${v.tab}` &&
          Number(lease["expires"]) > Date.now()
        )
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
        yield* release(v.pair_id)
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

/**
 * DuckDB refusing the labels file. The usual cause is another `wb serve` on the same workspace, which
 * holds the file for as long as it runs: say so, with its PID, instead of DuckDB's lock message.
 */
function lockedError(file: string, e: unknown): unknown {
  const text = e instanceof Error ? e.message : String(e)
  if (!/lock/i.test(text)) return e
  const pid = /PID (\d+)/.exec(text)?.[1]
  return new DataError({
    where: `wb serve: the labels store ${file}`,
    found: `it is locked by another process${pid === undefined ? "" : ` (PID ${pid})`}, most likely another wb serve on this workspace`,
    expected: "one wb serve per workspace (it keeps the labels store open while it runs)",
    fix:
      `open the URL the running wb serve printed, or stop it${pid === undefined ? "" : ` (kill ${pid})`} and start this one again; ` +
      "to serve a second copy, give it its own workspace (--workspace other-dir)"
  })
}
