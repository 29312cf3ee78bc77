/**
 * The `Trainer` service: how a node trains and applies small reward models. Core declares the contract;
 * io implements it (`workbench/io/train/`: a sparse TypeScript trainer, and TensorFlow.js on the
 * wasm / cpu backends or, when installed, tfjs-node(-gpu)); nodes (the train family) list it in
 * `requires`. Every run the CLI or `runPipeline` starts provides the live implementation.
 *
 * The model: r(prompt, response) = w2ᵀ relu(w1ᵀ [p; r] + b1) + b2, where p and r are either mean-pooled
 * rows of one shared embedding table over hashed feature ids (`bag`), or given embedding vectors
 * (`dense`, no table). Weights are row-major float32 tensors `emb` [V, D] (bag only), `w1` [2D, H],
 * `b1` [H], `w2` [H, 1], `b2` [1]: every backend reads and writes the same tensors, so a model trained
 * on one scores on any other.
 *
 * A pairwise preference model (`head: "preference"`, *Nash Learning from Human Feedback*) reads both
 * responses: g(p, a, b) = w2ᵀ relu(w1ᵀ [p; a; b] + b1) + b2 with `w1` [3D, H], and logit P(a ≻ b) =
 * g(p, a, b) − g(p, b, a), antisymmetric by construction. Its `chosen` / `rejected` "scores" are
 * g(p, c, r) and g(p, r, c): only their difference (the logit) means anything, and every loss below
 * reads only that difference, so the two heads share the losses, the loop and the weight format.
 *
 * Loss per pair, with d = r_chosen − r_rejected − margin and α the pair's smoothing (the label
 * smoothing, 1 − label_weight, or 0.5 for a tie trained as a half-half target):
 * `(1 − α)·softplus(−d) + α·softplus(d)`; batch loss Σ wᵢℓᵢ / Σ wᵢ. For ranked lists (`lists`),
 * Plackett–Luce: Σ_{i<k−1} [logsumexp(s_i..s_k) − s_i].
 */
import { Context, type Effect } from "effect"
import type { DataError } from "./errors.js"

/** Which backend trains: `auto` walks tfjs-node-gpu → tfjs-node → sparse → wasm → cpu. */
export type TrainBackend = "auto" | "sparse" | "wasm" | "cpu" | "tensorflow" | "tensorflow-gpu"

/** The backend that actually ran, as named in stats and the summary. */
export type UsedBackend = "sparse" | "tfjs-wasm" | "tfjs-cpu" | "tfjs-node" | "tfjs-node-gpu"

export interface ModelConfig {
  readonly format: "wb-reward-model"
  readonly version: 1
  /** `bag`: hashed ids into a 2^bucketsLog2 × dim table; `dense`: given vectors of length dim. */
  readonly input: "bag" | "dense"
  readonly bucketsLog2: number
  readonly dim: number
  readonly hidden: number
  /** `reward` (absent: models written before the field existed) or `preference` (w1 is [3D, H]). */
  readonly head?: "reward" | "preference" | undefined
  /** The featurizer's settings (featurize.hash's hash_config), kept so scoring can check them. */
  readonly features: unknown
}

export interface Tensor {
  readonly name: "emb" | "w1" | "b1" | "w2" | "b2"
  readonly shape: ReadonlyArray<number>
  readonly data: Float32Array
}

export interface Model {
  readonly config: ModelConfig
  /** In the order emb (bag only), w1, b1, w2, b2. */
  readonly tensors: ReadonlyArray<Tensor>
}

/**
 * Texts, each a bag of ids (`ids[offsets[t] .. offsets[t+1])`) or a dense vector (`vectors[t·dim ..]`),
 * and pairs as text indices. Texts are shared: a prompt that begins many pairs is stored once.
 */
export interface TextTable {
  readonly count: number
  readonly offsets?: Int32Array | undefined
  readonly ids?: Int32Array | undefined
  readonly vectors?: Float32Array | undefined
}

export interface PairSet {
  readonly texts: TextTable
  readonly prompt: Int32Array
  /** Chosen and rejected texts (a and b when scoring). */
  readonly chosen: Int32Array
  readonly rejected: Int32Array
  /** Per-pair smoothing α in [0, 1) (0.5 for a tie), margin and loss weight (> 0). */
  readonly smoothing: Float32Array
  readonly margin: Float32Array
  readonly weight: Float32Array
  /** Ties: counted in loss, left out of accuracy. */
  readonly tie: Uint8Array
}

