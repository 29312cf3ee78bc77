/** Public API of the workbench: build pipelines, run them, and declare your own node kinds. */
export { pipeline } from "./core/pipeline.js"
export type { InputBinding, NodeHandle, PipelineBuilder, PipelineDefinition, TableRef } from "./core/pipeline.js"
export { defineNode, registryOf } from "./core/node.js"
export type {
  CoreServices,
  InferContext,
  Inferred,
  InputTable,
  InputTables,
  NodeDefinition,
  NodeKind,
  NodeOutput,
  NodeRegistry,
  NodeRunContext,
  NodeSpec,
  ParamsSchema,
  ServiceKey
} from "./core/node.js"
export { param } from "./core/params.js"
export { defineConfig } from "./core/config.js"
export type { NodeKinds, ServicesLayer, WbConfig } from "./core/config.js"
export { input, output, outputLike } from "./core/contract.js"
export type { ColumnSpec, InputContract, OutputContract, TableSchema } from "./core/contract.js"
export type { ColumnType } from "./core/column-type.js"
export { buildGraph } from "./core/graph.js"
export type { PipelineGraph } from "./core/graph.js"
export { runPipeline, runPipelineEffect } from "./run-pipeline.js"
export type { NodeResult, PipelineResult, RunPipelineOptions } from "./run-pipeline.js"
export type { ResultTable } from "./io/arrow-result.js"
export type { Manifest } from "./core/report.js"
// the protocol: run events, reports and errors as Schemas (values and types), for programs that read
// `wb run --events` (decodeRunEventLine) or forward a run's events
export {
  decodeRunEventLine,
  encodeRunEventLine,
  ErrorData,
  errorData,
  FailureData,
  InternalErrorData,
  NodeFinished,
  NodeMetrics,
  NodeNote,
  NodeProgress,
  NodeReport,
  NodeStarted,
  NodeStatus,
  RunEvent,
  RunEventJson,
  RunFinished,
  RunReport,
  RunStarted,
  RunStatus
} from "./protocol/index.js"
export { DataError, NodeKindClashError, PipelineInvalidError, ServiceMissingError } from "./core/errors.js"
export type { NodeError } from "./core/errors.js"
export { Progress, SchemaProbe, Sql, Workspace } from "./core/services.js"
export { ExportFiles } from "./core/export-files.js"
export type { ExportCaller, ExportFilesShape, ExportTarget, ExportWritten } from "./core/export-files.js"
