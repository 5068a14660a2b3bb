/**
 * The rule of each string field of a message, written once: the schemas of `MediaMessage` filter with them, and the
 * validation fast path (`internal/validate.ts`) calls the same functions. Also the recipients' normalisation and
 * the order of each media object's keys, which decoding, the fast path and the wire writer share.
 *
 * @internal
 */
import * as Either from "effect/Either"

/**
 * An unpaired surrogate: not valid Unicode text, it cannot be encoded as UTF-8 (JSON.stringify would write it as an
 * escape that Kaleyra may mangle; a multipart body would carry U+FFFD in its place).
 */
export const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

/** The media types Kaleyra sends. */
export const mediaTypes = ["audio", "document", "image", "sticker", "video"] as const

/** The values Kaleyra accepts for `extra_info.wa_source`. */
export const waSources = [
  "api",
  "clevertap",
  "zoho",
  "webengage",
  "shopify",
  "leadsquared",
  "responsys",
  "braze",
  "hubspot",
  "salesforce",
  "zapier",
  "eloqua",
  "moengage"
] as const

/**
 * A value Kaleyra accepts for `extra_info.wa_source`.
 * @since 0.1.0
 * @category schemas

/** Limits from Kaleyra's specification (lengths in Unicode code points). */
export const limits = {
  captionLength: 1024,
  refLength: 255,
  filenameLength: 255,
  mediaIdLength: 256,
  linkLength: 2048,
  replyToLength: 256,
  minPhoneDigits: 8,
  maxPhoneDigits: 15
} as const

/** Counts Unicode code points (what a person calls characters), not UTF-16 units. */
export const codePointLength = (s: string): number => {
  let n = s.length
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1)
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--
        i++
      }
    }
  }
  return n
}

/* eslint-disable no-control-regex */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/
const WHITESPACE_OR_CONTROL = /[\s\u0000-\u001f\u007f-\u009f]/
/* eslint-enable no-control-regex */

const SURROGATE = /[\ud800-\udfff]/
const UNPAIRED = "contains an unpaired surrogate (not valid Unicode text)"

const textOf =
  (max: number, what: string, options: { readonly allowEmpty?: boolean; readonly oneLine?: boolean }) =>
  (s: string): string | true => {
    if (!options.allowEmpty && s.length === 0) return `${what} must not be empty`
    // Without surrogates (most text), the length in code points is the string's length and none can be unpaired.
    const surrogates = SURROGATE.test(s)
    const length = surrogates ? codePointLength(s) : s.length
    if (length > max) return `${what} must be at most ${max} characters (got ${length})`
    if (options.oneLine && CONTROL.test(s)) return `${what} must not contain control characters`
    if (surrogates && LONE_SURROGATE.test(s)) return `${what} ${UNPAIRED}`
    return true
  }

/** A phone number in E.164: `+`, then 8 to 15 digits, the first not 0. */
export const PHONE = /^\+[1-9][0-9]{7,14}$/

/** Normalises a phone number written by a person (see `MediaMessage.normalizePhoneNumber`). */
export const normalizePhoneNumber = (input: string): Either.Either<string, string> => {
  if (PHONE.test(input)) return Either.right(input)
  const compact = input.replace(/[ .()-]/g, "")
  if (PHONE.test(compact)) return Either.right(compact)
  if (compact.length === 0) return Either.left("must not be empty")
  if (compact[0] !== "+") return Either.left("must start with + and the country code (E.164), e.g. +919876543210")
  const digits = compact.slice(1)
  if (!/^[0-9]*$/.test(digits)) {
    return Either.left(
      digits.includes(",")
        ? "holds a comma: give several recipients as an array"
        : "may hold only digits, spaces, dashes, dots and parentheses after the +"
    )
  }
  if (digits[0] === "0") return Either.left("country code must not start with 0")
  return Either.left(`must have 8 to 15 digits after the + (got ${digits.length})`)
}

/** Why `to` is refused: the offending value, where it is (`[]` for `to` itself, `[i]` for an element), and why. */
export interface RecipientsProblem {
  readonly actual: unknown
  readonly path: ReadonlyArray<number>
  readonly message: string
}

