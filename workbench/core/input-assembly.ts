/**
 * How a node's input is put together from upstream artifacts: one table, or several unioned by column
 * name. Core declares the service; io implements it in the table engine's SQL (the runner writes none).
 */
import { Context, type Effect } from "effect"
import type { SqlError } from "./errors.js"
import type { InputTable } from "./node.js"
import type { Manifest } from "./report.js"
import type { SqlShape } from "./services.js"

/** One upstream table feeding an input. */
export interface InputPart {
  readonly manifest: Manifest
  readonly table: string
}

export interface AssembledInput {
  readonly table: InputTable
  /** Columns read as text because the unioned tables disagree on their type (the run says so). */
  readonly readAsText: ReadonlyArray<{ readonly name: string; readonly types: ReadonlyArray<string> }>
}

export class InputAssembly extends Context.Service<
  InputAssembly,
  {
    readonly assemble: (sql: SqlShape, parts: ReadonlyArray<InputPart>) => Effect.Effect<AssembledInput, SqlError>
  }
>()("wb/InputAssembly") {}
