/**
 * The OpenAI chat-completions wire format: the request body the client sends and the Schema its
 * response is decoded with. Servers that do not know a field ignore it (`grammar` is llama.cpp's,
 * `guided_choice` and `structured_outputs` vLLM's); api.openai.com refuses them.
 */
import { Result, Schema } from "effect"
import type { ChatRequest, TokenLogprob } from "../../core/llm.js"

/** A GBNF grammar whose only sentences are `choices` (llama.cpp servers accept it as `grammar`). */
export function choicesGrammar(choices: ReadonlyArray<string>): string {
  const literal = (s: string) =>
    `"${s
      .replace(/[\\"]/g, (c) => `\\${c}`)
      .replace(/\n/g, "\\n")
      .replace(/\r/g, "\\r")}"`
  return `root ::= ${choices.map(literal).join(" | ")}`
}

export function chatBody(model: string, request: ChatRequest): Record<string, unknown> {
  const body: Record<string, unknown> = {
    model,
    messages: request.messages.map((m) => ({ role: m.role, content: m.content })),
    temperature: request.temperature,
    max_tokens: request.maxTokens
  }
  if (request.seed !== undefined) body["seed"] = request.seed
  if (request.topLogprobs !== undefined && request.topLogprobs > 0) {
    body["logprobs"] = true
    body["top_logprobs"] = request.topLogprobs
  }
  if (request.choices !== undefined && request.choices.length > 0) {
    // each server reads its own field and ignores the others' (vLLM logs a warning for them):
    // llama.cpp and `wb llm serve` a GBNF grammar, vLLM up to 0.11 guided_choice, newer vLLM
    // structured_outputs. OpenAI refuses all three, so the judge does not send choices there.
    body["grammar"] = choicesGrammar(request.choices)
    body["guided_choice"] = [...request.choices]
    body["structured_outputs"] = { choice: [...request.choices] }
  }
  return body
}

const TopLogprob = Schema.Struct({ token: Schema.String, logprob: Schema.Number })

const ChatCompletion = Schema.Struct({
  choices: Schema.Array(
    Schema.Struct({
      message: Schema.Struct({ content: Schema.NullOr(Schema.String) }),
      logprobs: Schema.optional(
        Schema.NullOr(
          Schema.Struct({
            content: Schema.optional(
              Schema.NullOr(
                Schema.Array(
                  Schema.Struct({
                    token: Schema.String,
                    logprob: Schema.Number,
                    top_logprobs: Schema.optional(Schema.NullOr(Schema.Array(TopLogprob)))
                  })
                )
              )
            )
          })
        )
      )
    })
  ),
  usage: Schema.optional(
    Schema.NullOr(
      Schema.Struct({
        prompt_tokens: Schema.optional(Schema.NullOr(Schema.Number)),
        completion_tokens: Schema.optional(Schema.NullOr(Schema.Number))
      })
    )
  )
})

const decodeCompletion = Schema.decodeUnknownResult(ChatCompletion)

export interface DecodedAnswer {
  readonly text: string
  /** Null when the server did not report usage. */
  readonly promptTokens: number | null
  readonly completionTokens: number | null
  readonly logprobs: ReadonlyArray<TokenLogprob> | null
}

/** A 200 response body → the answer, or what is wrong with the body in user words. */
export function decodeChatBody(text: string): DecodedAnswer | { readonly problem: string } {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return { problem: "the response body is not JSON" }
  }
  const decoded = decodeCompletion(json)
  if (Result.isFailure(decoded)) {
    return { problem: `the response is not a chat completion (${decoded.failure.message.split("\n")[0]})` }
  }
  const choice = decoded.success.choices[0]
  if (choice === undefined) return { problem: "the response has no choices" }
  if (choice.message.content === null) return { problem: "the response's message has no content" }
  const tokens = choice.logprobs?.content
  const usage = decoded.success.usage
  return {
    text: choice.message.content,
    promptTokens: usage?.prompt_tokens ?? null,
    completionTokens: usage?.completion_tokens ?? null,
    logprobs:
      tokens === undefined || tokens === null
        ? null
        : tokens.map((t) => ({
            token: t.token,
            logprob: t.logprob,
            top: (t.top_logprobs ?? []).map((x) => ({ token: x.token, logprob: x.logprob }))
          }))
  }
}
