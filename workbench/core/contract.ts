import type { ColumnType } from "./column-type.js"

/** One column of a table schema. */
export interface ColumnSpec {
  readonly name: string
  readonly type: ColumnType
}

/**
 * What is known about a table. `open` means the table may carry more columns than listed
 * (pass-through extras from a source file), so a column that is not listed is unknown, not missing.
 */
export interface TableSchema {
  readonly columns: ReadonlyArray<ColumnSpec>
  readonly open: boolean
}

/**
 * What a node needs from one named input. `Optional` is `optionalInput` as a type: a node sees
 * `ctx.inputs.<name>` as `InputTable | undefined` only when it may be left unconnected.
 */
export interface InputContract<Optional extends boolean = boolean> {
  readonly required: Readonly<Record<string, ColumnType>>
  readonly optional?: Readonly<Record<string, ColumnType>>
  /** The input accepts several upstream tables, unioned by column name. */
  readonly many?: boolean
  /** The input may be left unconnected. */
  readonly optionalInput?: Optional
  readonly doc?: string
}

type InputOptions = Omit<InputContract, "required">

/** `optionalInput` of an options literal: false when absent, its literal type when given. */
type OptionalOf<O> = "optionalInput" extends keyof O
  ? O extends { readonly optionalInput: true }
    ? true
    : O extends { readonly optionalInput?: false }
      ? false
      : boolean
  : false

/** How the engine counts an output table in run summaries. */
export type OutputRole = "main" | "rejects" | "removed" | "aux"

/**
 * What a node promises about one named output, computed from what is known about its inputs. `From`
 * is the input an `outputLike` output copies (none for others): `defineNode` only accepts one of the
 * kind's inputs there.
 */
export interface OutputContract<From extends string = never> {
  readonly role: OutputRole
  readonly doc?: string
  /** The input whose columns it copies (outputLike): checked against the kind's inputs. */
  readonly like?: From
  readonly schema: (inputs: Readonly<Record<string, TableSchema | undefined>>) => TableSchema
}

const columnsOf = (cols: Readonly<Record<string, ColumnType>>): Array<ColumnSpec> =>
  Object.entries(cols).map(([name, type]) => ({ name, type }))

/** An input contract; `{ optionalInput: true }` makes the node see it as possibly undefined. */
export const input = <const O extends InputOptions = {}>(
  required: Readonly<Record<string, ColumnType>>,
  options?: O
): InputContract<OptionalOf<O>> => ({ required, ...options }) as InputContract<OptionalOf<O>>

/** An output whose columns are listed; `open` when pass-through extras may follow. */
export const output = (
  role: OutputRole,
  columns: Readonly<Record<string, ColumnType>>,
  options: { readonly open?: boolean; readonly doc?: string } = {}
): OutputContract => {
  const schema: TableSchema = { columns: columnsOf(columns), open: options.open ?? false }
  return { role, ...(options.doc === undefined ? {} : { doc: options.doc }), schema: () => schema }
}

/** An output with the columns of input `from`, plus `add`, minus `drop`. */
export const outputLike = <const From extends string>(
  role: OutputRole,
  from: From,
  change: {
    readonly add?: Readonly<Record<string, ColumnType>>
    readonly drop?: ReadonlyArray<string>
    readonly doc?: string
  } = {}
): OutputContract<From> => ({
  role,
  like: from,
  ...(change.doc === undefined ? {} : { doc: change.doc }),
  schema: (inputs) => {
    const base = inputs[from] ?? { columns: [], open: true }
    const add = columnsOf(change.add ?? {})
    const dropped = new Set([...(change.drop ?? []), ...add.map((c) => c.name)])
    return { columns: [...base.columns.filter((c) => !dropped.has(c.name)), ...add], open: base.open }
  }
})

/** The union-by-name of several schemas: every column any of them has (absent ones read as NULL). */
export function unionSchemas(schemas: ReadonlyArray<TableSchema>): TableSchema {
  const seen = new Map<string, ColumnSpec>()
  for (const s of schemas) for (const c of s.columns) if (!seen.has(c.name)) seen.set(c.name, c)
  return { columns: [...seen.values()], open: schemas.some((s) => s.open) }
}

/** A schema's column, if listed. */
export const findColumn = (schema: TableSchema, name: string): ColumnSpec | undefined =>
  schema.columns.find((c) => c.name === name)
