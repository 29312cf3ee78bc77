// AI feedback on PandaLM, end to end: recorded model judges (gpt-3.5-turbo, PandaLM-7B), a prefer-longer
// baseline and four simulated annotators → one AI label per pair → preference strength → a human budget
// of 20% routed by uncertainty → summary.
// Run: npx wb run pipelines/judge-pandalm.ts
//   then: npx wb show pipelines/judge-pandalm.ts mix --table agreement   (each judge vs the human majority)
//         npx wb show pipelines/judge-pandalm.ts mix --table human_queue (what annotators would get next)
// The pairs are the loaded ones, before dedupe, so the agreement report can be checked against a count
// over the raw files (test/e2e/judge-pandalm.test.ts): gpt-3.5-turbo matches the human majority on 692 of
// the 993 loaded pairs (697 of 999 in the data README; the 6 rejected records hold 5 of those matches).
import { pipeline } from "preference-workbench"
import { judge, load, mix, report, strength } from "preference-workbench/nodes"

const DIR = "data/pandalm-testset"

export default pipeline("judge-pandalm", (p) => {
  // 993 pairs (6 records hold a boolean, not text); label = the majority of the 3 human annotators
  const panda = p.node("panda", load.pandalm({ path: DIR, maxRejectRate: 0.01 }))
  // the model judges' recorded verdicts, joined on idx; gpt's 24 "garbage" answers are failures, not votes
  const gpt = p.node(
    "gpt",
    judge.recorded({
      path: `${DIR}/gpt-3.5-turbo-testset-v1.json`,
      idColumn: "idx",
      pairColumn: "idx",
      verdictColumn: "gpt_result",
      rationaleColumn: "gpt_reason",
      rater: "gpt-3.5-turbo",
      model: "gpt-3.5-turbo"
    }),
    { pairs: panda }
  )
  const pandalm = p.node(
    "pandalm",
    judge.recorded({
      path: `${DIR}/pandalm-7b-testset-v1.json`,
      idColumn: "idx",
      pairColumn: "idx",
      verdictColumn: "pandalm_result",
      rationaleColumn: "pandalm_reason",
      rater: "pandalm-7b",
      model: "WeOpenML/PandaLM-7B-v1"
    }),
    { pairs: panda }
  )
  // baselines: the longer response wins (AlpacaEval measured 62% agreement with humans for this rule),
  // and an AlpacaFarm-style pool of 4 simulated annotators: the human label with 25% flip noise
  const longer = p.node("longer", judge.heuristic({ rule: "prefer-longer" }), { pairs: panda })
  const sim = p.node("sim", judge.simulated({ annotators: 4, flipRate: 0.25, seed: 0 }), { pairs: panda })
  // the AI label: the majority of the 7 AI raters' votes
  const ai = p.node("ai", judge.aggregate({ rule: "majority" }), {
    pairs: panda,
    votes: [gpt.votes, pandalm.votes, longer.votes, sim.votes]
  })
  // how strongly the raters back each AI label; flip the labels they strongly contradict
  const strong = p.node("strength", strength.filter({ flipBelow: -0.5 }), { pairs: ai, votes: ai.votes })
  // 20% of the pairs to humans, most uncertain first; the rest keep the AI label
  const mixed = p.node("mix", mix.route({ strategy: "route-by-uncertainty", budget: { fraction: 0.2 } }), {
    pairs: strong,
    human: panda.votes,
    ai: ai.votes
  })
  p.node("summary", report.summary(), { pairs: mixed, loaded: panda, removed: strong.dropped })
})
