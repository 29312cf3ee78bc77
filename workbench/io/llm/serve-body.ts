/**
 * Request bodies `wb llm serve` accepts, decoded with Schema so a bad body gets a 400 that names the
 * field: the OpenAI chat-completions and embeddings shapes, plus llama.cpp's `grammar` (GBNF).
 */
import { Result, Schema } from "effect"
import type { ChatMessage } from "../../core/llm.js"

const TextPart = Schema.Struct({ type: Schema.Literal("text"), text: Schema.String })
const Message = Schema.Struct({
  role: Schema.Literals(["system", "developer", "user", "assistant"]),
  // OpenAI also accepts content as a list of parts; only text parts mean anything to a text model
  content: Schema.Union([Schema.String, Schema.Array(TextPart)])
})
const Count = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))

const ChatBody = Schema.Struct({
  model: Schema.optional(Schema.String),
  messages: Schema.Array(Message).check(Schema.isMinLength(1)),
  temperature: Schema.optional(Schema.Number.check(Schema.isBetween({ minimum: 0, maximum: 2 }))),
  max_tokens: Schema.optional(Schema.NullOr(Count)),
  max_completion_tokens: Schema.optional(Schema.NullOr(Count)),
  seed: Schema.optional(Schema.NullOr(Schema.Int)),
  logprobs: Schema.optional(Schema.NullOr(Schema.Boolean)),
  top_logprobs: Schema.optional(Schema.NullOr(Count.check(Schema.isLessThanOrEqualTo(20)))),
  grammar: Schema.optional(Schema.NullOr(Schema.String)),
  n: Schema.optional(Schema.NullOr(Schema.Literal(1))),
  stream: Schema.optional(Schema.NullOr(Schema.Literal(false)))
})

const EmbeddingsBody = Schema.Struct({
  model: Schema.optional(Schema.String),
  input: Schema.Union([Schema.String, Schema.Array(Schema.String).check(Schema.isMinLength(1))])
})

export interface ServeChatRequest {
  readonly messages: ReadonlyArray<ChatMessage>
  readonly temperature: number
  /** null: until the context is full. */
  readonly maxTokens: number | null
  readonly seed: number | undefined
  /** undefined: no logprobs. */
  readonly topLogprobs: number | undefined
  readonly grammar: string | undefined
}

const problem = (error: { readonly message: string }) => ({ problem: error.message.replace(/\n\s*/g, " ") })

/** A parsed JSON body → the request, or what is wrong with it. */
export function decodeServeChat(json: unknown): ServeChatRequest | { readonly problem: string } {
  const decoded = Schema.decodeUnknownResult(ChatBody)(json)
  if (Result.isFailure(decoded)) return problem(decoded.failure)
  const b = decoded.success
  return {
    messages: b.messages.map((m) => ({
      // "developer" is OpenAI's newer name for the system role
      role: m.role === "developer" ? "system" : m.role,
      content: typeof m.content === "string" ? m.content : m.content.map((p) => p.text).join("")
    })),
    // OpenAI's default
    temperature: b.temperature ?? 1,
    maxTokens: b.max_completion_tokens ?? b.max_tokens ?? null,
    seed: b.seed ?? undefined,
    topLogprobs: b.logprobs === true ? (b.top_logprobs ?? 0) : undefined,
    grammar: b.grammar ?? undefined
  }
}

export function decodeServeEmbeddings(json: unknown): ReadonlyArray<string> | { readonly problem: string } {
  const decoded = Schema.decodeUnknownResult(EmbeddingsBody)(json)
  if (Result.isFailure(decoded)) return problem(decoded.failure)
  const input = decoded.success.input
  return typeof input === "string" ? [input] : input
}
