/**
 * The train family: small reward models trained and applied inside the pipeline, behind the `Trainer`
 * service (workbench/io/train/: the sparse CPU trainer, TensorFlow.js wasm / cpu, tfjs-node(-gpu) when
 * installed). Models are tables (one row per tensor), cached like any artifact.
 *
 * | preset | kind | what |
 * |---|---|---|
 * | `rewardModel` | `train.reward-model` | reward model on labelled, featurized pairs: Bradley–Terry, or Plackett–Luce over `rank_group` lists |
 * | `preferenceModel` | `train.preference-model` | pairwise P(a ≻ b \| prompt) over both responses (antisymmetric) |
 * | `score` | `train.score` | score_a, score_b, p_a from a model (a preference model: p_a only) |
 * | `ensemble` | `train.ensemble` | K models (seeds / bootstrap) and their votes, for strength.filter |
 * | `judgeRewardModel` | `judge.reward-model` | a model (or each ensemble member) as a rater: votes |
 */
import { ensemble } from "./ensemble.js"
import { judgeRewardModel } from "./judge-reward.js"
import { preferenceModel } from "./preference-model.js"
import { rewardModel } from "./reward-model.js"
import { score } from "./score.js"

export const train = {
  rewardModel,
  preferenceModel,
  score,
  ensemble,
  judgeRewardModel
}
