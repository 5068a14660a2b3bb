/**
 * How validation reports a failure: the issues of a decoding, flattened with messages of bounded size, and every
 * `InvalidMessage` built within documented bounds, whatever the input (a 100 MB string, a million unknown keys).
 *
 * @internal
 */
import * as Option from "effect/Option"
import type * as ParseResult from "effect/ParseResult"
import * as AST from "effect/SchemaAST"
import { InvalidMessage } from "../KaleyraError.js"
import { describeValue, excerpt, keyName } from "./describe.js"

/** The `field` of a failure that concerns the whole input (not an object, unreadable). */
export const ROOT = "input"

/**
 * The bounds of an `InvalidMessage` (README, Errors): `issues` lists at most the first 20 issues (one per field),
 * and a `field` or a `reason` is at most 300 characters (a value or an unknown key is quoted by an excerpt of at
 * most 40).
 */
export const MAX_ISSUES = 20
const MAX_TEXT = 300

/** One failure of a decoding: where it is, its kind, and a message that never holds more than an excerpt of a value. */
export interface FlatIssue {
  readonly _tag: ParseResult.ArrayFormatterIssue["_tag"]
  readonly path: ReadonlyArray<PropertyKey>
  readonly message: string
}

const messageAnnotation = (ast: AST.AST, issue: ParseResult.ParseIssue): string | undefined => {
  const annotation = Option.getOrUndefined(AST.getMessageAnnotation(ast))
  if (annotation === undefined) return undefined
  const message = annotation(issue)
  return typeof message === "string"
    ? message
    : typeof message === "object" && message !== null && "message" in message && typeof message.message === "string"
    ? message.message
    : undefined
}

const expected = (ast: AST.AST): string => {
  switch (ast._tag) {
    case "StringKeyword":
      return "a string"
    case "NumberKeyword":
      return "a number"
    case "TypeLiteral":
      return "an object"
    case "TupleType":
      return "an array"
    case "UndefinedKeyword":
      return "absent"
    case "Literal":
      return typeof ast.literal === "string" ? JSON.stringify(ast.literal) : String(ast.literal)
    default:
      return Option.getOrElse(AST.getIdentifierAnnotation(ast), () => excerpt(String(ast), 80))
  }
}

const isUndefinedType = (issue: ParseResult.ParseIssue) =>
  issue._tag === "Type" && issue.ast._tag === "UndefinedKeyword"

/**
 * The issues of a decoding failure, as `ParseResult.ArrayFormatter` lists them, but with messages of bounded size (a
 * value is described by {@link describeValue}, where Effect's formatter prints it whole), without the `undefined`
 * member of a failed optional field (which says nothing useful), and at most `max` of them (the walk stops there).
 */
export const flattenIssues = (root: ParseResult.ParseIssue, max: number): ReadonlyArray<FlatIssue> => {
  const out: Array<FlatIssue> = []
  const walk = (
    issue: ParseResult.ParseIssue,
    path: ReadonlyArray<PropertyKey>,
    tag: FlatIssue["_tag"] | undefined
  ): void => {
    if (out.length >= max) return
    switch (issue._tag) {
      case "Type":
        out.push({
          _tag: tag ?? "Type",
          path,
          message: messageAnnotation(issue.ast, issue) ?? issue.message ??
            `must be ${expected(issue.ast)} (got ${describeValue(issue.actual)})`
        })
        return
      case "Missing":
        out.push({ _tag: "Missing", path, message: issue.message ?? "is missing" })
        return
      case "Unexpected":
        out.push({ _tag: "Unexpected", path, message: issue.message ?? "is unexpected" })
        return
      case "Forbidden":
        out.push({ _tag: "Forbidden", path, message: issue.message ?? "is forbidden" })
        return
      case "Pointer":
        return walk(issue.issue, path.concat(issue.path), undefined)
      case "Composite": {
        const message = messageAnnotation(issue.ast, issue)
        if (message !== undefined) {
          out.push({ _tag: "Composite", path, message })
          return
        }
        const issues: ReadonlyArray<ParseResult.ParseIssue> = Array.isArray(issue.issues)
          ? issue.issues
          : [issue.issues as ParseResult.ParseIssue]
        const meaningful = issues.some((i) => !isUndefinedType(i))
        for (const inner of issues) {
          if (out.length >= max) return
          if (!meaningful || !isUndefinedType(inner)) walk(inner, path, undefined)
        }
        return
      }
      case "Refinement":
        return walk(issue.issue, path, issue.kind === "Predicate" ? "Refinement" : undefined)
      case "Transformation":
        return walk(issue.issue, path, issue.kind === "Transformation" ? "Transformation" : undefined)
    }
  }
  walk(root, [], undefined)
  return out
}

/** A field's path as `InvalidMessage.field` names it: `to[1]`, `image.caption`, `extraInfo.ref`. */
export const formatPath = (path: ReadonlyArray<PropertyKey>): string => {
  if (path.length === 0) return ROOT
  let out = ""
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`
    else out += out === "" ? keyName(key) : `.${keyName(key)}`
  }
  return out
}

/** Every `InvalidMessage` of validation is built here, within the bounds above. */
export const invalidMessage = (
  issues: ReadonlyArray<{ readonly field: string; readonly reason: string }>
): InvalidMessage => {
  const bounded = issues.slice(0, MAX_ISSUES).map(({ field, reason }) => ({
    field: excerpt(field, MAX_TEXT),
    reason: excerpt(reason, MAX_TEXT)
  }))
  if (bounded.length === 0) bounded.push({ field: ROOT, reason: "is not a valid media message" })
  return new InvalidMessage({ field: bounded[0].field, reason: bounded[0].reason, issues: bounded }, {
    disableValidation: true
  })
}

/**
 * The `InvalidMessage` of a decoding failure: the first issue of each field, worded by `reasonOf`. The walk stops
 * once it has enough issues: an input with a million unknown keys is reported in 20 issues, not a million.
 */
export const fromParseIssue = (
  issue: ParseResult.ParseIssue,
  reasonOf: (issue: FlatIssue) => string
): InvalidMessage => {
  const issues: Array<{ field: string; reason: string }> = []
  for (const flat of flattenIssues(issue, MAX_ISSUES * 4)) {
    const field = formatPath(flat.path)
    if (issues.some((seen) => seen.field === field)) continue
    issues.push({ field, reason: reasonOf(flat) })
    if (issues.length === MAX_ISSUES) break
  }
  return invalidMessage(issues)
}