/** Ranked lists for Plackett–Luce: list l holds texts `members[starts[l] .. starts[l+1])`, best first. */
export interface ListSet {
  readonly texts: TextTable
  readonly prompt: Int32Array
  readonly starts: Int32Array
  readonly members: Int32Array
}

export interface TrainSpec {
  readonly config: ModelConfig
  readonly backend: TrainBackend
  readonly optimizer: "adam" | "sgd"
  readonly lr: number
  readonly schedule: "constant" | "linear" | "cosine"
  readonly epochs: number
  readonly batchSize: number
  /** Share of the pairs (seeded) held out to pick the best epoch; 0: no validation, the last epoch wins. */
  readonly validationFraction: number
  /** Epochs without a better validation loss before stopping (0: never stop early). */
  readonly patience: number
  readonly seed: number
  /** Sparse trainer threads (bag models); null or absent: one per core, at most 4. */
  readonly threads?: number | null | undefined
  /** Initial weights (a model to continue from); absent: a seeded init. */
  readonly init?: Model | undefined
  /** Where to name in messages (`node "rm" (train.reward-model)`). */
  readonly where: string
}

export interface StepReport {
  readonly epoch: number
  readonly step: number
  readonly steps: number
  readonly loss: number
  readonly accuracy: number
  readonly pairsPerSec: number
}

export interface EpochReport {
  readonly epoch: number
  readonly step: number
  readonly loss: number
  readonly accuracy: number
  readonly valLoss: number | null
  readonly valAccuracy: number | null
  readonly pairsPerSec: number
}

export interface TrainResult {
  /** The best epoch's weights (lowest validation loss), or the last epoch's without validation. */
  readonly model: Model
  readonly history: ReadonlyArray<EpochReport>
  readonly backend: UsedBackend
  /** Threads the sparse trainer used (1 on tfjs backends). */
  readonly threads: number
  /**
   * The sparse trainer's kernels: "wasm-simd" (WebAssembly SIMD) or "js" (the bit-identical JavaScript
   * fallback, where SIMD is missing or WB_SPARSE_SIMD=0); absent on tfjs backends.
   */
  readonly kernels?: "wasm-simd" | "js" | undefined
  /** Why backends before it in the chain were passed over ("@tensorflow/tfjs-node: not installed"). */
  readonly notes: ReadonlyArray<string>
  readonly params: number
  readonly bestEpoch: number
  /** Training pairs per second over the whole run (validation excluded). */
  readonly pairsPerSec: number
  readonly stoppedEarly: boolean
}

export interface TrainerShape {
  /**
   * Train on pairs (or ranked lists); `onStep` runs after every optimizer step, `onEpoch` after every
   * epoch's validation (its report is the epoch's `history` row).
   */
  readonly train: (
    spec: TrainSpec,
    data: { readonly pairs: PairSet } | { readonly lists: ListSet },
    onStep: (report: StepReport) => Effect.Effect<void>,
    onEpoch?: (report: EpochReport) => Effect.Effect<void>
  ) => Effect.Effect<TrainResult, DataError>
  /**
   * Scores of the chosen and rejected text of every pair, on the backend asked for (a preference model:
   * g(p, a, b) and g(p, b, a), whose difference is logit P(a ≻ b)).
   */
  readonly score: (
    model: Model,
    pairs: PairSet,
    backend: TrainBackend,
    where: string
  ) => Effect.Effect<
    { readonly chosen: Float32Array; readonly rejected: Float32Array; readonly backend: UsedBackend },
    DataError
  >
}

export class Trainer extends Context.Service<Trainer, TrainerShape>()("wb/Trainer") {}

/** How many D-wide inputs layer 1 reads: [p; r] for a reward model, [p; a; b] for a preference model. */
export const inputSlots = (c: ModelConfig): 2 | 3 => (c.head === "preference" ? 3 : 2)

/** Parameter count of a config. */
export const paramCount = (c: ModelConfig): number =>
  (c.input === "bag" ? 2 ** c.bucketsLog2 * c.dim : 0) + inputSlots(c) * c.dim * c.hidden + 2 * c.hidden + 1

/** Tensor shapes of a config, in the model's order. */
export const tensorShapes = (c: ModelConfig): ReadonlyArray<{ name: Tensor["name"]; shape: number[] }> => [
  ...(c.input === "bag" ? [{ name: "emb" as const, shape: [2 ** c.bucketsLog2, c.dim] }] : []),
  { name: "w1", shape: [inputSlots(c) * c.dim, c.hidden] },
  { name: "b1", shape: [c.hidden] },
  { name: "w2", shape: [c.hidden, 1] },
  { name: "b2", shape: [1] }
]
