/**
 * Passes over a source file's bytes in Node, for what DuckDB's readers do not check or cannot read:
 * verifying a compressed stream end to end, rewriting mixed CRLF/LF line endings into a copy DuckDB
 * can read, and finding the lines from a byte offset to the end (an unclosed CSV quote's reach).
 *
 * Why a separate pass: DuckDB decompresses gzip without checking the stream's end or its CRC. A
 * gzip cut exactly at a line boundary reads as a shorter, valid file (10 of 20 lines, no error); a
 * CRC error (bytes flipped inside a block) yields spliced text; a cut inside a line drops the rest.
 * zlib checks both the trailer and the CRC, so one streaming pass (~17 ms for the 3.3 MB of the
 * shipped HH-RLHF file) tells a damaged stream from an intact one before DuckDB reads a row.
 *
 * Gotchas
 * - zstd is verified only where Node's zlib has a zstd decoder (Node >= 22.15); elsewhere a zstd
 *   file is refused rather than read unverified (DuckDB reads a truncated zstd file as 0 rows).
 */
import { createReadStream, createWriteStream, closeSync, openSync, readSync } from "node:fs"
import type { Transform } from "node:stream"
import { pipeline } from "node:stream/promises"
import * as zlib from "node:zlib"

export type Compression = "gzip" | "zstd" | "none"

