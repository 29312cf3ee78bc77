/** Flags and argument quoting shared by the `wb` commands. */
import { Flag } from "effect/cli"

export const workspaceFlag = Flag.String("workspace").pipe(
  Flag.withDescription(
    "Workspace directory for artifacts and the run log (default $WB_WORKSPACE or .wb; a relative path resolves against the project root: the nearest folder above the pipeline with package.json or .wb/)"
  ),
  // WB_WORKSPACE: one workspace for every command of a shell or CI job, wherever they run from. Empty
  // counts as unset: `WB_WORKSPACE= wb run` would otherwise make the project folder itself the workspace
  Flag.withDefault(process.env["WB_WORKSPACE"] || ".wb")
)

/** Quote a CLI argument for a copy-pasteable hint. */
export const shellArg = (s: string): string => (/^[\w./@:=+-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`)

/** `--set node.param=value`, repeatable: params overridden before the graph is built (core/param-overrides.ts). */
export const setFlag = Flag.String("set").pipe(
  Flag.withDescription(
    "Override a param: node.param=value (JSON when it parses, else text; nested: node.a.b=1); repeatable"
  ),
  Flag.atLeast(0)
)
