// Judge real pairs with a local LLM behind OpenAI-compatible servers: a pool of two, both orders.
// Offline, with a tiny random-weight model (answers are random: this proves the path, not labels):
//   npx wb llm tiny-model models/tiny.gguf --context-length 2048
//   npx wb llm serve --model models/tiny.gguf --port 8080 --threads 1 &
//   npx wb llm serve --model models/tiny.gguf --port 8081 --threads 1 &
//   npx wb run pipelines/judge-local.ts
//   npx wb show pipelines/judge-local.ts judge --table judgments
// Another server, same pipeline (the response cache is per model, so each model keeps its own answers):
//   Ollama:  --set judge.baseUrl=http://127.0.0.1:11434/v1 --set judge.model=qwen2.5:7b-instruct
//   vLLM:    --set 'judge.baseUrl=["http://gpu1:8000/v1","http://gpu2:8000/v1"]' --set judge.model=Qwen/Qwen2.5-7B-Instruct
//   OpenAI:  --set judge.baseUrl=https://api.openai.com/v1 --set judge.model=gpt-4o-mini --set judge.apiKeyEnv=OPENAI_API_KEY
import { pipeline } from "preference-workbench"
import { dedupe, filter, judge, load } from "preference-workbench/nodes"

export default pipeline("judge-local", (p) => {
  // PandaLM test set: 999 pairs with three human annotators each
  const panda = p.node("panda", load.pandalm({ path: "data/pandalm-testset", maxRejectRate: 0.01 }))
  // duplicates and mirrored twins out first: each is one judgment, not two
  const clean = p.node("clean", dedupe.pairs({ normalize: "none" }), { pairs: panda, votes: panda.votes })
  // a small slice of short pairs, so the whole judge prompt fits a small model's context
  const slice = p.node(
    "slice",
    filter.sql({
      where: "source_row < 68 and length(prompt) + length(response_a) + length(response_b) < 500",
      reason: "outside the demo slice"
    }),
    { pairs: clean, votes: clean.votes }
  )
  p.node(
    "judge",
    judge.llm({
      baseUrl: ["http://127.0.0.1:8080/v1", "http://127.0.0.1:8081/v1"],
      model: "tiny-random-llama",
      template: "pairwise",
      orders: "both",
      concurrency: 2,
      timeoutSeconds: 30
    }),
    { pairs: slice }
  )
})
