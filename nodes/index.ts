/**
 * The node library: `import { load, dedupe, filter, judge, strength, mix, split, transform, exportTo, report } from "preference-workbench/nodes"`.
 * `registry` maps every kind id (`load.hh-rlhf`, `dedupe.pairs`, …) to its definition, for YAML
 * pipelines and `wb nodes`.
 */
import { registryOf } from "../workbench/core/node.js"
import { dedupe } from "./dedupe/index.js"
import { exportTo } from "./export/index.js"
import { filter } from "./filter/index.js"
import { judge } from "./judge/index.js"
import { load } from "./load/index.js"
import { mix } from "./mix/index.js"
import { report } from "./report/index.js"
import { split } from "./split/index.js"
import { strength } from "./strength/index.js"
import { transform } from "./transform/index.js"

export { dedupe } from "./dedupe/index.js"
export { exportTo } from "./export/index.js"
export { filter } from "./filter/index.js"
export { judge } from "./judge/index.js"
export { load } from "./load/index.js"
export { mix } from "./mix/index.js"
export { report } from "./report/index.js"
export { split } from "./split/index.js"
export { strength } from "./strength/index.js"
export { transform } from "./transform/index.js"

/** Every node kind of the library, by id; by family, so `wb nodes` can show each kind's TypeScript name. */
export const registry = registryOf({ dedupe, exportTo, filter, judge, load, mix, report, split, strength, transform })
