/** What every route shares: the project, the DuckDB reader, the event hub, the run manager, the label store. */
import type { EventHub } from "./hub.js"
import type { LabelStore } from "./labels.js"
import type { Project } from "./project.js"
import type { Reader } from "./reader.js"
import type { RunManager } from "./runs.js"

export interface ServerState {
  readonly project: Project
  readonly reader: Reader
  readonly hub: EventHub
  readonly runs: RunManager
  readonly labels: LabelStore
}
