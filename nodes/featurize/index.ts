/**
 * Featurize family: columns that models read. `featurize.hash` (hashed word n-grams, always
 * available), `featurize.embed` (text embeddings from a model, through the Llm service),
 * `featurize.language` (ISO 639-3 language of a text, for slicing metrics).
 */
import { embed } from "./embed.js"
import { hash } from "./hash.js"
import { language } from "./language.js"

export { EMBED_COLUMNS, EmbedParams } from "./embed.js"
export { HASH_COLUMNS, HashParams, hashConfigOf } from "./hash.js"
export { LanguageParams, languagesOf } from "./language.js"

export const featurize = { embed, hash, language }