/** The compression of a file, from its first bytes (not its name: a misnamed file is still read right). */
export function compressionOf(abs: string): Compression {
  let fd: number | undefined
  try {
    fd = openSync(abs, "r")
    const head = Buffer.alloc(4)
    const n = readSync(fd, head, 0, 4, 0)
    if (n >= 2 && head[0] === 0x1f && head[1] === 0x8b) return "gzip"
    if (n === 4 && head.readUInt32LE(0) === 0xfd2fb528) return "zstd"
    return "none"
  } catch {
    return "none"
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}

type Decompressor = () => Transform

/** A zstd decoder where this Node has one (22.15+), else undefined. */
const zstdDecoder = (): Decompressor | undefined => {
  const make = (zlib as unknown as { createZstdDecompress?: Decompressor }).createZstdDecompress
  return typeof make === "function" ? () => make() : undefined
}

/** Whether this Node can verify (and so read) files with `compression`. */
export const canVerify = (compression: Compression): boolean => compression !== "zstd" || zstdDecoder() !== undefined

type Sink = (src: AsyncIterable<Buffer>) => AsyncGenerator<Buffer, void>

/**
 * Stream the file's bytes as DuckDB sees them (decompressed when it is compressed) through `sink`,
 * and what `sink` yields into `dest`, if given. Rejects on a read or decompression error.
 */
async function streamFile(
  abs: string,
  compression: Compression,
  sink: Sink,
  dest?: NodeJS.WritableStream
): Promise<void> {
  const file = createReadStream(abs, { highWaterMark: 1 << 20 })
  const decoder =
    compression === "none" ? undefined : compression === "gzip" ? () => zlib.createGunzip() : zstdDecoder()
  if (compression !== "none" && decoder === undefined)
    throw new Error(`this Node (${process.version}) has no zstd decoder`)
  if (decoder === undefined) {
    if (dest === undefined) await pipeline(file, sink)
    else await pipeline(file, sink, dest)
    return
  }
  const unzip = decoder()
  if (dest === undefined) await pipeline(file, unzip, sink)
  else await pipeline(file, unzip, sink, dest)
  // zlib stops at bytes that start no member (zero padding) and ends its output early; whether the
  // pipeline then sees the unread rest as an abort depends on chunk timing (a small file is one chunk
  // and ends cleanly). What zlib consumed (`bytesWritten`) against the file's size says it every time.
  const consumed = (unzip as { bytesWritten?: number }).bytesWritten
  if (typeof consumed === "number" && consumed < file.bytesRead)
    throw Object.assign(new Error("the stream ended before the file did"), { code: "ABORT_ERR" })
}

const LF = 0x0a,
  CR = 0x0d

function countLf(chunk: Buffer): number {
  let n = 0
  for (let i = chunk.indexOf(LF); i !== -1; i = chunk.indexOf(LF, i + 1)) n++
  return n
}

/** What was wrong with a compressed stream: cut short, damaged inside, or followed by other bytes. */
export interface StreamDamage {
  readonly problem: "truncated" | "corrupt" | "trailing"
  /** Decompressed bytes read before the problem showed. */
  readonly after: number
  /** Complete lines (LF) among them. */
  readonly lines: number
  /** zlib's own words. */
  readonly detail: string
}

/**
 * Decompress the whole file, discarding the output: undefined when the stream is intact (every
 * member's trailer and CRC check out), else what was wrong and where. Other errors (unreadable
 * file) reject.
 */
export async function verifyCompressed(abs: string, compression: Compression): Promise<StreamDamage | undefined> {
  let after = 0,
    lines = 0
  try {
    await streamFile(abs, compression, async function* (src) {
      for await (const chunk of src) {
        after += chunk.length
        lines += countLf(chunk)
      }
    })
    return undefined
  } catch (e) {
    const err = e as { code?: string; message?: string }
    const detail = err.message ?? String(e)
    // bytes after the last member: zlib either stops at a byte that starts no member (the pipeline then
    // reports the unread rest of the file as an abort; zero padding does this) or reads them as a member
    // whose header is wrong (the first header was checked by compressionOf)
    if (err.code === "ABORT_ERR")
      return { problem: "trailing", after, lines, detail: "the stream ended before the file did" }
    if (/incorrect header check/i.test(detail)) return { problem: "trailing", after, lines, detail }
    // zlib: a missing end is Z_BUF_ERROR "unexpected end of file"; bad data or a CRC mismatch is Z_DATA_ERROR
    if (err.code === "Z_BUF_ERROR" || /unexpected end/i.test(detail))
      return { problem: "truncated", after, lines, detail }
    if (err.code === "Z_DATA_ERROR" || /ZSTD|zstd/.test(err.code ?? ""))
      return { problem: "corrupt", after, lines, detail }
    throw e
  }
}

/** A single-byte quote/escape, or undefined when there is none (or it is not one byte). */
export const byteOf = (s: string | undefined): number | undefined =>
  s !== undefined && s.length === 1 && s.charCodeAt(0) < 0x80 ? s.charCodeAt(0) : undefined

/**
 * Copy `abs` (decompressed) to `dest` with every CRLF line ending as LF, leaving CRs inside quoted
 * fields alone (`quote`: the CSV quote byte; none for JSON Lines), so quoted values keep their text.
 * Returns the 1-based line of the first CR outside quotes that ends no line (a lone CR), if any:
 * DuckDB cannot read such a file either way.
 */
export async function normalizeLineEndings(
  abs: string,
  compression: Compression,
  dest: string,
  quote?: number,
  escape?: number
): Promise<{ readonly loneCr: number | undefined }> {
  let line = 1,
    inQuotes = false,
    skipNext = false,
    heldCr = false
  let loneCr: number | undefined
  // inlined byte loop: this runs over the whole file (only for files DuckDB refused)
  async function* rewrite(src: AsyncIterable<Buffer>): AsyncGenerator<Buffer, void> {
    for await (const chunk of src) {
      const parts: Array<Buffer> = []
      let start = 0
      if (heldCr) {
        heldCr = false
        if (chunk[0] !== LF) {
          parts.push(Buffer.from([CR]))
          loneCr ??= line
        }
      }
      for (let i = 0; i < chunk.length; i++) {
        const b = chunk[i]!
        if (b === LF) line++
        if (skipNext) skipNext = false
        else if (inQuotes) {
          if (b === escape && escape !== quote) skipNext = true
          else if (b === quote) inQuotes = false
        } else if (b === quote) inQuotes = true
        else if (b === CR) {
          if (i + 1 === chunk.length) {
            parts.push(chunk.subarray(start, i))
            start = i + 1
            heldCr = true
          } else if (chunk[i + 1] === LF) {
            parts.push(chunk.subarray(start, i))
            start = i + 1
          } else loneCr ??= line
        }
      }
      parts.push(chunk.subarray(start))
      yield Buffer.concat(parts)
    }
    if (heldCr) {
      loneCr ??= line
      yield Buffer.from([CR])
    }
  }
  await streamFile(abs, compression, rewrite, createWriteStream(dest))
  return { loneCr }
}

/** The lines of a file from a byte offset on (decompressed bytes), numbered as in the file. */
export interface LinesFrom {
  /** 1-based line holding byte `offset`. */
  readonly firstLine: number
  /** The non-empty lines from that one to the end: 1-based line number and text (CR ending dropped, capped). */
  readonly lines: ReadonlyArray<{ readonly line: number; readonly text: string }>
}

const MAX_TEXT = 10_000

/** Read `abs` (decompressed) and return the non-empty lines from the one holding byte `offset` (0-based) to the end. */
export async function linesFrom(abs: string, compression: Compression, offset: number): Promise<LinesFrom> {
  let pos = 0,
    line = 1,
    collecting = false,
    firstLine = 0
  const lines: Array<{ line: number; text: string }> = []
  let current: Array<Buffer> = [],
    currentLength = 0
  const keep = (b: Buffer) => {
    if (currentLength < MAX_TEXT * 4) current.push(b)
    currentLength += b.length
  }
  const flush = () => {
    let text = Buffer.concat(current).toString("utf8")
    if (text.endsWith("\r")) text = text.slice(0, -1)
    if (currentLength > MAX_TEXT * 4 || text.length > MAX_TEXT)
      text = `${text.slice(0, MAX_TEXT)}… (${currentLength} bytes)`
    if (text !== "") lines.push({ line, text })
    current = []
    currentLength = 0
  }
  await streamFile(abs, compression, async function* (src) {
    for await (const chunk of src) {
      let at = 0
      if (!collecting) {
        // before the offset: count line breaks, and keep the start of the line the offset falls in
        const before = chunk.subarray(0, Math.min(chunk.length, offset - pos))
        const lastLf = before.lastIndexOf(LF)
        if (lastLf !== -1) {
          line += countLf(before)
          current = []
          currentLength = 0
        }
        keep(before.subarray(lastLf + 1))
        pos += chunk.length
        if (before.length === chunk.length) continue
        collecting = true
        firstLine = line
        at = before.length
      } else pos += chunk.length
      for (let i = chunk.indexOf(LF, at); i !== -1; i = chunk.indexOf(LF, at)) {
        keep(chunk.subarray(at, i))
        flush()
        line++
        at = i + 1
      }
      keep(chunk.subarray(at))
    }
  })
  if (currentLength > 0) flush()
  return { firstLine: collecting ? firstLine : line, lines }
}
