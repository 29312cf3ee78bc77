/**
 * Checking conversational message lists: JSON arrays of `{role, content}` objects whose role and
 * content are strings. A list that passes renders to text without a NULL (`renderMessagesSql`).
 * Reasons name the message, 0-based as in the file: "chosen[1].content: expected a string, got a number".
 */
import { jsonTypeWordSql } from "./read-lines.js"
import { keyPath, sqlText } from "./sql.js"

/** A JSON type (`json_type`) as reasons name it, in user words ("a number", "an object"). */
export const jsonKindSql = jsonTypeWordSql

/**
 * SQL: the first problem with the message list `list` (JSON text of an array), or NULL. `name`
 * prefixes the reason. One parse of the list, then one per message for both fields.
 */
export const messageListProblemSql = (list: string, name: string): string => {
  const at = (field: string) => `${sqlText(`${name}[`)} || (i - 1) || ${sqlText(`]${field}: `)}`
  // t: [type of the message, type of its role, type of its content]; NULL where absent
  return `list_filter(list_transform(
      list_transform(json_extract(${list}, '$[*]'), lambda m: [json_type(m)] || json_type(m, ['$.role', '$.content'])),
      lambda t, i: CASE
        WHEN t[1] <> 'OBJECT' THEN ${at("")} || 'expected a {role, content} message, got ' || ${jsonKindSql("t[1]")}
        WHEN t[2] IS NULL THEN ${at(".role")} || 'missing'
        WHEN t[2] <> 'VARCHAR' THEN ${at(".role")} || 'expected a string, got ' || ${jsonKindSql("t[2]")}
        WHEN t[3] IS NULL THEN ${at(".content")} || 'missing'
        WHEN t[3] <> 'VARCHAR' THEN ${at(".content")} || 'expected a string, got ' || ${jsonKindSql("t[3]")}
      END), lambda x: x IS NOT NULL)[1]`
}

/** SQL: the first problem with top-level field `field` of `raw` when it holds a list, else NULL. */
export const messagesFieldProblemSql = (raw: string, field: string): string =>
  `CASE WHEN json_type(${raw}, ${sqlText(keyPath(field))}) = 'ARRAY'
     THEN ${messageListProblemSql(`json_extract(${raw}, ${sqlText(keyPath(field))})`, field)} END`
