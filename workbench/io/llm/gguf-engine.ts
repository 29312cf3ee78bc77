/**
 * One GGUF model in process: chat completions over a pool of context sequences, optional GBNF grammar
 * and per-token logprobs, and embeddings. Shared by the in-process client (`gguf.ts`, judge.gguf) and the
 * OpenAI-compatible server (`serve.ts`, `wb llm serve`), so both answer a request the same way.
 *
 * Gotchas:
 * - Sampling uses the whole distribution (topK 0, topP 1, minP 0), as the OpenAI protocol does (it has
 *   only a temperature): node-llama-cpp's default top-k 40 would also cut the probability map, so a
 *   verdict token outside the top 40 would have no logprob.
 * - With a grammar the probabilities are renormalised over the tokens it allows: for a `"1" | "2"` verdict
 *   p("1") + p("2") = 1, and the ratio equals the unconstrained one (checked in local-llm.md §4).
 * - At temperature > 0 the map is of the tempered distribution (node-llama-cpp reports what it samples).
 * - Each request starts from a cleared sequence: the same request gives the same tokens whatever ran
 *   before it on that sequence (temperature 0 is greedy, so deterministic).
 */
import { Effect, type Scope } from "effect"
import { basename } from "node:path"
import type {
  ChatHistoryItem,
  LlamaContextSequence,
  LlamaEmbeddingContext,
  LlamaGrammar,
  LlamaGrammarEvaluationState,
  Token
} from "node-llama-cpp"
import type { ChatMessage, TokenLogprob } from "../../core/llm.js"
import { DataError } from "../../core/errors.js"
import { type GgufLoadOptions, loadGguf } from "./gguf-load.js"

export interface GgufEngineOptions extends GgufLoadOptions {
  /** Tokens per sequence (prompt + answer; a longer prompt is refused, never cut); 0: the model's own, at most 4096. */
  readonly contextSize: number
  /** Sequences evaluated at once (batched in one context). */
  readonly sequences: number
}

export interface CompletionRequest {
  readonly messages: ReadonlyArray<ChatMessage>
  readonly temperature: number
  readonly maxTokens: number
  readonly seed?: number | undefined
  /** How many top logprobs per generated token; undefined: no logprobs at all, 0: only the chosen token's. */
  readonly topLogprobs?: number | undefined
  /** A GBNF grammar (llama.cpp's format) the answer must match. */
  readonly grammar?: string | undefined
  /** Stops generating (the tokens so far are discarded by the caller). */
  readonly signal?: AbortSignal | undefined
}

export interface Completion {
  readonly text: string
  readonly promptTokens: number
  readonly completionTokens: number
  /** "stop": an end-of-generation token (or the grammar was complete); "length": maxTokens or the context was reached. */
  readonly finish: "stop" | "length"
  readonly logprobs: ReadonlyArray<TokenLogprob> | null
}

/** A request this model can never answer as asked (prompt too long, bad grammar): the caller's fault, not the model's. */
export class GgufRequestError extends Error {}

export interface GgufEngine {
  /** general.name from the file, else the file name. */
  readonly modelName: string
  readonly fileName: string
  readonly contextSize: number
  readonly complete: (request: CompletionRequest) => Promise<Completion>
  /** Unit-length vectors (OpenAI's convention; llama models without pooling give norm ~√d). */
  readonly embed: (texts: ReadonlyArray<string>) => Promise<{ vectors: Array<Array<number>>; tokens: number }>
}

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e))

