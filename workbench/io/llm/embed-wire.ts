/**
 * The OpenAI embeddings wire format: `POST {baseUrl}/embeddings` with `{ model, input: [texts],
 * encoding_format: "float" }`, answered by `{ data: [{ index, embedding: number[] }], usage }`
 * (OpenAI, vLLM, Ollama's /v1, llama.cpp's server, `wb llm serve`). Decoded by hand, not with a
 * Schema: a batch of 64 texts at 1,024 dimensions is 65k numbers, checked in one loop each.
 */

export const embedBody = (model: string, texts: ReadonlyArray<string>) =>
  JSON.stringify({ model, input: texts, encoding_format: "float" })

export interface DecodedEmbeddings {
  readonly vectors: Array<Float32Array>
  readonly promptTokens: number | null
}

/** The vectors in input order (by `index`), or the problem in user words. */
export function decodeEmbeddings(text: string, expected: number): DecodedEmbeddings | { readonly problem: string } {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return { problem: "the body is not JSON" }
  }
  const data = (json as { data?: unknown } | null)?.data
  if (!Array.isArray(data)) return { problem: "the body has no data array of embeddings" }
  if (data.length !== expected) return { problem: `${data.length} embeddings for ${expected} texts` }
  const vectors: Array<Float32Array | undefined> = new Array(expected)
  for (let k = 0; k < data.length; k++) {
    const item = data[k] as { index?: unknown; embedding?: unknown } | null
    const index = typeof item?.index === "number" ? item.index : k
    const e = item?.embedding
    if (!Array.isArray(e)) {
      return {
        problem:
          typeof e === "string"
            ? "an embedding came base64-encoded (the server ignored encoding_format: float)"
            : `data[${k}] has no embedding array`
      }
    }
    if (!Number.isInteger(index) || index < 0 || index >= expected || vectors[index] !== undefined) {
      return { problem: `data[${k}] has index ${String(index)}; expected each of 0..${expected - 1} once` }
    }
    const v = new Float32Array(e.length)
    for (let i = 0; i < e.length; i++) {
      const x = e[i]
      if (typeof x !== "number" || !Number.isFinite(x))
        return { problem: `embedding ${index} has a non-number at ${i}` }
      v[i] = x
    }
    vectors[index] = v
  }
  const usage = (json as { usage?: { prompt_tokens?: unknown } }).usage
  return {
    vectors: vectors as Array<Float32Array>,
    promptTokens: typeof usage?.prompt_tokens === "number" ? usage.prompt_tokens : null
  }
}
