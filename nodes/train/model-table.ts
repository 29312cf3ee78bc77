/**
 * A model as a table, so it is an artifact like any other (Parquet, content-hashed, cached by the same
 * key rules): one row per tensor — `tensor` (emb, w1, b1, w2, b2), `shape` (json), `data` (blob:
 * row-major little-endian float32), `config` (json: the ModelConfig, with the featurizer's hash_config
 * and training metadata) — plus `member` for an ensemble's `models` table.
 */
import { Effect } from "effect"
import type { ColumnType } from "../../workbench/core/column-type.js"
import { DataError } from "../../workbench/core/errors.js"
import { Sql } from "../../workbench/core/services.js"
import type { Model, ModelConfig, Tensor } from "../../workbench/core/trainer.js"

export const modelColumns = { tensor: "utf8", shape: "json", data: "blob", config: "json" } as const satisfies Record<
  string,
  ColumnType
>
export const membersColumns = { member: "int64", ...modelColumns } as const

// the blobs are little-endian float32; a big-endian host would need a byte swap
const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

/** Writes models (member k = index) into a new table; `meta` joins the config json (seed, backend, …). */
export const writeModels = (hint: string, models: ReadonlyArray<{ model: Model; meta: object }>, withMember: boolean) =>
  Effect.gen(function* () {
    const sql = yield* Sql
    if (!littleEndian)
      return yield* Effect.die(new Error("model blobs are little-endian float32; this host is big-endian"))
    const member: number[] = [],
      tensor: string[] = [],
      shape: string[] = [],
      data: Uint8Array[] = [],
      config: string[] = []
    models.forEach(({ model, meta }, k) => {
      const c = JSON.stringify({ ...model.config, meta })
      for (const t of model.tensors) {
        member.push(k)
        tensor.push(t.name)
        shape.push(JSON.stringify(t.shape))
        data.push(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength))
        config.push(c)
      }
    })
    const table = sql.tempName(hint)
    const cols = Object.entries(withMember ? membersColumns : modelColumns).map(([name, type]) => ({ name, type }))
    yield* sql.load(table, cols, withMember ? [member, tensor, shape, data, config] : [tensor, shape, data, config])
    return table
  })

const bytesOf = (v: unknown): Uint8Array | null =>
  v instanceof Uint8Array ? v : ((v as { bytes?: Uint8Array } | null)?.bytes ?? null)

/** Reads the models of a model (or ensemble) table, by member (a plain model table is member 0). */
export const readModels = (relation: string, hasMember: boolean, where: string) =>
  Effect.gen(function* () {
    const sql = yield* Sql
    const byMember = new Map<number, { config: ModelConfig | null; tensors: Tensor[] }>()
    let problem: string | null = null
    yield* sql.scan(
      `SELECT ${hasMember ? "member" : "0"}, tensor, shape::VARCHAR, data, config::VARCHAR FROM ${relation} ORDER BY 1`,
      (cols, n) => {
        for (let i = 0; i < n; i++) {
          const k = Number(cols[0]![i])
          const entry = byMember.get(k) ?? { config: null, tensors: [] }
          byMember.set(k, entry)
          entry.config ??= JSON.parse(String(cols[4]![i])) as ModelConfig
          const bytes = bytesOf(cols[3]![i])
          if (bytes === null || bytes.byteLength % 4 !== 0) {
            problem = `tensor ${String(cols[1]![i])} has no float32 data`
            continue
          }
          // copy: a blob's byteOffset need not be a multiple of 4, so a Float32Array view may throw
          const copy = new Float32Array(bytes.byteLength / 4)
          new Uint8Array(copy.buffer).set(bytes)
          entry.tensors.push({
            name: String(cols[1]![i]) as Tensor["name"],
            shape: JSON.parse(String(cols[2]![i])),
            data: copy
          })
        }
      }
    )
    const fail = (found: string) =>
      new DataError({
        where: `${where} input model`,
        found,
        expected: "a model table written by train.rewardModel or train.ensemble",
        fix: "connect the trainer's model (or models) table"
      })
    if (problem !== null) return yield* fail(problem)
    if (byMember.size === 0) return yield* fail("an empty model table")
    const models: Model[] = []
    for (const [, e] of [...byMember].sort((x, y) => x[0] - y[0])) {
      if (e.config?.format !== "wb-reward-model" || e.config.version !== 1)
        return yield* fail(`config format ${JSON.stringify(e.config?.format)}`)
      models.push({ config: e.config, tensors: e.tensors })
    }
    return models
  })
