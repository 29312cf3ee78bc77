// MOVED: param docs now live in workbench/core/params-doc.ts (pure Schema walking, shared with the
// server). Edit that file; this re-export only keeps old imports working.
export * from "../core/params-doc.js"
