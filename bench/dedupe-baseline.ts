/**
 * The other side of bench/dedupe.ts: the same steps hand-written as DuckDB SQL, following the
 * verified recipes of ../shared/guides/duckdb-node-api.md: JSONL with line numbers and a rejects table
 * (§2) written to Parquet atomically (§3), then exact dedupe with a 64-bit key, first row in file order
 * wins (§6), writing the kept pairs and the removed rows to Parquet. Prints one JSON line.
 */
import { DuckDBInstance } from "@duckdb/node-api"
import { mkdtempSync, renameSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

const file = process.argv[2]!
const out = mkdtempSync(join(tmpdir(), "wb-bench-sql-"))
const t0 = performance.now()
const db = await DuckDBInstance.create(":memory:", {
  threads: "2",
  memory_limit: process.env["WB_MEMORY_LIMIT"] ?? "8GB",
  temp_directory: join(out, "tmp")
})
const con = await db.connect()
const q = (s: string) => `'${s.replaceAll("'", "''")}'`
const fields = ["prompt", "chosen", "rejected"]
const paths = `[${fields.map((f) => q(`$.${f}`)).join(", ")}]`
const names = `[${fields.map(q).join(", ")}]`
// §2: every line as one VARCHAR with its number; malformed lines become rejects with a reason
await con.run(`CREATE TEMP TABLE raw AS SELECT ordinality - 1 AS line_no, line FROM read_csv(${q(file)},
  columns = {'line': 'VARCHAR'}, header = false, auto_detect = false, delim = chr(1), quote = '', escape = '',
  max_line_size = 64000000, ignore_errors = true, store_rejects = true) WITH ORDINALITY`)
await con.run(`CREATE TEMP TABLE checked AS SELECT line_no, line AS raw, CASE
    WHEN NOT json_valid(line) THEN 'malformed JSON'
    WHEN json_type(line) <> 'OBJECT' THEN 'not an object'
    ELSE list_filter(list_transform(json_type(line, ${paths}), lambda t, i: CASE
      WHEN t IS NULL THEN ${names}[i] || ': missing'
      WHEN t <> 'VARCHAR' THEN ${names}[i] || ': expected string, got ' || t END), lambda x: x IS NOT NULL)[1]
  END AS reason FROM raw`)
await con.run(`CREATE TEMP TABLE rejects AS SELECT line_no, reason, raw FROM checked WHERE reason IS NOT NULL`)
// sides by a seeded hash of the record, so a- and b-wins balance; label says which side was chosen
await con.run(`CREATE TEMP TABLE pairs AS SELECT line_no, v[1] AS prompt,
    CASE WHEN hash(v[1], v[2], v[3]) % 2 = 0 THEN v[2] ELSE v[3] END AS response_a,
    CASE WHEN hash(v[1], v[2], v[3]) % 2 = 0 THEN v[3] ELSE v[2] END AS response_b,
    CASE WHEN hash(v[1], v[2], v[3]) % 2 = 0 THEN 'a' ELSE 'b' END AS label
  FROM (SELECT line_no, json_extract_string(raw, ${paths}) AS v FROM checked WHERE reason IS NULL)`)
const copy = async (query: string, dest: string) => {
  // §3: temp name, then rename
  const tmp = `${dest}.tmp`
  await con.run(`COPY (${query}) TO ${q(tmp)} (FORMAT parquet, COMPRESSION zstd)`)
  renameSync(tmp, dest)
}
await copy(`SELECT * FROM pairs ORDER BY line_no`, join(out, "pairs.parquet"))
await copy(`SELECT * FROM rejects`, join(out, "rejects.parquet"))
const loadSeconds = (performance.now() - t0) / 1000
// §6: exact dedupe from the Parquet file, 64-bit key over (prompt, a, b), first row in file order wins
const IN = `read_parquet(${q(join(out, "pairs.parquet"))})`
await con.run(`CREATE TEMP TABLE k AS SELECT line_no AS rn, hash(prompt, response_a, response_b) AS h FROM ${IN}`)
await con.run(`CREATE TEMP TABLE firsts AS SELECT h, min(rn) AS kept_rn FROM k GROUP BY h`)
await con.run(
  `CREATE TEMP TABLE removed AS SELECT k.rn, f.kept_rn FROM k JOIN firsts f USING (h) WHERE k.rn <> f.kept_rn`
)
// a 64-bit key could collide: prove every removed row equals its kept twin
const collisions = await con.runAndReadAll(`WITH s AS (SELECT line_no AS rn, prompt, response_a, response_b FROM ${IN}
    WHERE line_no IN (SELECT rn FROM removed UNION SELECT kept_rn FROM removed))
  SELECT count(*)::INTEGER AS n FROM removed r JOIN s x ON x.rn = r.rn JOIN s y ON y.rn = r.kept_rn
  WHERE NOT (x.prompt = y.prompt AND x.response_a = y.response_a AND x.response_b = y.response_b)`)
if (collisions.getRowObjectsJS()[0]!["n"] !== 0) throw new Error("hash collision")
await copy(
  `SELECT p.*, r.kept_rn FROM ${IN} p JOIN removed r ON p.line_no = r.rn ORDER BY p.line_no`,
  join(out, "removed.parquet")
)
await copy(
  `SELECT * FROM ${IN} WHERE line_no NOT IN (SELECT rn FROM removed) ORDER BY line_no`,
  join(out, "deduped.parquet")
)
const counts = await con.runAndReadAll(`SELECT (SELECT count(*) FROM pairs)::INTEGER AS pairs,
  (SELECT count(*) FROM removed)::INTEGER AS removed, (SELECT count(*) FROM rejects)::INTEGER AS rejects`)
const counted = counts.getRowObjectsJS()[0]
// closed inside the clock, as wb's run closes its database before it returns
con.closeSync()
db.closeSync()
const seconds = (performance.now() - t0) / 1000
console.log(
  JSON.stringify({
    seconds,
    loadSeconds,
    ...counted,
    peakRssMiB: process.resourceUsage().maxRSS / 1024
  })
)
rmSync(out, { recursive: true, force: true })