export const openGgufEngine = (
  options: GgufEngineOptions,
  where: string
): Effect.Effect<GgufEngine, DataError, Scope.Scope> =>
  Effect.gen(function* () {
    const { lib, llama, model } = yield* loadGguf(options, where)
    // node-llama-cpp's "auto" would take the model's full training context (131,072 tokens for some: GBs of cache)
    const contextSize = options.contextSize > 0 ? options.contextSize : Math.min(4096, model.trainContextSize)
    const context = yield* Effect.tryPromise({
      try: () =>
        model.createContext({
          contextSize,
          sequences: options.sequences,
          threads: options.threads
        }),
      catch: (e) =>
        new DataError({
          where,
          found: `a context of ${contextSize} tokens x ${options.sequences} sequences could not be created: ${errorText(e)}`,
          expected: "a context that fits in memory",
          fix: "lower contextSize or concurrency"
        })
    })
    const chatWrapper = lib.resolveChatWrapper(model)
    const free: Array<LlamaContextSequence> = Array.from({ length: options.sequences }, () => context.getSequence())
    const waiting: Array<(s: LlamaContextSequence) => void> = []
    // borrow a sequence, first come first served
    const withSequence = async <A>(use: (s: LlamaContextSequence) => Promise<A>): Promise<A> => {
      const seq = free.pop() ?? (await new Promise<LlamaContextSequence>((resolve) => waiting.push(resolve)))
      try {
        return await use(seq)
      } finally {
        const next = waiting.shift()
        if (next) next(seq)
        else free.push(seq)
      }
    }
    const grammars = new Map<string, Promise<LlamaGrammar>>()
    const grammarFor = (gbnf: string): Promise<LlamaGrammar> => {
      let g = grammars.get(gbnf)
      if (g === undefined) {
        g = llama.createGrammar({ grammar: gbnf }).catch((e: unknown) => {
          grammars.delete(gbnf)
          throw new GgufRequestError(`invalid GBNF grammar: ${errorText(e)}`)
        })
        if (grammars.size >= 64) grammars.delete(grammars.keys().next().value!)
        grammars.set(gbnf, g)
      }
      return g
    }
    const tokenText = (t: Token) => model.detokenize([t], true)
    const promptTokens = (messages: ReadonlyArray<ChatMessage>): Array<Token> => {
      const history: Array<ChatHistoryItem> = messages.map(
        (m): ChatHistoryItem =>
          m.role === "system"
            ? { type: "system", text: m.content }
            : m.role === "user"
              ? { type: "user", text: m.content }
              : { type: "model", response: [m.content] }
      )
      history.push({ type: "model", response: [] })
      return chatWrapper.generateContextState({ chatHistory: history }).contextText.tokenize(model.tokenizer)
    }

    const complete = async (request: CompletionRequest): Promise<Completion> => {
      const prompt = promptTokens(request.messages)
      const room = contextSize - prompt.length
      if (room <= 0) {
        throw new GgufRequestError(
          `the prompt is ${prompt.length} tokens; the context holds ${contextSize} (prompt and answer together)`
        )
      }
      const grammar = request.grammar === undefined ? undefined : await grammarFor(request.grammar)
      const limit = Math.min(request.maxTokens, room)
      const wantLogprobs = request.topLogprobs !== undefined
      const out: Array<Token> = []
      const logprobs: Array<TokenLogprob> = []
      let finish: "stop" | "length" = "stop"
      await withSequence(async (seq) => {
        await seq.clearHistory()
        const grammarEvaluationState: LlamaGrammarEvaluationState | undefined =
          grammar && new lib.LlamaGrammarEvaluationState({ model, grammar })
        const steps = seq.evaluateWithMetadata(
          prompt,
          { probabilities: wantLogprobs },
          {
            temperature: request.temperature,
            ...(request.seed !== undefined ? { seed: request.seed } : {}),
            topK: 0,
            topP: 1,
            minP: 0,
            ...(grammarEvaluationState ? { grammarEvaluationState } : {})
          }
        )
        // the generator ends by itself on an end-of-generation token
        for await (const step of steps) {
          if (request.signal?.aborted) break
          out.push(step.token)
          if (wantLogprobs) {
            const p = (step as { readonly probabilities?: Map<Token, number> }).probabilities ?? new Map()
            const top: Array<{ token: string; logprob: number }> = []
            for (const [t, pr] of p) {
              // sorted high to low; with a grammar the tokens it forbids follow with probability 0
              if (top.length >= request.topLogprobs! || !(pr > 0)) break
              top.push({ token: tokenText(t), logprob: Math.log(pr) })
            }
            logprobs.push({ token: tokenText(step.token), logprob: Math.log(p.get(step.token) ?? 0), top })
          }
          if (out.length >= limit) {
            finish = "length"
            break
          }
        }
      })
      return {
        text: model.detokenize(out),
        promptTokens: prompt.length,
        completionTokens: out.length,
        finish,
        logprobs: wantLogprobs ? logprobs : null
      }
    }

    // the embedding context is made on first use: most users of a model never ask for embeddings
    let embedding: Promise<LlamaEmbeddingContext> | undefined
    let embedQueue: Promise<unknown> = Promise.resolve()
    const embed = (texts: ReadonlyArray<string>) => {
      embedding ??= model.createEmbeddingContext({ contextSize, threads: options.threads })
      const run = async () => {
        const ctx = await embedding!
        const vectors: Array<Array<number>> = []
        let tokens = 0
        for (const text of texts) {
          const n = model.tokenize(text).length
          if (n >= contextSize) {
            throw new GgufRequestError(`an input is ${n} tokens; the context holds ${contextSize}`)
          }
          tokens += n
          const v = (await ctx.getEmbeddingFor(text)).vector
          const norm = Math.hypot(...v) || 1
          vectors.push(v.map((x) => x / norm))
        }
        return { vectors, tokens }
      }
      // one embedding at a time on one context (Promise.all was not faster, local-llm.md §5)
      const result = embedQueue.then(run, run)
      embedQueue = result.catch(() => undefined)
      return result
    }

    const fileName = basename(options.modelPath)
    const name = model.fileInfo.metadata?.general?.name
    return {
      modelName: typeof name === "string" && name.length > 0 ? name : fileName,
      fileName,
      contextSize,
      complete,
      embed
    }
  })
