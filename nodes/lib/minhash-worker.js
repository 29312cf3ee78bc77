// Worker thread for minhash-pool.ts. The pool and this thread share, per batch slot, SharedArrayBuffers:
// the texts packed as UTF-16 code units (packTexts) and the arrays the sketches are written to. A
// message only names the slot and sizes (and brings the slot's buffers when they are new), so nothing
// is copied or transferred per batch: no fresh memory, no garbage. Plain JavaScript so it loads
// without a TypeScript loader.
import { parentPort } from "node:worker_threads"
import { sketchPacked } from "./minhash-kernel.js"

/** Per slot: its shared buffers as typed arrays. */
const slots = new Map()

parentPort.on("message", (msg) => {
  try {
    if (msg.buffers !== undefined) {
      const b = msg.buffers
      slots.set(msg.slot, {
        units: new Uint16Array(b.units),
        ends: new Int32Array(b.ends),
        into: {
          bandHashes: new Uint32Array(b.bandHashes),
          offsets: new Int32Array(b.offsets),
          sizes: new Int32Array(b.sizes),
          sets: new Uint32Array(b.sets)
        }
      })
    }
    const slot = slots.get(msg.slot)
    const out = sketchPacked(slot.units.subarray(0, msg.chars), slot.ends.subarray(0, msg.n), msg.options, slot.into)
    // sets that did not fit the slot come in a buffer of their own
    const overflow = out.sets.buffer === slot.into.sets.buffer ? undefined : out.sets
    parentPort.postMessage(
      { id: msg.id, ok: true, used: out.sets.length, overflow },
      overflow === undefined ? [] : [overflow.buffer]
    )
  } catch (e) {
    parentPort.postMessage({ id: msg.id, ok: false, error: e instanceof Error ? (e.stack ?? e.message) : String(e) })
  }
})
