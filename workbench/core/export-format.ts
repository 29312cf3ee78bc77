/**
 * File formats an export writes (the export nodes and `wb export` alike), chosen by name or by the
 * target's extension, and the engine's COPY options for each. Text only: no file is touched here.
 */

export type FormatName = "jsonl" | "json" | "csv" | "parquet"

export interface FileFormat {
  readonly name: FormatName
  readonly gzip: boolean
  /** The options of `COPY … TO … (…)`; FORMAT is always spelled out, so a temp file's suffix cannot pick it. */
  readonly copy: string
  /** For people (the data card). */
  readonly label: string
}

export const FORMATS: ReadonlyArray<FormatName> = ["jsonl", "json", "csv", "parquet"]

const LABEL: Record<FormatName, string> = {
  jsonl: "JSON Lines",
  json: "JSON array",
  csv: "CSV with a header",
  parquet: "Parquet (zstd)"
}

const EXTENSIONS: ReadonlyArray<readonly [string, FormatName]> = [
  [".jsonl", "jsonl"],
  [".ndjson", "jsonl"],
  [".json", "json"],
  [".csv", "csv"],
  [".parquet", "parquet"]
]

/** The known endings, for messages. */
export const KNOWN_ENDINGS = `${EXTENSIONS.map(([e]) => e).join(", ")} (all but .parquet optionally .gz)`

/** The format of `path` (`format`, else its extension), or what is wrong, in words. */
export function formatOf(path: string, format: "auto" | FormatName): FileFormat | { readonly problem: string } {
  const lower = path.toLowerCase()
  const gzip = lower.endsWith(".gz")
  const stem = gzip ? lower.slice(0, -3) : lower
  const name = format !== "auto" ? format : EXTENSIONS.find(([ext]) => stem.endsWith(ext))?.[1]
  if (name === undefined)
    return { problem: `cannot tell the format from the name "${path}" (known endings: ${KNOWN_ENDINGS})` }
  if (gzip && name === "parquet")
    return { problem: "a Parquet file is compressed inside (zstd); it cannot be gzip'd as well" }
  const compression = gzip ? ", COMPRESSION gzip" : ""
  const copy =
    name === "jsonl"
      ? `FORMAT json${compression}`
      : name === "json"
        ? `FORMAT json, ARRAY true${compression}`
        : name === "csv"
          ? `FORMAT csv, HEADER true${compression}`
          : "FORMAT parquet, COMPRESSION zstd"
  return { name, gzip, copy, label: `${LABEL[name]}${gzip ? ", gzip'd" : ""}` }
}
