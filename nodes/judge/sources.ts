/**
 * The files a judge reads beside its inputs: a user template (read and checked when the node runs,
 * hashed into its cache key) and, for judge.gguf, the model file (identified cheaply in the key).
 */
import { createHash } from "node:crypto"
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from "node:fs"
import { isAbsolute, resolve } from "node:path"
import { Effect } from "effect"
import { closeMatches, didYouMean } from "../../workbench/core/did-you-mean.js"
import { DataError } from "../../workbench/core/errors.js"
import {
  BUILT_IN,
  type BuiltIn,
  isBuiltIn,
  type Prompt,
  pairwisePrompt,
  referencePrompt,
  SLOTS,
  slotProblems,
  slotsOf
} from "./templates.js"

/** What the judge asks: a verdict (with or without a reference answer first), or aspect ratings. */
export type ResolvedTemplate =
  | {
      readonly _tag: "Verdict"
      readonly prompt: Prompt
      /** Whether the judge writes its own answer first ({reference}). */
      readonly reference: boolean
      /** Built-in templates ask for exactly "1" or "2" (a grammar where the server has one); files may ask for JSON. */
      readonly builtIn: boolean
    }
  | { readonly _tag: "Aspects" }

export const templatePath = (template: string, root: string) =>
  isAbsolute(template) ? template : resolve(root, template)

const slotList = SLOTS.map((s) => `{${s}}`).join(", ")

/** The template a `template` param names: a built-in one, or a checked template file. */
export function resolveTemplate(
  template: string,
  root: string,
  where: string
): Effect.Effect<ResolvedTemplate, DataError> {
  if (isBuiltIn(template)) return Effect.succeed(builtInTemplate(template))
  const path = templatePath(template, root)
  if (!existsSync(path) || !statSync(path).isFile()) {
    return Effect.fail(
      new DataError({
        where: `${where}, param template`,
        found: `"${template}" is no built-in template, and no file ${path}`,
        expected: `${BUILT_IN.join(", ")}, or the path of a template file (relative to the project root)`,
        fix: didYouMean(template, BUILT_IN) || "correct the path, or pick a built-in template"
      })
    )
  }
  const text = readFileSync(path, "utf8")
  const { unknown, missing } = slotProblems(text)
  if (unknown.length > 0 || missing.length > 0) {
    const hints = unknown.flatMap((u) =>
      closeMatches(u, SLOTS)
        .slice(0, 1)
        .map((m) => `rename {${u}} to {${m}}`)
    )
    return Effect.fail(
      new DataError({
        where: `${where}, template file ${path}`,
        found: [
          unknown.length > 0 ? `unknown slots ${unknown.map((u) => `{${u}}`).join(", ")}` : "",
          missing.length > 0 ? `missing slots ${missing.map((m) => `{${m}}`).join(", ")}` : ""
        ]
          .filter((s) => s !== "")
          .join("; "),
        expected: `slots among ${slotList}, with {prompt}, {response_1} and {response_2} each used at least once`,
        fix: [...hints, "write {{ and }} for literal braces"].join("; ")
      })
    )
  }
  return Effect.succeed({
    _tag: "Verdict",
    prompt: { system: null, user: text },
    reference: slotsOf(text).includes("reference"),
    builtIn: false
  })
}

const builtInTemplate = (name: BuiltIn): ResolvedTemplate =>
  name === "aspects"
    ? { _tag: "Aspects" }
    : name === "reference"
      ? { _tag: "Verdict", prompt: referencePrompt, reference: true, builtIn: true }
      : { _tag: "Verdict", prompt: pairwisePrompt, reference: false, builtIn: true }

/** Cache-key material for a template file: its content hash (a built-in template is in the node's version). */
export function templateFingerprint(template: string, root: string): string {
  if (isBuiltIn(template)) return ""
  const path = templatePath(template, root)
  return existsSync(path)
    ? `template sha256:${createHash("sha256").update(readFileSync(path)).digest("hex")}`
    : "template missing"
}

/**
 * Cache-key material for a model file: its size and a hash of its first and last MiB. A GGUF file is
 * gigabytes, too big to hash on every run; its header (architecture, tokenizer, tensor table) and its
 * last tensors tell versions and quantisations apart. Path-independent, so a moved file keeps the cache.
 */
export function modelFingerprint(path: string): string {
  if (!existsSync(path)) return "model missing"
  const size = statSync(path).size
  const chunk = Math.min(size, 1 << 20)
  const head = Buffer.alloc(chunk)
  const tail = Buffer.alloc(chunk)
  const fd = openSync(path, "r")
  try {
    readSync(fd, head, 0, chunk, 0)
    readSync(fd, tail, 0, chunk, size - chunk)
  } finally {
    closeSync(fd)
  }
  return `model ${size} sha256:${createHash("sha256").update(head).update(tail).digest("hex")}`
}
