// AlpacaEval 2, 49 models judged by GPT-4-turbo (weighted) against gpt4_1106_preview, two ways:
// 1. the leaderboard recomputed from the recorded judgments: win rate, SE, wins / losses / draws and the
//    length-controlled win rate per model (equal to the data README to 1e-6: test/e2e/rm-alpacaeval.test.ts);
// 2. a reward model trained on the judge's choices for 80% of the models, evaluated on the other models'
//    pairs: accuracy in predicting the judge's choice, with a bootstrap interval, overall and per held-out model.
// Run: npx wb run pipelines/rm-alpacaeval.ts
//   then: npx wb show pipelines/rm-alpacaeval.ts leaderboard --limit 60
//         npx wb show pipelines/rm-alpacaeval.ts accuracy --limit 60
// The data (47 MB) is not shipped in data/: it is read from the workplace's public-data collection, or from
// the folder WB_ALPACA_EVAL_2 names (tatsu-lab/alpaca_eval's results/<model>/weighted_alpaca_eval_gpt4_turbo/
// annotations.json files, one per model, gzip'd or not).
import { pipeline } from "preference-workbench"
import { evaluate, featurize, load, split, strength, train } from "preference-workbench/nodes"

const DIR = process.env["WB_ALPACA_EVAL_2"] ?? "../shared/data/alpaca-eval-2-weighted"

export default pipeline("rm-alpacaeval", (p) => {
  // 39,437 records; records with the same texts (two models' identical answers) become one pair with both votes
  const ae = p.node("ae", load.alpacaEval({ path: DIR }))
  // per model (each vote's own generator_b, from its meta), against the baseline on side a
  p.node("leaderboard", evaluate.winRate(), { votes: ae.votes, pairs: ae })

  // whole models held out: every pair of a test model is unseen in training (the baseline's answers are in both)
  const parts = p.node("split", split.hash({ fractions: { train: 0.8, test: 0.2 }, groupBy: "generator_b", seed: 0 }), {
    pairs: ae
  })
  // the judge's continuous preference as the label's strength: smoothing 1 makes label_weight = P(label side),
  // the soft target the reward model trains toward
  const soft = p.node("soft", strength.filter({ smoothing: 1 }), { pairs: parts.train, votes: ae.votes })
  // hashed unigrams + bigrams, the same settings on both sides (the ids of a text do not depend on the split)
  const trainFeats = p.node("train-feats", featurize.hash({ bucketsLog2: 18 }), { pairs: soft })
  const testFeats = p.node("test-feats", featurize.hash({ bucketsLog2: 18 }), { pairs: parts.test })
  const rm = p.node("rm", train.rewardModel({ epochs: 3, seed: 1 }), { pairs: trainFeats })
  const scored = p.node("scored", train.score(), { model: rm, pairs: testFeats })
  // strict accuracy (ties wrong) on the held-out models' pairs, overall and per model, 95% bootstrap intervals
  p.node("accuracy", evaluate.accuracy({ by: "generator_b", seed: 0 }), { pairs: scored })
  p.node("calibration", evaluate.calibration({ bins: 10 }), { pairs: scored })
})
