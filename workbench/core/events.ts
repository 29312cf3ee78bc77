/**
 * Progress of a run, as a stream of events: the CLI renders them, the server forwards them. The types
 * are the protocol's (workbench/protocol/events.ts), so what the runner emits is what crosses the wire.
 */
import type { RunEvent } from "../protocol/events.js"

export type { RunEvent }

type Unstamped<E> = E extends unknown ? Omit<E, "runId" | "seq" | "time"> : never

/** An event before the runner stamps it with the run id, its sequence number and the time. */
export type RunEventBody = Unstamped<RunEvent>
