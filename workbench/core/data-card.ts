/**
 * The data card (`README.md`) written beside exported files: one section per file, with its counts, its
 * label sources, what was left out and why, and the nodes and artifact keys it came from. Text only:
 * the export nodes and `wb export` gather the facts and write the file; this module renders and merges.
 *
 * Several exports may share a folder (train.jsonl and test.jsonl of one split): each owns the section
 * between its markers and rewrites only that one, so the card always describes every file beside it.
 */

export interface CardCount {
  readonly value: string | null
  readonly rows: number
}

export interface CardFacts {
  /** The file's name in its folder. */
  readonly file: string
  /** How it is written, for people ("JSON Lines", "CSV"). */
  readonly format: string
  readonly rows: number
  readonly bytes: number
  readonly sha256: string
  readonly columns: ReadonlyArray<{ readonly name: string; readonly type: string }>
  /** Who wrote it: `node "trl" (export.trl)` or `wb export`. */
  readonly writer: string
  /** Rows read before anything was left out. */
  readonly rowsIn: number
  /** Rows left out, by reason (rowsIn = rows + their sum). */
  readonly removed: ReadonlyArray<CardCount>
  /** Written rows by `label_source` and by `source`, when the rows carry them. */
  readonly labelSources?: ReadonlyArray<CardCount>
  readonly sources?: ReadonlyArray<CardCount>
  /** The upstream node, table and artifact key of each input. */
  readonly from: ReadonlyArray<{ readonly node: string; readonly table: string; readonly key: string }>
  /** Further facts, one line each (layout, turn markers restored, params). */
  readonly notes?: ReadonlyArray<string>
  /** How to use the file (Markdown, usually a code block). */
  readonly usage?: string
}

/** The query of a card's count table: the rows of `relation` by `column`'s value, most frequent first. */
export const cardCountsSql = (relation: string, column: string): string =>
  `SELECT "${column}"::VARCHAR AS value, count(*)::BIGINT AS rows FROM ${relation} GROUP BY 1 ORDER BY 2 DESC, 1`

const n = (x: number) => x.toLocaleString("en-US")
const shown = (v: string | null) => (v === null ? "(none)" : `\`${v}\``)
const countTable = (title: string, rows: ReadonlyArray<CardCount>) =>
  [`| ${title} | rows |`, "|---|---|", ...rows.map((r) => `| ${shown(r.value)} | ${n(r.rows)} |`)].join("\n")

const START = (file: string) => `<!-- wb:file ${file} -->`
const END = (file: string) => `<!-- wb:end ${file} -->`

/** The section of one file, between its markers. */
export function renderCardSection(f: CardFacts): string {
  const removedTotal = f.removed.reduce((s, r) => s + r.rows, 0)
  const parts = [
    START(f.file),
    `## ${f.file}`,
    "",
    `${f.format}, ${n(f.rows)} rows, ${n(f.bytes)} bytes, sha256 \`${f.sha256}\`. Written by ${f.writer}.`,
    "",
    `Columns: ${f.columns.map((c) => `\`${c.name}\` (${c.type})`).join(", ") || "(none)"}.`,
    "",
    `Rows: ${n(f.rowsIn)} in = ${n(f.rows)} written + ${n(removedTotal)} left out.`,
    ...(f.removed.length === 0 ? [] : ["", countTable("left out because", f.removed)]),
    ...(f.labelSources === undefined ? [] : ["", countTable("label source", f.labelSources)]),
    ...(f.sources === undefined ? [] : ["", countTable("source", f.sources)]),
    ...((f.notes ?? []).length === 0 ? [] : ["", ...(f.notes ?? []).map((x) => `- ${x}`)]),
    "",
    "Came from:",
    ...(f.from.length === 0
      ? ["- (a table handed to the node directly)"]
      : f.from.map((x) => `- node \`${x.node}\`, table \`${x.table}\`, artifact \`${x.key}\``)),
    ...(f.usage === undefined ? [] : ["", f.usage]),
    END(f.file)
  ]
  return parts.join("\n")
}

const HEADER =
  "# Exported preference data\n\n" +
  "Written by Preference Workbench (`wb`). Each section describes one file in this folder; an export rewrites " +
  "its own section and drops those of files no longer here. Edits here are overwritten by the next export.\n"

/** Whether `text` (a README.md found beside an export) is a card wb wrote, which it may rewrite; a user's own is not. */
export const isDataCard = (text: string): boolean =>
  text.startsWith(HEADER.split("\n")[0]!) || text.includes("<!-- wb:file ")

/** Every section of a card, by file name. */
export function cardSections(text: string): Map<string, string> {
  const sections = new Map<string, string>()
  const re = /<!-- wb:file (.+?) -->[\s\S]*?<!-- wb:end \1 -->/g
  for (const m of text.matchAll(re)) sections.set(m[1]!, m[0])
  return sections
}

/**
 * The card with `section` (of `file`) in place of that file's old one; sections of files for which
 * `present` is false are dropped. Sections are sorted by file name, so the text depends only on them.
 */
export function mergeCard(
  existing: string | undefined,
  file: string,
  section: string,
  present: (file: string) => boolean
): string {
  const sections = cardSections(existing ?? "")
  sections.set(file, section)
  const kept = [...sections].filter(([f]) => f === file || present(f)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return `${HEADER}\n${kept.map(([, s]) => s).join("\n\n")}\n`
}
