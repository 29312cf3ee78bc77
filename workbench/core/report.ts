import type { ColumnSpec } from "./contract.js"

export type NodeStatus = "ran" | "cached" | "failed" | "skipped" | "interrupted"

/** What happened to one node in one run. */
export interface NodeReport {
  readonly name: string
  readonly kind: string
  readonly status: NodeStatus
  readonly rowsIn: number
  readonly rowsOut: number
  readonly rejected: number
  readonly removed: number
  readonly seconds: number
  readonly key?: string
  readonly stats?: Readonly<Record<string, number | string>>
  /** Failure text (failed) or why it did not run (skipped). */
  readonly error?: string
  readonly errorTag?: string
}

export interface RunReport {
  readonly pipeline: string
  readonly runId: string
  readonly status: "ok" | "failed" | "interrupted"
  readonly seconds: number
  readonly nodes: ReadonlyArray<NodeReport>
}

export interface ManifestTable {
  readonly file: string
  readonly rows: number
  readonly role: "main" | "rejects" | "removed" | "aux"
  readonly columns: ReadonlyArray<ColumnSpec>
}

/** The record written beside an artifact's files; its presence marks the artifact complete. */
export interface Manifest {
  readonly key: string
  readonly node: string
  readonly kind: string
  readonly version: number
  readonly params: unknown
  /** input name -> the keys and tables it was read from */
  readonly inputs: Readonly<Record<string, ReadonlyArray<{ readonly key: string; readonly table: string }>>>
  readonly tables: Readonly<Record<string, ManifestTable>>
  readonly stats: Readonly<Record<string, number | string>>
  readonly rowsIn: number
  readonly seconds: number
  readonly createdAt: string
}
