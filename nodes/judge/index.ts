/**
 * The judge family: AI feedback on pairs. LLM judges (`llm`: OpenAI-compatible servers, `gguf`: a
 * GGUF model in process) ask in both orders by default and write votes (with order, sample, p_a),
 * one judgment per pair (position consistency), aspect ratings, raters and a failures table.
 *
 * | preset | kind | what |
 * |---|---|---|
 * | `llm` | `judge.llm` | a model behind OpenAI-compatible servers (a pool), cached and budgeted |
 * | `gguf` | `judge.gguf` | a GGUF file in process (node-llama-cpp) |
 * | `aggregate` | `judge.aggregate` | votes and ratings → one label per pair (majority, mean p_a, reward-ensemble rules) |
 * | `recorded` | `judge.recorded` | votes from a recorded judgments file joined on an id (PandaLM's judge files) |
 * | `heuristic` | `judge.heuristic` | a named rule as a baseline rater: prefer longer / shorter, a regex |
 * | `simulated` | `judge.simulated` | AlpacaFarm-style simulated annotators: a label plus seeded noise and position bias |
 */
import { aggregate } from "./aggregate.js"
import { heuristic } from "./heuristic.js"
import { gguf, llm } from "./llm.js"
import { recorded } from "./recorded.js"
import { simulated } from "./simulated.js"

export const judge = {
  llm,
  gguf,
  aggregate,
  recorded,
  heuristic,
  simulated
}
