/**
 * The node library: `import { load, dedupe, report } from "preference-workbench/nodes"`.
 * `registry` maps every kind id (`load.hh-rlhf`, `dedupe.pairs`, …) to its definition, for YAML
 * pipelines and `wb nodes`.
 */
import { registryOf } from "../workbench/core/node.js"
import { dedupe } from "./dedupe/index.js"
import { load } from "./load/index.js"
import { report } from "./report/index.js"

export { dedupe } from "./dedupe/index.js"
export { load } from "./load/index.js"
export { report } from "./report/index.js"

/** Every node kind of the library, by id. */
export const registry = registryOf([...Object.values(dedupe), ...Object.values(load), ...Object.values(report)])
