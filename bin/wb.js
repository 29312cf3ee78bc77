#!/usr/bin/env node
// The `wb` command. Registers tsx so pipeline files and the workbench's TypeScript sources load
// without a build step, then hands over to the CLI.
//
// Plain-JS dependencies are imported before tsx is registered: they then skip tsx's loader hooks,
// which otherwise double the start-up time (Effect alone is several hundred modules).
import "effect"
import "effect/cli"
import "effect/encoding"
import "@effect/platform-node/NodeRuntime"
import "@effect/platform-node/NodeServices"
import { register } from "tsx/esm/api"

register()
await import("../workbench/cli/main.ts")
