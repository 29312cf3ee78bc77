/**
 * Which backend trains, resolved at run time: `auto` walks @tensorflow/tfjs-node-gpu → @tensorflow/tfjs-node
 * (optional peers; importing one registers tfjs's `tensorflow` backend) → the sparse TypeScript trainer.
 * `wasm` and `cpu` are TensorFlow.js backends bundled with wb; tfjs loads only when one of them (or
 * tfjs-node) is asked for, so a run that never trains never loads it.
 *
 * Gotchas (../shared/guides/tfjs-training.md §0–1): tfjs-node(-gpu)'s install downloads libtensorflow
 * from outside npm, so on a locked-down machine it is simply absent (ERR_MODULE_NOT_FOUND); the wasm
 * path prefix is concatenated, so it must end in "/"; a failed wasm init makes setBackend resolve false
 * and tfjs silently fall back to cpu: both are checked.
 */
import { Effect } from "effect"
import { createRequire } from "node:module"
import { dirname } from "node:path"
import { DataError } from "../../core/errors.js"
import type { ModelConfig, TrainBackend, UsedBackend } from "../../core/trainer.js"
import { paramCount } from "../../core/trainer.js"

const NODE_PACKAGES = {
  "tfjs-node-gpu": "@tensorflow/tfjs-node-gpu",
  "tfjs-node": "@tensorflow/tfjs-node"
} as const

/** What a GPU user installs (README "Training on a GPU" repeats it). */
export const TFJS_NODE_NEEDS =
  "npm install @tensorflow/tfjs-node-gpu@4.22.0 (Linux x64, NVIDIA driver, CUDA 11.2 and cuDNN 8.1 for its libtensorflow 2.9.1; " +
  "its install script downloads libtensorflow from storage.googleapis.com) or @tensorflow/tfjs-node@4.22.0 for the CPU build"

/** wasm32 has one linear memory of at most 4 GiB − 64 KiB that never shrinks. */
export const WASM_HEAP_MAX = 4294901760
/** Peak tensor bytes of one minimize step over parameter bytes, measured with tf.profile (guide §1). */
export const PEAK_FACTOR = { sgd: 5.7, adam: 18.2 } as const
const HEADROOM = 256 * 2 ** 20

/** Refuse, before allocating, a model whose parameters + optimizer temporaries overflow the wasm heap. */
export function wasmBudget(c: ModelConfig, optimizer: "adam" | "sgd", where: string): DataError | null {
  const params = paramCount(c),
    bytes = params * 4,
    peak = bytes * PEAK_FACTOR[optimizer] + HEADROOM
  if (peak <= WASM_HEAP_MAX) return null
  const gib = (b: number) => `${(b / 2 ** 30).toFixed(2)} GiB`
  return new DataError({
    where: `${where} param backend`,
    found: `the model has ${params.toLocaleString("en-US")} parameters (${gib(bytes)}); training it with ${optimizer} on wasm peaks at about ${gib(peak)}`,
    expected: `at most ${gib(WASM_HEAP_MAX)}: the wasm backend's memory limit`,
    fix: "use fewer hash buckets or a smaller dim, optimizer: sgd, or backend: sparse (it keeps only the touched rows' updates)"
  })
}

export interface Resolved {
  readonly backend: UsedBackend
  /** Why earlier backends of the chain were passed over. */
  readonly notes: ReadonlyArray<string>
}

const reasonOf = (e: unknown): string => {
  const code = (e as { code?: string }).code
  const text = e instanceof Error ? e.message : String(e)
  // Node says ERR_MODULE_NOT_FOUND; bundlers and test runners (vite) say it in words
  return code === "ERR_MODULE_NOT_FOUND" ||
    code === "MODULE_NOT_FOUND" ||
    /Cannot find (module|package)|Could not resolve/.test(text)
    ? "not installed"
    : `failed to load (${text.split("\n")[0]})`
}

/** Import tfjs-node(-gpu) and switch tfjs to its `tensorflow` backend; a reason string when that fails. */
async function tryNode(which: keyof typeof NODE_PACKAGES): Promise<string | null> {
  const pkg: string = NODE_PACKAGES[which]
  try {
    await import(pkg)
    const tf = await import("@tensorflow/tfjs")
    if (!(await tf.setBackend("tensorflow"))) return "loaded, but its tensorflow backend did not initialise"
    await tf.ready()
    return null
  } catch (e) {
    return reasonOf(e)
  }
}

/** Switch tfjs to wasm or cpu; the wasm binaries ship in @tensorflow/tfjs-backend-wasm's dist/. */
async function useTfjs(name: "wasm" | "cpu"): Promise<string | null> {
  try {
    const tf = await import("@tensorflow/tfjs")
    if (name === "wasm") {
      const wasm = await import("@tensorflow/tfjs-backend-wasm")
      // main is dist/tf-backend-wasm.node.js; the .wasm files sit beside it; the trailing "/" matters
      wasm.setWasmPaths(`${dirname(createRequire(import.meta.url).resolve("@tensorflow/tfjs-backend-wasm"))}/`)
    }
    const ok = await tf.setBackend(name)
    await tf.ready()
    return ok && tf.getBackend() === name ? null : `initialisation failed (tfjs fell back to ${tf.getBackend()})`
  } catch (e) {
    return reasonOf(e)
  }
}

/** Resolve the backend a run asked for; a DataError when an explicitly named one is not available. */
export const resolveBackend = (choice: TrainBackend, where: string): Effect.Effect<Resolved, DataError> =>
  Effect.tryPromise({
    try: () => resolve(choice, where),
    catch: (e) => e as DataError
  })

async function resolve(choice: TrainBackend, where: string): Promise<Resolved> {
  if (choice === "sparse") return { backend: "sparse", notes: [] }
  if (choice === "auto") {
    const notes: string[] = []
    for (const which of ["tfjs-node-gpu", "tfjs-node"] as const) {
      const why = await tryNode(which)
      if (why === null) return { backend: which, notes }
      notes.push(`${NODE_PACKAGES[which]}: ${why}`)
    }
    return { backend: "sparse", notes }
  }
  if (choice === "tensorflow" || choice === "tensorflow-gpu") {
    const which = choice === "tensorflow" ? "tfjs-node" : "tfjs-node-gpu"
    const why = await tryNode(which)
    if (why === null) return { backend: which, notes: [] }
    throw new DataError({
      where: `${where} param backend`,
      found: `backend "${choice}" needs ${NODE_PACKAGES[which]}, which is ${why}`,
      expected: TFJS_NODE_NEEDS,
      fix: 'install it next to wb, or use backend: "auto" (the sparse CPU trainer when it is missing), "sparse", "wasm" or "cpu"'
    })
  }
  const why = await useTfjs(choice)
  if (why === null) return { backend: choice === "wasm" ? "tfjs-wasm" : "tfjs-cpu", notes: [] }
  throw new DataError({
    where: `${where} param backend`,
    found: `the TensorFlow.js ${choice} backend: ${why}`,
    expected: `@tensorflow/tfjs 4.22.0${choice === "wasm" ? " and @tensorflow/tfjs-backend-wasm 4.22.0" : ""} (dependencies of wb)`,
    fix: 'reinstall wb\'s dependencies (npm ci), or use backend: "sparse"'
  })
}
