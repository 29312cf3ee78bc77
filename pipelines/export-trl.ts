// The quickstart's pairs, cleaned, split by prompt and written as a TRL preference dataset with its card.
// Run: npx wb run pipelines/export-trl.ts   (then: exports/hh-trl/{train,test}.jsonl and exports/hh-trl/README.md)
// HH-RLHF prompts get their "\n\nHuman: …\n\nAssistant:" markers back (prompt + chosen = the source
// transcript); PandaLM's ties are left out (the card, and `wb show pipelines/export-trl.ts train --table
// removed`, say which). No prompt is in both files: the split groups pairs by prompt.
import { pipeline } from "preference-workbench"
import { dedupe, exportTo, load, split } from "preference-workbench/nodes"

export default pipeline("export-trl", (p) => {
  const hh = p.node("hh", load.hhRlhf({ path: "data/hh-rlhf-harmless-base/test.jsonl.gz" }))
  const panda = p.node("panda", load.pandalm({ path: "data/pandalm-testset", maxRejectRate: 0.01 }))
  const clean = p.node("clean", dedupe.pairs({ normalize: "none" }), {
    pairs: [hh, panda],
    votes: [hh.votes, panda.votes]
  })
  const parts = p.node("split", split.hash({ fractions: { train: 0.9, test: 0.1 }, seed: 0 }), { pairs: clean })
  p.node("train", exportTo.trl({ to: "exports/hh-trl/train.jsonl", keep: ["pair_id"] }), { pairs: parts.train })
  p.node("test", exportTo.trl({ to: "exports/hh-trl/test.jsonl", keep: ["pair_id"] }), { pairs: parts.test })
})
