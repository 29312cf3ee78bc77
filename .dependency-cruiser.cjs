// The layer table of ../shared/guides/style.md §1 and the node-family rule, as dependency-cruiser rules.
// `npm run lint:imports` (part of `npm test`) fails on any violation; test/lint/import-rules.test.ts proves
// each rule that matters fires. Every rule sees static imports, re-exports, `import type` and literal
// dynamic `import("…")`; a dynamic import of a computed string is invisible to any static tool, which is
// why the CLI's runtime loaders (pipeline files, WB_NODE_LIBRARY) are the only places that do it.
//
// Builtins: dependency-cruiser reports `node:fs` and `fs` alike as the core module "fs", so the patterns
// below match both spellings.

// Builtins that touch the world (files, processes, sockets, threads). core must not use them: files and
// processes are io's, reached through service tags.
const IO_BUILTINS = [
  "fs",
  "fs/promises",
  "child_process",
  "cluster",
  "dgram",
  "dns",
  "dns/promises",
  "http",
  "http2",
  "https",
  "inspector",
  "module",
  "net",
  "os",
  "process",
  "readline",
  "readline/promises",
  "repl",
  "tls",
  "tty",
  "v8",
  "vm",
  "worker_threads"
]
const builtin = (names) => `^(node:)?(${names.map((n) => n.replace("/", "\\/")).join("|")})$`

