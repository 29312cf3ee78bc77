/**
 * SQL snippets the loaders share: literals, the seeded side assignment, rendering a message list
 * as prompt text, and the majority label of a set of votes. Each returns SQL text for DuckDB.
 */
import { textHashSql } from "../lib/pair-tables.js"

/** A SQL string literal. */
export const sqlText = (s: string): string => `'${s.replaceAll("'", "''")}'`

/** An identifier quoted for SQL. */
export const sqlIdent = (name: string): string => `"${name.replaceAll('"', '""')}"`

/**
 * A JSON path to a top-level key, quoted so any key name works: `$."a b"`. The empty key, which no
 * `$` path can name, is the JSON pointer `/`.
 */
export const keyPath = (key: string): string =>
  key === "" ? "/" : `$."${key.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`

/**
 * True when the chosen response goes on side b, from the hashes (`textHashSql`) of the prompt, the
 * chosen and the rejected response: a bit of md5 over the seed and the three. Deterministic for a
 * seed, about half the rows either way, independent of row order; the texts' hashes are the ones the
 * pair id is built from, so a loader reads each text once for both.
 */
export const chosenIsBOfHashesSql = (seed: number, prompt: string, chosen: string, rejected: string): string =>
  `(strpos('13579bdf', right(md5(${sqlText(`${seed}:`)} || ${prompt} || ${chosen} || ${rejected}), 1)) > 0)`

/** The same draw from the texts themselves (for a table laid out beside the pairs, e.g. ratings). */
export const chosenIsBSql = (seed: number, prompt: string, chosen: string, rejected: string): string =>
  chosenIsBOfHashesSql(seed, textHashSql(prompt), textHashSql(chosen), textHashSql(rejected))

/** How a role is written in rendered prompts. */
export const roleLabelSql = (role: string): string =>
  `CASE lower(${role}) WHEN 'user' THEN 'Human' WHEN 'human' THEN 'Human' WHEN 'prompter' THEN 'Human'
     WHEN 'assistant' THEN 'Assistant' WHEN 'system' THEN 'System' ELSE ${role} END`

/**
 * A message list (JSON array of {role, content}) as text. One message renders as its content alone;
 * several as "Human: …\n\nAssistant: …" turns, the layout HH-RLHF uses, so prompts from different
 * sources compare equal when they say the same thing.
 */
export const renderMessagesSql = (messages: string): string =>
  `CASE WHEN json_array_length(${messages}) = 1 THEN json_extract_string(${messages}, '$[0].content')
     ELSE array_to_string(list_transform(json_extract(${messages}, '$[*]'),
       lambda m: ${roleLabelSql("json_extract_string(m, '$.role')")} || ': ' || coalesce(json_extract_string(m, '$.content'), '')),
       chr(10) || chr(10)) END`

/**
 * Length of the longest common prefix of two strings, in characters (0 when either is NULL).
 * Costs a list per character: use it only on the rows that need it.
 */
export const commonPrefixLengthSql = (a: string, b: string): string =>
  `coalesce(list_position(list_transform(list_zip(string_split(${a}, ''), string_split(${b}, '')),
     lambda x: x[1] IS NOT DISTINCT FROM x[2]), false) - 1, 0)`

/** Common prefix length of two JSON arrays, in elements (compared as JSON text). */
export const commonListPrefixSql = (a: string, b: string): string =>
  `coalesce(list_position(list_transform(list_zip(json_extract(${a}, '$[*]')::VARCHAR[], json_extract(${b}, '$[*]')::VARCHAR[]),
     lambda x: x[1] IS NOT DISTINCT FROM x[2]), false) - 1, 0)`

/** Vote counts -> label: the strictly most frequent vote; no clear winner -> 'tie'; no votes -> NULL. */
export const majorityLabelSql = (na: string, nb: string, nt: string): string =>
  `CASE WHEN ${na} + ${nb} + ${nt} = 0 THEN NULL WHEN ${na} > ${nb} AND ${na} > ${nt} THEN 'a'
     WHEN ${nb} > ${na} AND ${nb} > ${nt} THEN 'b' ELSE 'tie' END`
