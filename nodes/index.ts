/**
 * The node library: `import { load, dedupe, evaluate, filter, judge, strength, mix, split, transform, exportTo, report } from "preference-workbench/nodes"`.
 * `registry` maps every kind id (`load.hh-rlhf`, `dedupe.pairs`, …) to its definition, for YAML
 * pipelines and `wb nodes`.
 */
import { registryOf } from "../workbench/core/node.js"
import { dedupe } from "./dedupe/index.js"
import { evaluate } from "./evaluate/index.js"
import { exportTo } from "./export/index.js"
import { featurize } from "./featurize/index.js"
import { filter } from "./filter/index.js"
import { judge } from "./judge/index.js"
import { load } from "./load/index.js"
import { mix } from "./mix/index.js"
import { report } from "./report/index.js"
import { split } from "./split/index.js"
import { strength } from "./strength/index.js"
import { train } from "./train/index.js"
import { transform } from "./transform/index.js"

export { dedupe } from "./dedupe/index.js"
export { evaluate } from "./evaluate/index.js"
export { exportTo } from "./export/index.js"
export { featurize } from "./featurize/index.js"
export { filter } from "./filter/index.js"
export { judge } from "./judge/index.js"
export { load } from "./load/index.js"
export { mix } from "./mix/index.js"
export { report } from "./report/index.js"
export { split } from "./split/index.js"
export { strength } from "./strength/index.js"
export { train } from "./train/index.js"
export { transform } from "./transform/index.js"

/** Every node kind of the library, by id; by family, so `wb nodes` can show each kind's TypeScript name. */
export const registry = registryOf({
  dedupe,
  evaluate,
  exportTo,
  featurize,
  filter,
  judge,
  load,
  mix,
  report,
  split,
  strength,
  train,
  transform
})
