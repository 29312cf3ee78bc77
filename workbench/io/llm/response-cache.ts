/**
 * The durable response cache: `<workspace>/llm-cache/<provider>-<model>-<hash>.jsonl`, one answer a
 * line, keyed by a hash of what determines an answer (provider, model, messages, sampling params,
 * sample index) and not of where it was asked (base URLs, the key): a pool that grows, or a server
 * that moves, keeps its cache.
 *
 * Answers are appended as they arrive (written on the next turn of the event loop, so a killed
 * process keeps all but the answers of its last moment) and fsync'd at least every second and when
 * the last client of the file closes. A torn last line (a kill mid-write) is skipped on load. Failures
 * are never stored: a re-run asks again. Lookups are an in-memory Map, so a hit costs a hash.
 *
 * Every client of one model identity in a process shares one cache (counted references).
 */
import type { Effect, Scope } from "effect"
import { createHash, hash } from "node:crypto"
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, writeSync } from "node:fs"
import { join } from "node:path"
import { openSharedFile } from "./shared-cache-file.js"
import type { DataError } from "../../core/errors.js"
import type { ChatAnswer, ChatRequest } from "../../core/llm.js"

/** What makes two clients' answers interchangeable: the model, not the server that runs it. */
export interface ModelIdentity {
  /** "openai", "gguf". */
  readonly provider: string
  /** The model name sent to the servers, or an identity of a model file. */
  readonly model: string
}

/** The cache key of a request (sha256 hex). */
export function requestKey(identity: ModelIdentity, request: ChatRequest): string {
  const material = JSON.stringify([
    "wb-llm-1",
    identity.provider,
    identity.model,
    request.messages.map((m) => [m.role, m.content]),
    request.temperature,
    request.maxTokens,
    request.seed ?? null,
    request.topLogprobs ?? 0,
    request.choices ?? null,
    request.sample
  ])
  // the one-shot hash: a third of createHash's cost, and this runs on every cache hit
  return hash("sha256", material, "hex")
}

export interface ResponseCache {
  /** The cache file (it may not exist yet). */
  readonly file: string
  /** A stored answer, marked `cached: true`. */
  readonly get: (key: string) => ChatAnswer | undefined
  /** Store an answer (never a failure): in memory now, on disk within the event loop's turn. */
  readonly put: (key: string, answer: ChatAnswer) => void
  readonly size: () => number
}

interface Stored {
  readonly k: string
  readonly t: string
  readonly p: number
  readonly c: number
  readonly l: ChatAnswer["logprobs"]
  readonly s: string
}

const cacheFileName = (identity: ModelIdentity) => {
  const slug = `${identity.provider}-${identity.model}`.replace(/[^A-Za-z0-9._-]+/g, "_").slice(0, 80)
  const hash = createHash("sha256")
    .update(JSON.stringify([identity.provider, identity.model]))
    .digest("hex")
  return `${slug}-${hash.slice(0, 12)}.jsonl`
}

const answerOf = (s: Stored): ChatAnswer =>
  Object.freeze({
    _tag: "Answered",
    text: s.t,
    promptTokens: s.p,
    completionTokens: s.c,
    logprobs: s.l,
    cached: true,
    server: s.s
  })

/** One open cache file: its answers in memory and the pending lines. */
class CacheFile implements ResponseCache {
  readonly answers = new Map<string, ChatAnswer>()
  private pending: Array<string> = []
  private fd: number | undefined
  private needsNewline = false
  private dirty = false
  private scheduled = false
  private broken: string | undefined
  private closed = false
  private readonly syncTimer: ReturnType<typeof setInterval>
  refs = 0

  constructor(readonly file: string) {
    if (existsSync(file)) {
      const text = readFileSync(file, "utf8")
      for (const line of text.split("\n")) {
        if (line === "") continue
        try {
          const s = JSON.parse(line) as Stored
          if (typeof s.k === "string" && typeof s.t === "string") this.answers.set(s.k, answerOf(s))
        } catch {
          // a torn line from a killed write: its request is simply asked again
        }
      }
      // appending after a torn line would glue the next answer onto it
      this.needsNewline = text.length > 0 && !text.endsWith("\n")
    }
    this.syncTimer = setInterval(() => this.sync(), 1000)
    this.syncTimer.unref()
  }

  get = (key: string) => this.answers.get(key)
  size = () => this.answers.size

  put = (key: string, answer: ChatAnswer) => {
    if (this.answers.has(key)) return
    const stored: Stored = {
      k: key,
      t: answer.text,
      p: answer.promptTokens,
      c: answer.completionTokens,
      l: answer.logprobs,
      s: answer.server
    }
    this.answers.set(key, answerOf(stored))
    this.pending.push(`${JSON.stringify(stored)}\n`)
    if (!this.scheduled) {
      this.scheduled = true
      // one write for all the answers of this turn of the event loop
      setImmediate(() => this.write())
    }
  }

  write() {
    this.scheduled = false
    if (this.pending.length === 0 || this.broken !== undefined || this.closed) return
    const text = (this.needsNewline ? "\n" : "") + this.pending.join("")
    this.pending = []
    try {
      this.fd ??= openSync(this.file, "a")
      writeSync(this.fd, text)
      this.needsNewline = false
      this.dirty = true
    } catch (e) {
      this.fail(e)
    }
  }

  sync() {
    if (!this.dirty || this.fd === undefined || this.broken !== undefined) return
    try {
      fsyncSync(this.fd)
      this.dirty = false
    } catch (e) {
      this.fail(e)
    }
  }

  close() {
    clearInterval(this.syncTimer)
    this.write()
    this.sync()
    if (this.fd !== undefined) closeSync(this.fd)
    this.fd = undefined
    this.closed = true
  }

  private fail(e: unknown) {
    // answers still reach the run; only a re-run loses them, so say so once and go on
    this.broken = e instanceof Error ? e.message : String(e)
    process.stderr.write(
      `wb: the LLM response cache ${this.file} could not be written (${this.broken}); ` +
        "answers from now on are not kept for a re-run. Check disk space and permissions.\n"
    )
  }
}

/** The cache of one model identity under `workspaceDir`, shared while any client holds it. */
export const openResponseCache = (
  workspaceDir: string,
  identity: ModelIdentity,
  where: string
): Effect.Effect<ResponseCache, DataError, Scope.Scope> => {
  const file = join(workspaceDir, "llm-cache", cacheFileName(identity))
  return openSharedFile(file, (f) => new CacheFile(f), "the LLM response cache", where)
}
