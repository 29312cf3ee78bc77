/** The shapes of the `wb serve` API the UI reads (workbench/server/API.md). */

export type Status = "cached" | "stale" | "not-run" | "failed" | "running" | "damaged"

export interface Column {
  readonly name: string
  readonly type: string
}

export interface OutputTable {
  readonly role: string
  readonly rows: number | null
  readonly columns: ReadonlyArray<Column>
}

export interface NodeView {
  readonly name: string
  readonly title: string
  readonly table: string
  readonly kind: "histogram" | "bar" | "heatmap" | "line" | "scatter"
  readonly doc?: string
  /** A rule at y = the number (0.5: no preference), or the y = x diagonal (reliability). */
  readonly reference?: number | "diagonal"
  readonly xLabel?: string
  readonly yLabel?: string
}

/** A JSON Schema (draft 2020-12), the subset the params form reads. */
export interface JsonSchema {
  readonly type?: string
  readonly enum?: ReadonlyArray<string | number>
  readonly anyOf?: ReadonlyArray<JsonSchema>
  readonly properties?: Readonly<Record<string, JsonSchema>>
  readonly items?: JsonSchema
  readonly minimum?: number
  readonly maximum?: number
  readonly exclusiveMinimum?: number
  readonly exclusiveMaximum?: number
  readonly minLength?: number
  readonly description?: string
}

export interface ParamDoc {
  readonly path: string
  readonly type: string
  readonly required: boolean
  readonly default?: string
  readonly description?: string
}

export interface GraphNode {
  readonly name: string
  readonly kind: string
  readonly doc: string
  readonly params: Record<string, unknown>
  readonly paramsDoc: ReadonlyArray<ParamDoc>
  readonly paramsSchema: JsonSchema | null
  readonly inputs: Readonly<Record<string, ReadonlyArray<string>>>
  readonly edges: ReadonlyArray<string>
  readonly outputs: Readonly<Record<string, OutputTable>>
  readonly status: Status
  /** The cached artifact's key: a new one means new outputs. */
  readonly key: string | null
  readonly rowsIn: number | null
  readonly rowsOut: number | null
  readonly seconds: number | null
  readonly error: string | null
  readonly views: ReadonlyArray<NodeView>
  readonly viewProblems: ReadonlyArray<string>
}

export interface Graph {
  readonly id: string
  readonly pipeline: string
  readonly file: string
  readonly overrides: null | { readonly file: string; readonly set: Record<string, unknown> }
  readonly nodes: ReadonlyArray<GraphNode>
}

/** An error reply: where / what was found / what was expected / what to do. */
export interface Problem {
  readonly error: string
  readonly where?: string
  readonly found?: string
  readonly expected?: string
  readonly fix?: string
  readonly message?: string
}

/**
 * The runner's protocol events, the very type the runner emits and the server forwards. A type-only
 * import: erased by the build (Oxc strips `import type`/`export type`), so the bundle does not pull in
 * effect's Schema, only the UI's type check reads workbench/protocol/.
 */
export type { RunEvent } from "../../protocol/events.ts"
