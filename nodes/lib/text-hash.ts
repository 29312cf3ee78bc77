/**
 * Feature hashing of text for embedding-bag models: lowercased word unigrams and bigrams, each hashed
 * with 32-bit FNV-1a (over UTF-16 code units) into 2^bucketsLog2 buckets. `featurize.hash` writes these
 * ids; the train family and the sparse trainer call the same function to featurize at scoring time, so
 * a model's ids match the ones it was trained on exactly. The config travels with the data
 * (`hash_config`) and with models.
 *
 * With seed 0 the ids equal ../shared/guides/tfjs-training-examples/lib/data.ts `featurize` (the
 * trainers' reference): unigram `u\u0001<tok>`, bigram `b\u0001<tok>\u0001<tok>`, a text with no word
 * gets the one id of `<empty>` (never an empty bag). A seed changes FNV's offset basis, so other seeds
 * give other collisions.
 *
 * Gotchas: the version is part of the contract. Change any detail here (tokenizer, prefixes, basis)
 * and bump HASH_VERSION, or saved models silently score garbage.
 */

export const HASH_VERSION = 1

export interface HashConfig {
  /** 2^bucketsLog2 buckets (18: 262,144). */
  readonly bucketsLog2: number
  readonly unigrams: boolean
  readonly bigrams: boolean
  readonly seed: number
  readonly version: number
}

export const DEFAULT_HASH_CONFIG: HashConfig = {
  bucketsLog2: 18,
  unigrams: true,
  bigrams: true,
  seed: 0,
  version: HASH_VERSION
}

const FNV_BASIS = 0x811c9dc5
const FNV_PRIME = 0x01000193
const WORDS = /[^\p{L}\p{N}]+/u

/** FNV-1a's offset basis for a seed: seed 0 keeps the standard basis. */
export const hashBasis = (seed: number): number => (FNV_BASIS ^ Math.imul(seed | 0, 0x9e3779b1)) >>> 0

/** 32-bit FNV-1a of `s` from `basis` (unsigned). */
export function fnv1a(s: string, basis: number = FNV_BASIS): number {
  let h = basis
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, FNV_PRIME)
  }
  return h >>> 0
}

/** The lowercased words of a text (runs of letters and digits, any script). */
export function words(text: string): Array<string> {
  const parts = text.toLowerCase().split(WORDS)
  // split leaves "" at either end when the text starts or ends with a separator
  return parts.filter((t) => t.length > 0)
}

/**
 * A checker for a config read back from data or a model file: the problem in words, or undefined.
 * Used by the trainers before they trust a `hash_config` column.
 */
export function hashConfigProblem(c: unknown): string | undefined {
  if (typeof c !== "object" || c === null) return "not an object"
  const o = c as Record<string, unknown>
  if (o["version"] !== HASH_VERSION) return `version ${String(o["version"])}; this build hashes version ${HASH_VERSION}`
  const b = o["bucketsLog2"]
  if (typeof b !== "number" || !Number.isInteger(b) || b < 1 || b > 30) return `bucketsLog2 ${String(b)}`
  if (typeof o["unigrams"] !== "boolean" || typeof o["bigrams"] !== "boolean") return "unigrams/bigrams not booleans"
  if (typeof o["seed"] !== "number" || !Number.isInteger(o["seed"])) return `seed ${String(o["seed"])}`
  return undefined
}

/**
 * The bucket ids of one text (unigrams first, then bigrams, in text order; duplicates kept: a bag
 * counts them). Null or wordless text: the one `<empty>` id.
 *
 * Hot loop, inlined on purpose: each n-gram is hashed as if its prefixed string were built (same
 * ids as `fnv1a("u\u0001" + tok)`), without building it.
 */
export function hashText(text: string | null, config: HashConfig = DEFAULT_HASH_CONFIG): Int32Array {
  const mask = (2 ** config.bucketsLog2 - 1) | 0
  const basis = hashBasis(config.seed)
  const toks = text === null ? [] : words(text)
  const n = toks.length
  const out = new Int32Array((config.unigrams ? n : 0) + (config.bigrams && n > 1 ? n - 1 : 0) || 1)
  let k = 0
  // the hash state after "u\u0001" and "b\u0001", shared by every n-gram of the text
  const uBasis = Math.imul(Math.imul(basis ^ 0x75, FNV_PRIME) ^ 1, FNV_PRIME)
  const bBasis = Math.imul(Math.imul(basis ^ 0x62, FNV_PRIME) ^ 1, FNV_PRIME)
  if (config.unigrams) {
    for (let t = 0; t < n; t++) {
      const s = toks[t]!
      let h = uBasis
      for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), FNV_PRIME)
      out[k++] = h & mask
    }
  }
  if (config.bigrams) {
    for (let t = 0; t + 1 < n; t++) {
      const s = toks[t]!,
        r = toks[t + 1]!
      let h = bBasis
      for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), FNV_PRIME)
      h = Math.imul(h ^ 1, FNV_PRIME)
      for (let i = 0; i < r.length; i++) h = Math.imul(h ^ r.charCodeAt(i), FNV_PRIME)
      out[k++] = h & mask
    }
  }
  if (k === 0) out[0] = fnv1a("<empty>", basis) & mask
  return out
}
