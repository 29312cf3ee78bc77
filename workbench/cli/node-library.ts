// MOVED: the node library loader now lives in workbench/io/catalog/node-library.ts, shared with the
// server. Edit that file; this re-export only keeps old imports working.
export * from "../io/catalog/node-library.js"
