/**
 * The protocol: message schemas shared by the CLI (`wb run --events`), the server and the browser.
 * Imports only `effect`'s Schema, so any side can decode what another sent.
 */
export { ErrorData, errorData, errorMessage, FailureData, InternalErrorData, isInternalError } from "./errors.js"
export {
  decodeRunEventLine,
  encodeRunEventLine,
  EventStamp,
  NodeFinished,
  NodeMetrics,
  NodeNote,
  NodeProgress,
  NodeStarted,
  RunEvent,
  RunEventJson,
  RunFinished,
  RunStarted
} from "./events.js"
export { NodeReport, NodeStatus, RunReport, RunStatus } from "./report.js"