module.exports = {
  forbidden: [
    // ---- core: effect and itself, nothing else ------------------------------------------------------------
    // protocol is below core, not beside it: it holds only effect Schemas (run events, reports, errors as
    // data) and imports nothing of ours, so core building its events on them keeps the graph acyclic and
    // lets the server and browser share the very shapes the runner emits.
    {
      name: "core-imports-only-core-and-effect",
      comment:
        "workbench/core/ is the DAG engine: it may import effect, workbench/protocol/ and its own modules " +
        "only (style.md §1). Move the code to workbench/io/ (files, DuckDB) or pass what it needs in.",
      severity: "error",
      from: { path: "^workbench/core/" },
      to: {
        dependencyTypesNot: ["core"],
        couldNotResolve: false, // reported once, by no-unresolvable-in-layers
        pathNot: ["^workbench/(core|protocol)/", "^node_modules/effect/"]
      }
    },
    {
      name: "core-no-io-builtins",
      comment:
        "workbench/core/ must not touch files, processes, sockets or threads (style.md §1: files are io's). " +
        "node:crypto stays allowed: hashing bytes is pure, deterministic and does no I/O, and core never " +
        "reaches the browser (ui imports protocol only). Put file access in workbench/io/ behind a service.",
      severity: "error",
      from: { path: "^workbench/core/" },
      to: { dependencyTypes: ["core"], path: builtin(IO_BUILTINS) }
    },

    // ---- io: core, never the layers above it ------------------------------------------------------------
    {
      name: "io-not-to-upper-layers",
      comment:
        "workbench/io/ provides core's services; it must not import nodes, pipelines, cli, server or ui " +
        "(style.md §1). Put shared code in workbench/core/ or pass it in.",
      severity: "error",
      from: { path: "^workbench/io/" },
      to: { path: ["^nodes/", "^pipelines/", "^workbench/(cli|server|ui)/"] }
    },

    // ---- nodes: core's node API, effect, nodes/lib/ -------------------------------------------------------
    {
      name: "nodes-only-core-api",
      comment:
        "nodes/ may import workbench/core/ (node API, contracts, service tags) and nothing else of the " +
        "workbench: no io, cli, server, ui, protocol, pipelines (style.md §1). Reach the world through a " +
        "service tag from core.",
      severity: "error",
      from: { path: "^nodes/" },
      to: { path: ["^workbench/(?!core/)", "^pipelines/"] }
    },
    {
      name: "node-family-not-to-other-family",
      comment:
        "a node family (nodes/<family>/) must not import another family or the nodes/index.ts barrel " +
        "(style.md §1): move what both need to nodes/lib/.",
      severity: "error",
      from: { path: "^nodes/(?!lib/)([^/]+)/" },
      to: { path: "^nodes/", pathNot: ["^nodes/$1/", "^nodes/lib/"] }
    },
    {
      name: "nodes-lib-not-to-families",
      comment:
        "nodes/lib/ holds what several families share; it must not import a family (style.md §1): " +
        "move the needed piece into nodes/lib/ too.",
      severity: "error",
      from: { path: "^nodes/lib/" },
      to: { path: "^nodes/", pathNot: "^nodes/lib/" }
    },

    // ---- pipelines: nodes and the pipeline builder ---------------------------------------------------------
    {
      name: "pipelines-not-to-runtime",
      comment:
        "pipelines/ say what runs: they import nodes and core's pipeline builder, never io, cli, server or ui " +
        '(style.md §1). Import from "preference-workbench" and "preference-workbench/nodes".',
      severity: "error",
      from: { path: "^pipelines/" },
      to: { path: "^workbench/(io|cli|server|ui)/" }
    },

    // ---- cli, server: load pipelines by path at run time, never a specific node ---------------------------
    {
      name: "cli-server-no-specific-node",
      comment:
        "workbench/cli/ and workbench/server/ know no specific node or pipeline (style.md §1): they load " +
        "pipelines by path at run time. Go through core's registry or a pipeline file.",
      severity: "error",
      from: { path: "^workbench/(cli|server)/" },
      to: { path: ["^nodes/", "^pipelines/", "^workbench/ui/"] }
    },

    {
      name: "server-not-to-cli",
      comment:
        "workbench/server/ is a layer beside cli (style.md §1): it may import core, io and protocol; the CLI " +
        "starts it (cli/serve.ts), never the other way round. Move what both need to io/ or core/.",
      severity: "error",
      from: { path: "^workbench/server/" },
      to: { path: "^workbench/cli/" }
    },

    // ---- protocol: effect Schema only ---------------------------------------------------------------------
    {
      name: "protocol-only-effect",
      comment:
        "workbench/protocol/ is shared by the server and the browser: effect (Schema) and itself only, " +
        "no Node builtins (style.md §1).",
      severity: "error",
      from: { path: "^workbench/protocol/" },
      to: { pathNot: ["^workbench/protocol/", "^node_modules/effect/"] }
    },

    // ---- ui: protocol and browser libraries, nothing that runs only in Node --------------------------------
    {
      name: "ui-browser-only",
      comment:
        "workbench/ui/ runs in the browser: protocol, Plot, arquero, apache-arrow and itself; no Node " +
        "builtins, no core, io, nodes, cli or server (style.md §1).",
      severity: "error",
      from: { path: "^workbench/ui/" },
      to: {
        pathNot: [
          "^workbench/(ui|protocol)/",
          "^node_modules/(@observablehq/plot|arquero|apache-arrow|@uwdata/|@dagrejs/dagre|preact|effect)/"
        ]
      }
    },

    // ---- no blind spots -----------------------------------------------------------------------------------
    {
      name: "no-own-package-name-inside",
      comment:
        'inside workbench/ and nodes/, import the workbench\'s modules by relative path: "preference-workbench" ' +
        "resolves to the built dist/ (or to nothing before a build), which no rule above can see into. " +
        "The package name is for pipelines and users.",
      severity: "error",
      from: { path: "^(workbench|nodes)/" },
      to: { path: ["^dist/", "^preference-workbench($|/)"] }
    },
    {
      name: "no-unresolvable-in-layers",
      comment:
        "an import the checker cannot resolve escapes every rule above. Fix the path (relative imports " +
        "carry .js, style.md §4) or install the package.",
      severity: "error",
      from: { path: "^(workbench|nodes|pipelines)/" },
      // the package's own name resolves only once dist/ is built; pipelines use it by design
      to: { couldNotResolve: true, pathNot: "^preference-workbench($|/)" }
    }
  ],
  options: {
    // TypeScript 7 ships no JS compiler API, so dependency-cruiser parses with swc (a devDependency).
    parser: "swc",
    // count `import type` too: a type-only import still ties one layer's source to another's
    tsPreCompilationDeps: true,
    // dist/ is not excluded, only not followed: an import of the package's own name stays visible as an
    // edge to dist/ (see no-own-package-name-inside)
    doNotFollow: { path: ["node_modules", "^dist/"] },
    // swc is run without JSX here, so the UI's .tsx files are not parsed: test/lint/ui-imports.test.ts
    // holds every workbench/ui/ file (.tsx included) to the ui-browser-only rule's list instead
    exclude: { path: "^workbench/ui/.*\\.tsx$" },
    moduleSystems: ["es6", "cjs"],
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["types", "import", "node", "default"],
      extensions: [".ts", ".js", ".mjs", ".d.ts"],
      mainFields: ["module", "main", "types"]
    },
    skipAnalysisNotInRules: true
  }
}
