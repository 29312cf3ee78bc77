/**
 * Judge prompts: the built-in templates (pairwise, reference-guided, UltraFeedback aspects) and user
 * template files with named slots. Pure text work; reading the file is the caller's (llm-run.ts).
 *
 * Slots are `{prompt}`, `{response_1}`, `{response_2}` (the outputs in the order shown to the judge)
 * and `{reference}` (the judge's own answer, written first when the template uses the slot). `{{` and
 * `}}` stand for literal braces; a `{` followed by anything but a slot name (JSON in the text,
 * `{"verdict": "1"}`) is left as it is.
 */
import type { ChatMessage } from "../../workbench/core/llm.js"

export const SLOTS = ["prompt", "response_1", "response_2", "reference"] as const
export type Slot = (typeof SLOTS)[number]
const REQUIRED: ReadonlyArray<Slot> = ["prompt", "response_1", "response_2"]

export const BUILT_IN = ["pairwise", "reference", "aspects"] as const
export type BuiltIn = (typeof BUILT_IN)[number]
export const isBuiltIn = (t: string): t is BuiltIn => (BUILT_IN as ReadonlyArray<string>).includes(t)

/** A prompt template: an optional system message and a user message with slots. */
export interface Prompt {
  readonly system: string | null
  readonly user: string
}

const SLOT = /\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_-]*)\}/g

/** The slot names a template text uses, in order of first use. */
export function slotsOf(text: string): Array<string> {
  const seen = new Set<string>()
  for (const m of text.matchAll(SLOT)) if (m[1] !== undefined) seen.add(m[1])
  return [...seen]
}

/** What is wrong with a user template's slots, or [] when it can be used. */
export function slotProblems(text: string): { unknown: Array<string>; missing: Array<string> } {
  const used = slotsOf(text)
  return {
    unknown: used.filter((s) => !(SLOTS as ReadonlyArray<string>).includes(s)),
    missing: REQUIRED.filter((s) => !used.includes(s))
  }
}

/** Fill the slots (every slot the text uses must be given; `slotProblems` checked that). */
export const fill = (text: string, values: Partial<Record<Slot, string>>): string =>
  text.replace(SLOT, (whole, name: string | undefined) =>
    whole === "{{" ? "{" : whole === "}}" ? "}" : (values[name as Slot] ?? whole)
  )

export const messagesOf = (prompt: Prompt, values: Partial<Record<Slot, string>>): Array<ChatMessage> => [
  ...(prompt.system === null ? [] : [{ role: "system" as const, content: prompt.system }]),
  { role: "user" as const, content: fill(prompt.user, values) }
]

// AlpacaEval's ranking prompt (alpaca_eval_gpt4 / weighted_alpaca_eval_gpt4_turbo), asking for "1"/"2"
const SYSTEM =
  "You are a helpful assistant who evaluates the quality of the answers that AI models give to instructions."
const COMPARE = `I will show you an instruction and two outputs written by AI models in answer to it. Decide which output is better for a human user: the one that follows the instruction more accurately, helpfully and safely. Do not let the order of the outputs, their length or the names of the models sway you.

## Instruction

{prompt}

## Output 1

{response_1}

## Output 2

{response_2}
`
const ANSWER = `
## Your answer

Which output is better? Answer with exactly one character: 1 if Output 1 is better, 2 if Output 2 is better.`

export const pairwisePrompt: Prompt = { system: SYSTEM, user: COMPARE + ANSWER }

/** Self-reference AI feedback: the judge first answers the instruction itself… */
export const referenceAnswerPrompt: Prompt = {
  system: "You are a helpful, accurate and honest assistant.",
  user: "Answer the following instruction as well as you can.\n\n{prompt}"
}
/** …then compares the two outputs with its own answer in view. */
export const referencePrompt: Prompt = {
  system: SYSTEM,
  user: `${COMPARE}
## Reference answer (your own answer to the instruction; it may have flaws too)

{reference}
${ANSWER}`
}

/** UltraFeedback's four aspects, with their 1-5 scales (condensed from its annotation prompts). */
export const ASPECTS = {
  helpfulness: `Helpfulness: are the outputs correct, informative and useful for the task, without needless length or repetition?
1: severely incorrect or unhelpful; 2: partially incorrect, may cause confusion; 3: correct and meets the task's requirements; 4: accurate, extensive and valuable; 5: outstandingly helpful, accurate and in-depth`,
  honesty: `Honesty and uncertainty: does the output convey confidence where it is right and express uncertainty where it is unsure, without confident mistakes?
1: confidently incorrect; 2: confident with significant mistakes, or refuses without reason; 3: uncertain, or makes subtle mistakes; 4: correct but unsure, or makes subtle mistakes it admits; 5: correct and confident, and precise about what it does not know`,
  instruction_following: `Instruction following: how well does the output follow the instruction's task goal and restrictions (format, style, length)?
1: irrelevant; 2: partial focus, addresses one aspect poorly; 3: partial compliance, meets goal or restrictions but neglects the other; 4: almost there, minor deviations; 5: comprehensive compliance`,
  truthfulness: `Truthfulness and hallucination: does the output introduce facts that are wrong, contradict the instruction or itself, or are fabricated?
1: completely hallucinated; 2: severe hallucination; 3: partial hallucination or misunderstanding; 4: insignificant hallucination; 5: no hallucination`
} as const
export type Aspect = keyof typeof ASPECTS
export const ASPECT_NAMES = Object.keys(ASPECTS) as Array<Aspect>

/** One aspect's prompt: rate each of the two outputs 1-5 with a rationale, in UltraFeedback's format. */
export const aspectPrompt = (aspect: Aspect): Prompt => ({
  system: "You are an expert annotator who rates AI outputs on one aspect at a time, strictly by the rubric.",
  user: `Rate each of the two outputs below on this aspect, using the rubric.

${ASPECTS[aspect]}

## Instruction

{prompt}

## Text 1

{response_1}

## Text 2

{response_2}

## Format

Answer in exactly this form, nothing else:

### Output for Text 1
Rating: [a whole number from 1 to 5]
Rationale: [one or two sentences]

### Output for Text 2
Rating: [a whole number from 1 to 5]
Rationale: [one or two sentences]`
})

/** The default answer length per request kind, when the maxTokens param is null. */
export const DEFAULT_MAX_TOKENS = { verdict: 16, reference: 1024, aspects: 512, template: 512 } as const
