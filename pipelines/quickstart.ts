// Quickstart: two real public datasets -> one deduplicated pairs table -> a per-source summary.
// Run: npx wb run pipelines/quickstart.ts   (then: npx wb show pipelines/quickstart.ts summary --limit 50)
import { pipeline } from "preference-workbench"
import { dedupe, load, report } from "preference-workbench/nodes"

export default pipeline("quickstart", (p) => {
  // Anthropic HH-RLHF harmless-base test split: 2,312 chosen/rejected dialogues
  const hh = p.node("hh", load.hhRlhf({ path: "data/hh-rlhf-harmless-base/test.jsonl.gz" }))
  // PandaLM test set: 999 pairs, 3 human annotators + 2 model judges; 6 records hold booleans, not text
  const panda = p.node("panda", load.pandalm({ path: "data/pandalm-testset", maxRejectRate: 0.01 }))
  const clean = p.node("clean", dedupe.pairs({ normalize: "none" }), {
    pairs: [hh, panda],
    votes: [hh.votes, panda.votes]
  })
  p.node("summary", report.summary(), {
    pairs: clean,
    loaded: [hh, panda],
    removed: clean.removed,
    rejects: [hh.rejects, panda.rejects]
  })
})
