/**
 * The train family: small reward models trained and applied inside the pipeline, behind the `Trainer`
 * service (workbench/io/train/: the sparse CPU trainer, TensorFlow.js wasm / cpu, tfjs-node(-gpu) when
 * installed). Models are tables (one row per tensor), cached like any artifact.
 *
 * | preset | kind | what |
 * |---|---|---|
 * | `rewardModel` | `train.reward-model` | Bradley–Terry reward model on labelled, featurized pairs |
 * | `score` | `train.score` | score_a, score_b, p_a from a model |
 * | `ensemble` | `train.ensemble` | K models (seeds / bootstrap) and their votes, for strength.filter |
 * | `judgeRewardModel` | `judge.reward-model` | a model (or each ensemble member) as a rater: votes |
 */
import { ensemble } from "./ensemble.js"
import { judgeRewardModel } from "./judge-reward.js"
import { rewardModel } from "./reward-model.js"
import { score } from "./score.js"

export const train = {
  rewardModel,
  score,
  ensemble,
  judgeRewardModel
}
