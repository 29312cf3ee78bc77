// HH-RLHF harmless-base, the Secrets of RLHF II recipe end to end on a small bag-of-n-grams reward model:
// a 5-member ensemble votes on the training pairs, pairs the ensemble prefers the other way of (negative
// mean strength) are dropped, a reward model is retrained on the rest, and both it and a baseline trained on
// all training pairs are scored on the held-out 20% (prompts unseen in training).
// Run: npx wb run pipelines/rm-hh.ts
//   then: npx wb show pipelines/rm-hh.ts accuracy-before
//         npx wb show pipelines/rm-hh.ts accuracy-after
//         npx wb show pipelines/rm-hh.ts strong --table strength_report --limit 60
// The shipped data is the 2,312-pair test split: a bag model on ~1,800 training pairs is weak (about 0.62
// held-out accuracy, and the filter moves it by less than its interval; figures in the README); the point is a
// correct, honest pipeline, not a good reward model.
import { pipeline } from "preference-workbench"
import { dedupe, evaluate, featurize, load, split, strength, train } from "preference-workbench/nodes"

export default pipeline("rm-hh", (p) => {
  // 2,312 pairs; the chosen reply is put on side a or b by a hash of the pair (label 'a' or 'b')
  const hh = p.node("hh", load.hhRlhf({ path: "data/hh-rlhf-harmless-base/test.jsonl.gz" }))
  const clean = p.node("clean", dedupe.pairs({ normalize: "none" }), { pairs: hh })
  // grouped by prompt: no prompt (dialogue before the last assistant turn) is in both parts
  const parts = p.node("split", split.hash({ fractions: { train: 0.8, test: 0.2 }, groupBy: "prompt", seed: 0 }), {
    pairs: clean
  })
  // the same hashing on both sides: a text's ids do not depend on the split
  const trainFeats = p.node("train-feats", featurize.hash({ bucketsLog2: 18 }), { pairs: parts.train })
  const testFeats = p.node("test-feats", featurize.hash({ bucketsLog2: 18 }), { pairs: parts.test })

  // K = 5 members (seeds 1..5), each voting on every training pair: margin = score_a − score_b
  const ens = p.node("ens", train.ensemble({ members: 5, epochs: 3, seed: 1 }), { pairs: trainFeats })
  // strength = the members' mean margin towards the label; below 0 the ensemble prefers the rejected side.
  // smoothing 0 and marginScale 0: the retrain differs from the baseline only in the pairs it sees, so the
  // before / after comparison measures the filtering alone (no soft labels, no adaptive margin)
  const strong = p.node("strong", strength.filter({ drop: { below: 0 }, smoothing: 0, marginScale: 0 }), {
    pairs: trainFeats,
    votes: ens.votes
  })

  // the same settings and seed for both: all training pairs, and the pairs left after the filter
  const baseline = p.node("rm-all", train.rewardModel({ epochs: 3, seed: 1 }), { pairs: trainFeats })
  const filtered = p.node("rm-strong", train.rewardModel({ epochs: 3, seed: 1 }), { pairs: strong })
  const before = p.node("scored-before", train.score(), { model: baseline, pairs: testFeats })
  const after = p.node("scored-after", train.score(), { model: filtered, pairs: testFeats })
  // strict accuracy (ties wrong) on the held-out pairs, 95% bootstrap intervals (same seed for both)
  p.node("accuracy-before", evaluate.accuracy({ seed: 0 }), { pairs: before })
  p.node("accuracy-after", evaluate.accuracy({ seed: 0 }), { pairs: after })
})
