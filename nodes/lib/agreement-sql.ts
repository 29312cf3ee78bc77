/**
 * SQL pieces of the judge-bias statistics that mix.route's agreement report and evaluate.agreement
 * share: which side a judge saw first, and which response is the longer one.
 */

/** SQL: the side a vote's judge saw first: response_b when its order is 'ba', else response_a. */
export const firstSideSql = (order: string): string => `CASE lower(${order}) WHEN 'ba' THEN 'b' ELSE 'a' END`

/** SQL: the longer side of a pair ('a' or 'b'; 'b' when equal: filter with `lengthsDifferSql`). */
export const longerSideSql = (a: string, b: string): string =>
  `CASE WHEN length(${a}) > length(${b}) THEN 'a' ELSE 'b' END`

/** SQL: whether the two responses differ in length (P(prefer longer) counts only these). */
export const lengthsDifferSql = (a: string, b: string): string => `length(${a}) <> length(${b})`
