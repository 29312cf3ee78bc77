import type { NodeReport, RunReport } from "./report.js"

/** Progress of a run, as a stream of events: the CLI renders them, the server forwards them. */
export type RunEvent =
  | {
    readonly _tag: "RunStarted"
    readonly pipeline: string
    readonly runId: string
    readonly nodes: ReadonlyArray<{ readonly name: string; readonly kind: string; readonly selected: boolean }>
  }
  | { readonly _tag: "NodeStarted"; readonly node: string; readonly kind: string }
  | {
    readonly _tag: "NodeProgress"
    readonly node: string
    readonly done: number
    readonly total?: number
    readonly unit: string
  }
  | { readonly _tag: "NodeNote"; readonly node: string; readonly text: string }
  | { readonly _tag: "NodeFinished"; readonly report: NodeReport }
  | { readonly _tag: "RunFinished"; readonly report: RunReport }