/** Normalises `to` (one number or an array) into distinct E.164 numbers, or says what is wrong with it. */
export const normaliseRecipients = (input: unknown): ReadonlyArray<string> | RecipientsProblem => {
  const list: ReadonlyArray<unknown> | undefined = typeof input === "string"
    ? [input]
    : Array.isArray(input)
    ? input
    : undefined
  if (list === undefined) {
    return { actual: input, path: [], message: "must be a phone number or a non-empty array of them" }
  }
  if (list.length === 0) return { actual: input, path: [], message: "must hold at least one recipient" }
  const out: Array<string> = []
  const seen = list.length > 32 ? new Set<string>() : undefined
  const pathOf = (i: number) => typeof input === "string" ? [] : [i]
  for (let i = 0; i < list.length; i++) {
    const raw = list[i]
    if (typeof raw !== "string") return { actual: raw, path: pathOf(i), message: "must be a phone number string" }
    const n = normalizePhoneNumber(raw)
    if (Either.isLeft(n)) return { actual: raw, path: pathOf(i), message: n.left }
    if (seen !== undefined ? seen.has(n.right) : out.includes(n.right)) {
      return { actual: raw, path: pathOf(i), message: `duplicate recipient ${n.right}: it would get the message twice` }
    }
    out.push(n.right)
    seen?.add(n.right)
  }
  return out
}

/* eslint-disable-next-line no-control-regex */
const WHITESPACE_CONTROL_OR_SURROGATE = /[\s\u0000-\u001f\u007f-\u009f\ud800-\udfff]/

/**
 * One token (a media id, a message id): not empty, no spaces, control characters or unpaired surrogates, at most
 * `max` characters. One scan for a plain token; the characters that need a second look are rare in ids.
 */
const tokenOf = (max: number) => (s: string): string | true => {
  if (s.length === 0) return "must not be empty"
  if (WHITESPACE_CONTROL_OR_SURROGATE.test(s)) {
    if (WHITESPACE_OR_CONTROL.test(s)) return "must not contain spaces or control characters"
    if (LONE_SURROGATE.test(s)) return UNPAIRED
  }
  return s.length > max ? `must be at most ${max} characters` : true
}

const HTTP_SCHEME = /^https?:/i
const PRINTABLE_ASCII = /^[\x21-\x7e]*$/

const parsesAsUrl = (s: string): boolean => {
  try {
    new URL(s)
    return true
  } catch {
    return false
  }
}

const checkLink = (s: string): string | true => {
  if (s.length > limits.linkLength) return `must be at most ${limits.linkLength} characters`
  if (WHITESPACE_OR_CONTROL.test(s)) return "must not contain spaces or control characters (percent-encode them)"
  const ascii = PRINTABLE_ASCII.test(s)
  // `new URL` would silently write an unpaired surrogate as %EF%BF%BD (U+FFFD)
  if (!ascii && LONE_SURROGATE.test(s)) return UNPAIRED
  // Without spaces or control characters, the URL's scheme is the text before the first ":", lower-cased: an
  // http(s) URL starts with "http:" or "https:" in any case, and `URL.canParse` (a third of `new URL`'s cost)
  // checks the rest. Only for ASCII: once optimised, Node 20's `URL.canParse` misreads a string of Latin-1
  // characters (U+0080 to U+00FF), refusing `https://café.fr/` and accepting hosts that `new URL` refuses
  // (nodejs/node#58023). A URL of another scheme is parsed, for its name, only to be refused.
  if (HTTP_SCHEME.test(s)) {
    const parses = ascii ? URL.canParse(s) : parsesAsUrl(s)
    return parses ? true : "must be an absolute http(s) URL"
  }
  let url: URL
  try {
    url = new URL(s)
  } catch {
    return "must be an absolute http(s) URL"
  }
  return `must use http or https (got ${url.protocol.slice(0, -1)})`
}

/**
 * Each rule on a string field, once: the schemas of `MediaMessage` filter with them, and `validate`'s fast path for plainly
 * valid inputs calls the same functions. `true` when the value is valid, otherwise the reason.
 */
export const rules = {
  id: tokenOf(limits.mediaIdLength),
  link: checkLink,
  caption: textOf(limits.captionLength, "caption", { allowEmpty: true }),
  filename: textOf(limits.filenameLength, "filename", { oneLine: true }),
  ref: textOf(limits.refLength, "ref", { allowEmpty: true }),
  replyTo: tokenOf(limits.replyToLength)
} as const

/** The keys of each media object, in the order of its schema (which is the order decoding writes them in). */
export const mediaKeys = {
  audio: ["id", "link"],
  sticker: ["id", "link"],
  image: ["id", "link", "caption"],
  video: ["id", "link", "caption"],
  document: ["id", "link", "caption", "filename"]
} as const satisfies Record<(typeof mediaTypes)[number], ReadonlyArray<keyof typeof rules>>

export const extraInfoKeys = ["ref", "ref1", "ref2", "waSource"] as const
