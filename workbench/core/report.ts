import type { ColumnSpec } from "./contract.js"

// Node and run reports are protocol data (workbench/protocol/report.ts): the CLI, `--events`, the
// server and the browser all read the same shapes.
export type { NodeReport, NodeStatus, RunReport } from "../protocol/report.js"

export interface ManifestTable {
  readonly file: string
  readonly rows: number
  readonly role: "main" | "rejects" | "removed" | "aux"
  readonly columns: ReadonlyArray<ColumnSpec>
  /** The file's size in bytes, content hash (`sha256:<hex>`) and mtime when written or last verified; absent in manifests of older versions. */
  readonly size?: number
  readonly hash?: string
  readonly mtimeMs?: number
}

/** The record written beside an artifact's files; its presence marks the artifact complete. */
export interface Manifest {
  readonly key: string
  readonly node: string
  readonly kind: string
  readonly version: number
  readonly params: unknown
  /**
   * input name -> the artifacts (key) and tables it was read from, with each file's content hash (absent
   * in manifests of older versions): the key of this artifact was computed from the hashes (early cutoff)
   */
  readonly inputs: Readonly<
    Record<string, ReadonlyArray<{ readonly key: string; readonly table: string; readonly hash?: string }>>
  >
  readonly tables: Readonly<Record<string, ManifestTable>>
  readonly stats: Readonly<Record<string, number | string>>
  readonly rowsIn: number
  readonly seconds: number
  readonly createdAt: string
}
