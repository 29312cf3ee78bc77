/** A .wat source compiled the way scripts/wasm-kernels.mjs compiles it, as base64 (to compare with the package's bytes). */
import { readFileSync } from "node:fs"
import wabtInit from "wabt"

export async function compiledWat(url: URL): Promise<string> {
  const wabt = await wabtInit()
  const name = url.pathname.split("/").at(-1)!
  const mod = wabt.parseWat(name, readFileSync(url, "utf8"), { simd: true, threads: true })
  try {
    return Buffer.from(mod.toBinary({}).buffer).toString("base64")
  } finally {
    mod.destroy()
  }
}
