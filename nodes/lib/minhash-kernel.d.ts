/** Types of minhash-kernel.js (plain JavaScript so that worker threads can load it). */

export interface SketchOptions {
  /** LSH bands; `bands * rows` permutations are computed. */
  readonly bands: number
  /** Signature rows per band. */
  readonly rows: number
  /** Words per shingle. */
  readonly shingle: number
  readonly seed: number
  /** Keep at most this many (the smallest) distinct shingle hashes per text. */
  readonly setCap: number
  /**
   * "oph" (default): one-permutation MinHash with optimal densification, bands * rows bins.
   * "classic": bands * rows independent a*x+b permutations (slower, same statistics).
   */
  readonly method?: "oph" | "classic"
}

/** Sketches of a batch of texts, in typed arrays (transferable between threads). */
export interface SketchBatch {
  readonly n: number
  readonly bands: number
  /** n x bands band hashes, row-major. */
  readonly bandHashes: Uint32Array
  /** Text i's bottom-k shingle set is sets[offsets[i], offsets[i + 1]), sorted ascending. */
  readonly offsets: Int32Array
  /** Distinct shingles of text i before the cut to setCap (0: the text has no word). */
  readonly sizes: Int32Array
  readonly sets: Uint32Array
}

export function permutations(count: number, seed: number): { readonly a: Uint32Array; readonly b: Uint32Array }
export function shingleHashes(text: string, k: number): number
export function shingleSet(text: string, k: number): Uint32Array
export function sketchBatch(texts: ReadonlyArray<string | null | undefined>, options: SketchOptions): SketchBatch
/** Texts as UTF-16 code units: text i is units[ends[i - 1] (0 for i = 0), ends[i]). */
export interface PackedTexts {
  readonly units: Uint16Array
  readonly ends: Int32Array
}
/** UTF-16 units that packTexts needs for `texts`. */
export function packedLength(texts: ArrayLike<unknown>): number
/**
 * Pack texts for sketchPacked (anything but a string packs as the empty text, which sketches the same);
 * into `units` and `ends` when given (room for packedLength(texts) and texts.length values: the result
 * is subarrays of them), else into new arrays.
 */
export function packTexts(texts: ArrayLike<unknown>, units?: Uint16Array, ends?: Int32Array): PackedTexts
/** Arrays for sketchPacked to write to (room for n * bands, n + 1 and n values; sets: as much as there is). */
export interface SketchTargets {
  readonly bandHashes: Uint32Array
  readonly offsets: Int32Array
  readonly sizes: Int32Array
  readonly sets: Uint32Array
}
/**
 * sketchBatch on packed texts: the same sketches as sketchBatch on the strings. With `into`, the
 * sketches are subarrays of its arrays (sets in a new array if `into.sets` is too small).
 */
export function sketchPacked(
  units: Uint16Array,
  ends: Int32Array,
  options: SketchOptions,
  into?: SketchTargets
): SketchBatch
