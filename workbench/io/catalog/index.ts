/**
 * The catalog: what a workspace and a project hold, for every front end (the `wb` commands, the coming
 * server). Opening a pipeline file, the node library (registry), each node's cache state, the
 * artifacts and their lineage. Param docs are pure Schema walking and live in core (params-doc.ts).
 */
export { cacheStates, lineage, listArtifacts, mainTable, tableFile } from "./artifacts.js"
export type { CacheState, LineageStep, NodeArtifacts } from "./artifacts.js"
export { loadNodeLibrary, nodeLibraryLocation } from "./node-library.js"
export { loadDefinition, openPipeline, workspacePaths } from "./pipeline-context.js"
export type { PipelineContext, WorkspacePaths } from "./pipeline-context.js"
