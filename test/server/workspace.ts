/** A real quickstart project for the server tests: the YAML pipeline, the shipped data, run once by `wb run`. */
import { cpSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs"
import { request } from "node:http"
import { join } from "node:path"
import { REPO, tempDir, wb } from "../e2e/cli-spawn.js"

export const QUICKSTART = "pipelines/quickstart.yaml"
export const QID = encodeURIComponent(QUICKSTART)

/** A project folder holding pipelines/quickstart.yaml and data/ (a link), with the pipeline run once. */
export async function quickstartProject(): Promise<string> {
  const root = tempDir("wb-serve-")
  mkdirSync(join(root, "pipelines"))
  cpSync(join(REPO, QUICKSTART), join(root, QUICKSTART))
  symlinkSync(join(REPO, "data"), join(root, "data"))
  writeFileSync(join(root, "package.json"), '{ "name": "serve-test", "type": "module" }\n')
  const run = await wb(["run", QUICKSTART], { cwd: root })
  if (run.code !== 0) throw new Error(`quickstart run failed: ${run.stderr}`)
  return root
}

export interface RawReply {
  readonly status: number
  readonly headers: Record<string, string | string[] | undefined>
  readonly body: Buffer
}

/** A request with the path sent exactly as given (fetch and URL would collapse `/../`). */
export function raw(
  port: number,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {}
): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path,
        method: options.method ?? "GET",
        headers: { host: `127.0.0.1:${port}`, ...options.headers }
      },
      (res) => {
        const chunks: Array<Buffer> = []
        res.on("data", (c: Buffer) => chunks.push(c))
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }))
      }
    )
    req.on("error", reject)
    if (options.body !== undefined) req.write(options.body)
    req.end()
  })
}
