/**
 * The TRL layout split: per record, the layout (explicit or implicit prompt, standard or
 * conversational), the prompt, messages and both responses, or the problem that rejects it.
 *
 * Accepted, as TRL reads them: prompt, chosen and rejected all strings, or all message lists
 * (prompt optional in both). A string beside a message list is rejected: TRL's `is_conversational`
 * looks at one field, and `apply_chat_template` then treats all three as message lists (or none),
 * so such a record fails there or is misread.
 *
 * Gotchas
 * - Every step after the type check runs only on records without a problem (CASE, never AND/OR):
 *   a string read as a message list, or a malformed message, would fail the whole query.
 * - Implicit prompts are the common beginning of chosen and rejected: characters for strings (TRL's
 *   rule: a space just before the first difference goes to the responses), whole messages for lists.
 *   Identical responses have no difference to split at, and are rejected as such.
 */
import { type FieldCheck, fieldProblemSql, fieldTypesSql } from "./check.js"
import { messageListProblemSql } from "./messages.js"
import { jsonProblemSql, jsonTypeWordSql } from "./read-lines.js"
import { commonListPrefixSql, commonPrefixLengthSql, renderMessagesSql, sqlText } from "./sql.js"

/** The fields every TRL record is checked for. */
const FIELDS: ReadonlyArray<FieldCheck> = [
  { name: "prompt", kinds: ["string", "array"], optional: true },
  { name: "chosen", kinds: ["string", "array"] },
  { name: "rejected", kinds: ["string", "array"] }
]

const NO_PROMPT_FIELD = "(without a prompt field, the prompt is their common beginning)"

/**
 * `(record, raw, conv, explicit, prompt_text, messages, chosen, rejected, problem[, late])` for each
 * record of `records` that the reader accepted. One JSON parse gives the field types (`ty`; NULL on
 * malformed JSON, so it is also the JSON check) and one the texts (`s`; a message list comes back as
 * JSON text). `known`: the keys the caller expects; `late` then lists the other keys of a record
 * without a problem (NULL if none), at the cost of one more parse.
 */
export const trlSplitSql = (records: string, known?: ReadonlyArray<string>): string => {
  const knownList = `[${(known ?? []).map(sqlText).join(", ")}]::VARCHAR[]`
  const late =
    known === undefined
      ? ""
      : `, CASE WHEN problem IS NULL AND NOT list_has_all(${knownList}, keys)
    THEN list_filter(keys, lambda k: NOT list_contains(${knownList}, k)) END AS late`
  return `
  WITH f AS (SELECT record, raw, ty0, coalesce(${jsonProblemSql("raw", "ty0")}, ${fieldProblemSql("raw", FIELDS, "ty0")}) AS fp
             FROM (SELECT record, raw, try(${fieldTypesSql("raw", FIELDS)}) AS ty0 FROM ${records} WHERE reason IS NULL)),
  t AS (SELECT record, raw, fp, ty, s, ty[2] = 'ARRAY' AS conv, coalesce(ty[1] IN ('VARCHAR', 'ARRAY'), false) AS explicit
        FROM (SELECT record, raw, fp, CASE WHEN fp IS NULL THEN ty0 END AS ty,
                     CASE WHEN fp IS NULL THEN json_extract_string(raw, ['$.prompt', '$.chosen', '$.rejected']) END AS s
              FROM f)),
  l AS (SELECT *, CASE WHEN fp IS NOT NULL THEN fp
          WHEN ty[2] <> ty[3] THEN 'chosen and rejected: expected both strings or both message lists, got ' || ${jsonTypeWordSql("ty[2]")} || ' and ' || ${jsonTypeWordSql("ty[3]")}
          WHEN conv AND ty[1] = 'VARCHAR' THEN 'prompt: expected a message list like chosen, got a string'
          WHEN NOT conv AND ty[1] = 'ARRAY' THEN 'prompt: expected a string like chosen, got an array'
          WHEN conv THEN coalesce(CASE WHEN explicit THEN ${messageListProblemSql("s[1]", "prompt")} END,
            ${messageListProblemSql("s[2]", "chosen")}, ${messageListProblemSql("s[3]", "rejected")})
        END AS p FROM t),
  n AS (SELECT *, CASE WHEN p IS NULL AND NOT explicit AND NOT conv AND s[2] <> s[3] THEN ${commonPrefixLengthSql("s[2]", "s[3]")} END AS n0,
               CASE WHEN p IS NULL AND NOT explicit AND conv THEN json_extract(s[2], '$[*]') END AS cl,
               CASE WHEN p IS NULL AND NOT explicit AND conv THEN json_extract(s[3], '$[*]') END AS rl FROM l),
  c AS (SELECT *, CASE WHEN n0 > 0 AND substr(s[2], n0, 1) = ' ' THEN n0 - 1 ELSE n0 END AS n,
               CASE WHEN cl IS NOT NULL AND cl <> rl THEN ${commonListPrefixSql("s[2]", "s[3]")} END AS k FROM n),
  d AS (SELECT *, CASE WHEN p IS NOT NULL THEN p WHEN explicit THEN NULL
          WHEN CASE WHEN conv THEN cl = rl ELSE s[2] = s[3] END
          THEN 'chosen and rejected are identical: no implicit prompt can be split off ${NO_PROMPT_FIELD}'
          WHEN coalesce(n, k) = 0 THEN 'chosen and rejected share no prompt ${NO_PROMPT_FIELD}' END AS problem FROM c)
  SELECT record, raw, conv, explicit, problem,
    CASE WHEN problem IS NOT NULL THEN NULL WHEN explicit AND NOT conv THEN s[1] WHEN NOT conv THEN left(s[2], n) END AS prompt_text,
    CASE WHEN problem IS NOT NULL THEN NULL WHEN explicit AND conv THEN s[1]::JSON WHEN conv THEN to_json(cl[1:k]) END AS messages,
    CASE WHEN problem IS NOT NULL THEN NULL WHEN explicit AND NOT conv THEN s[2] WHEN NOT conv THEN substr(s[2], n + 1)
         WHEN explicit THEN ${renderMessagesSql("s[2]")} ELSE ${renderMessagesSql("to_json(cl[k + 1:])")} END AS chosen,
    CASE WHEN problem IS NOT NULL THEN NULL WHEN explicit AND NOT conv THEN s[3] WHEN NOT conv THEN substr(s[3], n + 1)
         WHEN explicit THEN ${renderMessagesSql("s[3]")} ELSE ${renderMessagesSql("to_json(rl[k + 1:])")} END AS rejected${late}
  FROM ${known === undefined ? "d" : "(SELECT *, CASE WHEN problem IS NULL THEN json_keys(raw) END AS keys FROM d)"}`
}
