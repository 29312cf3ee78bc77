/** The `format` param of the exports; the formats themselves are core's (`wb export` writes the same ones). */
import { Schema } from "effect"
import { FORMATS } from "../../workbench/core/export-format.js"
import { param } from "../../workbench/core/params.js"

export { type FileFormat, formatOf, type FormatName } from "../../workbench/core/export-format.js"

export const FormatParam = param(
  Schema.Literals(["auto", ...FORMATS]),
  "auto",
  "file format: jsonl (one JSON object per line), json (one array), csv (with a header), parquet; " +
    "auto: from the file name (.jsonl/.ndjson, .json, .csv, .parquet; all but .parquet optionally .gz)"
)
