// MOVED: opening a pipeline (openPipeline, loadDefinition, workspacePaths) now lives in
// workbench/io/catalog/pipeline-context.ts, shared with the server; workspaceFlag and shellArg in
// workbench/cli/args.ts. Edit those files; this re-export only keeps old imports working.
export * from "../io/catalog/pipeline-context.js"
export { shellArg, workspaceFlag } from "./args.js"
