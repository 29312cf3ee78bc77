// Worker thread for minhash-pool.ts: sketches batches of texts packed as UTF-16 code units (one
// transferred Uint16Array + end offsets per batch, see packTexts) and sends the typed arrays back
// (transferred, not copied). Plain JavaScript so it loads without a TypeScript loader.
import { parentPort } from "node:worker_threads"
import { sketchPacked } from "./minhash-kernel.js"

parentPort.on("message", (msg) => {
  try {
    const out = sketchPacked(msg.units, msg.ends, msg.options)
    parentPort.postMessage(
      { id: msg.id, ok: true, out },
      [out.bandHashes.buffer, out.offsets.buffer, out.sizes.buffer, out.sets.buffer]
    )
  } catch (e) {
    parentPort.postMessage({ id: msg.id, ok: false, error: e instanceof Error ? e.stack ?? e.message : String(e) })
  }
})
