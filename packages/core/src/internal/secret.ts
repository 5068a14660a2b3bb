/**
 * Keeping the API key out of errors: a server or a transport may echo it back (in a message, a JSON body, an HTML
 * page, a header), so every text an error holds is scrubbed of it before the error leaves the client.
 *
 * Whatever the key's characters, no fragment of {@link MIN_FRAGMENT} or more of its characters survives: as it is,
 * upper- or lower-cased (a server may change the case, the client upper-cases Kaleyra's `code`), JSON-escaped (the
 * excerpt of a JSON body keeps the escapes: `\"`, `\\`, `\t`, `\u00e9`, `\/`), percent-encoded or HTML-escaped,
 * anywhere in a string (a prefix or suffix cut by an excerpt included, even between the two halves of a
 * surrogate pair). It runs on the error path only.
 *
 * @internal
 */
import { RateLimited, type SendMediaError, TransportError, UnexpectedResponse } from "../KaleyraError.js"

/**
 * The shortest run of the key's characters that is removed; a key shorter than this is removed whole.
 *
 * @internal
 */
export const MIN_FRAGMENT = 8

/** @internal */
export const REDACTED = "<redacted>"

/** JSON nested deeper than this is not walked, and not kept: a hostile body must not overflow the stack. */
const MAX_DEPTH = 64

// eslint-disable-next-line no-control-regex
const ASCII = /^[\x00-\x7f]*$/

const foldCache = new Map<string, string>()

/** One UTF-16 unit case-folded (through its upper case, so that `µ` and `Μ` meet), never changing the length. */
const foldUnit = (unit: string): string => {
  let folded = foldCache.get(unit)
  if (folded === undefined) {
    const upper = unit.toUpperCase()
    const lower = (upper.length === 1 ? upper : unit).toLowerCase()
    folded = lower.length === 1 ? lower : unit
    if (foldCache.size < 4096) foldCache.set(unit, folded)
  }
  return folded
}

/**
 * The string of `units`, unit for unit. Not a `TextDecoder`: it would replace an unpaired surrogate by U+FFFD, and a
 * text cut in the middle of a pair (by an excerpt, a transport, a server) must still match the key's windows.
 */
const fromUnits = (units: Uint16Array): string => {
  let out = ""
  // In chunks: one call per unit would be slow, one call for all of them would overflow the stack.
  for (let i = 0; i < units.length; i += 8192) {
    const chunk: string = Reflect.apply(String.fromCharCode, null, units.subarray(i, i + 8192))
    out += chunk
  }
  return out
}

/** `text` case-folded unit by unit: position `i` of the result is position `i` of `text`, surrogates included. */
const fold = (text: string): string => {
  if (ASCII.test(text)) return text.toLowerCase()
  const units = new Uint16Array(text.length)
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    units[i] = code < 0x80
      ? (code >= 0x41 && code <= 0x5a ? code + 0x20 : code)
      : foldUnit(text[i]).charCodeAt(0)
  }
  return fromUnits(units)
}

/** Where a window of folded text may start: a bit per hash of its first two units, to skip most positions cheaply. */
const pairHash = (text: string, i: number) => ((text.charCodeAt(i) << 5) ^ text.charCodeAt(i + 1)) & 0xffff

const hex4 = (code: number) => "\\u" + code.toString(16).padStart(4, "0")

/** The ways a text may be written back: as it is, and escaped as JSON, URLs and HTML escape it. */
const encodings = (text: string): ReadonlyArray<string> => {
  const json = JSON.stringify(text).slice(1, -1)
  // JSON as Python (ensure_ascii) and PHP (escaped slashes) write it.
  // eslint-disable-next-line no-control-regex
  const jsonAscii = json.replace(/[^\x00-\x7f]/g, (c) => hex4(c.charCodeAt(0))).replace(/\//g, "\\/")
  let percent: string | undefined
  try {
    percent = encodeURIComponent(text)
  } catch {
    // a lone surrogate: no URL form
  }
  const html = text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;")
  return percent === undefined ? [text, json, jsonAscii, html] : [text, json, jsonAscii, percent, html]
}

/**
 * A function that removes every fragment of `secret` (see the module's documentation) from a text, replacing each
 * run of it by `<redacted>`; the text itself when there is none.
 *
 * @internal
 */
export const textScrubber = (secret: string): (text: string) => string => {
  // Built at the first text to scrub, not with the client: its tables (64 KiB per window length) cost every client,
  // and a property test builds one per run, while only an error's text ever needs them.
  let scrub: ((text: string) => string) | undefined
  return (text) => text.length === 0 ? text : (scrub ??= buildTextScrubber(secret))(text)
}

const buildTextScrubber = (secret: string): (text: string) => string => {
  // Every window of MIN_FRAGMENT units of every form of the key, folded, grouped by length (a form shorter than
  // MIN_FRAGMENT is one window of its own length).
  const windows = new Map<number, Set<string>>()
  const forms = new Set(
    [secret, secret.toUpperCase(), secret.toLowerCase()].flatMap(encodings).filter((form) => form.length > 0)
  )
  for (const form of forms) {
    const folded = fold(form)
    const width = Math.min(MIN_FRAGMENT, folded.length)
    let set = windows.get(width)
    if (set === undefined) windows.set(width, set = new Set())
    for (let i = 0; i + width <= folded.length; i++) set.add(folded.slice(i, i + width))
  }
  const groups = Array.from(windows, ([width, set]) => {
    const starts = new Uint8Array(0x10000)
    if (width >= 2) { for (const window of set) starts[pairHash(window, 0)] = 1 }
    return { width, set, starts }
  })
  /** Calls `hit` with the span of every window of the key found in `folded`. */
  const search = (folded: string, hit: (start: number, end: number) => void) => {
    for (const { set, starts, width } of groups) {
      for (let i = 0; i + width <= folded.length; i++) {
        if (width >= 2 && starts[pairHash(folded, i)] === 0) continue
        if (set.has(folded.slice(i, i + width))) hit(i, i + width)
      }
    }
  }
  return (text) => {
    if (text.length === 0) return text
    let marks: Uint8Array | undefined
    search(fold(text), (start, end) => (marks ??= new Uint8Array(text.length)).fill(1, start, end))
    // The key may also be written with escapes the forms above do not foresee (Go writes `<` as `\u003c`, HTML
    // writes `"` as `&#34;`, a form writes a space as `+`, a JSON body may quote JSON): search the text decoded too.
    if (MAY_ESCAPE.test(text)) {
      let decoded = decode(text, undefined)
      for (let pass = 0; decoded !== undefined && pass < MAX_DECODES; pass++) {
        const { from, to } = decoded
        search(
          fold(decoded.text),
          (start, end) => (marks ??= new Uint8Array(text.length)).fill(1, from[start], to[end - 1])
        )
        decoded = decode(decoded.text, decoded)
      }
    }
    if (marks === undefined) return text
    let out = ""
    for (let i = 0; i < text.length;) {
      if (marks[i] === 1) {
        while (i < text.length && marks[i] === 1) i++
        out += REDACTED
      } else {
        const start = i
        while (i < text.length && marks[i] === 0) i++
        out += text.slice(start, i)
      }
    }
    return out
  }
}

/** A text that may hold an escape of any kind decode knows. */
const MAY_ESCAPE = /[\\&%+]/

/** How many times a text is decoded (an escape of an escape: JSON quoting JSON, a URL in a JSON string). */
const MAX_DECODES = 3

/** A text with its escapes decoded: unit `j` of `text` comes from units `from[j]` to `to[j]` (excluded) of the original. */
interface Decoded {
  readonly text: string
  readonly from: Int32Array
  readonly to: Int32Array
}

const SHORT_ESCAPES: Readonly<Record<string, string>> = {
  "\"": "\"",
  "\\": "\\",
  "/": "/",
  "'": "'",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t"
}
const NAMED_ENTITIES: Readonly<Record<string, number>> = { amp: 0x26, lt: 0x3c, gt: 0x3e, quot: 0x22, apos: 0x27 }
const ENTITY = /^&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|([a-zA-Z]{2,4}));/

const hexAt = (text: string, at: number, digits: number): number => {
  if (at + digits > text.length) return -1
  let value = 0
  for (let i = at; i < at + digits; i++) {
    const d = parseInt(text[i], 16)
    if (Number.isNaN(d)) return -1
    value = value * 16 + d
  }
  return value
}

/** The code point of a percent-encoded UTF-8 sequence starting at `at`, and its length; `undefined` if none. */
const percentAt = (text: string, at: number): readonly [number, number] | undefined => {
  const lead = hexAt(text, at + 1, 2)
  if (lead < 0) return undefined
  if (lead < 0x80) return [lead, 3]
  const count = lead >= 0xf0 && lead < 0xf8 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 0
  if (count === 0) return undefined
  let code = lead & (0xff >> (count + 1))
  for (let k = 1; k < count; k++) {
    const at2 = at + 3 * k
    const byte = text[at2] === "%" ? hexAt(text, at2 + 1, 2) : -1
    if (byte < 0x80 || byte > 0xbf) return undefined
    code = (code << 6) | (byte & 0x3f)
  }
  return code <= 0x10ffff ? [code, 3 * count] : undefined
}

/** The escape starting at `at` (JSON, `\x`, HTML, percent, `+`): the code point and the escape's length. */
const escapeAt = (text: string, at: number): readonly [number, number] | undefined => {
  switch (text[at]) {
    case "\\": {
      const kind = text[at + 1]
      if (kind === "u") {
        const code = hexAt(text, at + 2, 4)
        return code < 0 ? undefined : [code, 6]
      }
      if (kind === "x") {
        const code = hexAt(text, at + 2, 2)
        return code < 0 ? undefined : [code, 4]
      }
      const short = kind === undefined ? undefined : SHORT_ESCAPES[kind]
      return short === undefined ? undefined : [short.charCodeAt(0), 2]
    }
    case "&": {
      const match = ENTITY.exec(text.slice(at, at + 12))
      if (match === null) return undefined
      const code = match[1] !== undefined
        ? parseInt(match[1], 10)
        : match[2] !== undefined
        ? parseInt(match[2], 16)
        : NAMED_ENTITIES[match[3].toLowerCase()]
      return code === undefined || code > 0x10ffff ? undefined : [code, match[0].length]
    }
    case "%":
      return percentAt(text, at)
    case "+":
      return [0x20, 1]
    default:
      return undefined
  }
}

/**
 * `text` with every escape replaced by what it stands for, the spans mapped back to the original through `outer`
 * (the decoding `text` came from); `undefined` when it holds no escape.
 */
const decode = (text: string, outer: Decoded | undefined): Decoded | undefined => {
  let out = ""
  const from = new Int32Array(text.length)
  const to = new Int32Array(text.length)
  let length = 0
  let changed = false
  const push = (unit: string, start: number, end: number) => {
    out += unit
    from[length] = outer === undefined ? start : outer.from[start]
    to[length] = outer === undefined ? end : outer.to[end - 1]
    length++
  }
  for (let i = 0; i < text.length;) {
    const escape = escapeAt(text, i)
    if (escape === undefined) {
      push(text[i], i, i + 1)
      i++
      continue
    }
    changed = true
    const units = String.fromCodePoint(escape[0])
    for (const unit of units.length === 1 ? [units] : [units[0], units[1]]) push(unit, i, i + escape[1])
    i += escape[1]
  }
  return changed ? { text: out, from: from.subarray(0, length), to: to.subarray(0, length) } : undefined
}

const isPlainObject = (u: unknown): u is Record<string, unknown> => {
  if (typeof u !== "object" || u === null) return false
  const proto = Object.getPrototypeOf(u)
  return proto === Object.prototype || proto === null
}

/**
 * Scrubs a parsed JSON value (keys, strings, and numbers written back as text), rebuilding only what changed: the
 * value itself when it holds no fragment.
 */
const valueScrubber = (scrub: (text: string) => string) => {
  const go = (value: unknown, depth: number): unknown => {
    switch (typeof value) {
      case "string":
        return scrub(value)
      case "number":
      case "bigint":
      case "boolean": {
        // A numeric key echoed as a JSON number is parsed as one.
        const text = String(value)
        const clean = scrub(text)
        return clean === text ? value : clean
      }
      case "object":
        break
      default:
        return value
    }
    if (depth >= MAX_DEPTH) return REDACTED
    if (Array.isArray(value)) {
      let out: Array<unknown> | undefined
      for (let i = 0; i < value.length; i++) {
        const clean = go(value[i], depth + 1)
        if (clean !== value[i]) (out ??= value.slice())[i] = clean
      }
      return out ?? value
    }
    if (!isPlainObject(value)) return value
    let changed = false
    const entries = Object.entries(value).map(([key, item]) => {
      const cleanKey = scrub(key)
      const cleanItem = go(item, depth + 1)
      if (cleanKey !== key || cleanItem !== item) changed = true
      return [cleanKey, cleanItem] as const
    })
    return changed ? Object.fromEntries(entries) : value
  }
  return (value: unknown) => go(value, 0)
}

type Rebuild<E> = new(fields: unknown, options: { readonly disableValidation: boolean }) => E

/**
 * A function that returns an error of the same class with every text scrubbed of `secret` (the error itself when
 * nothing needed it). Errors found before sending (`InvalidMessage`) hold no server text and are returned as they
 * are.
 *
 * @internal
 */
export const errorScrubber = (secret: string, text: (s: string) => string = textScrubber(secret)) => {
  const value = valueScrubber(text)
  const optional = (s: string | undefined) => s === undefined ? undefined : text(s)
  const options = { disableValidation: true }
  return <E extends SendMediaError>(error: E): E => {
    switch (error._tag) {
      case "InvalidMessage":
        return error
      case "TransportError": {
        const detail = text(error.detail)
        if (detail === error.detail) return error
        return new TransportError({
          reason: error.reason,
          mayHaveReachedKaleyra: error.mayHaveReachedKaleyra,
          detail
        }, options) as E
      }
      case "UnexpectedResponse": {
        const contentType = optional(error.contentType)
        const excerpt = text(error.excerpt)
        const body = value(error.body)
        if (contentType === error.contentType && excerpt === error.excerpt && body === error.body) return error
        return new UnexpectedResponse({
          status: error.status,
          reason: error.reason,
          ...(contentType !== undefined ? { contentType } : {}),
          excerpt,
          ...(body !== undefined ? { body } : {})
        }, options) as E
      }
      case "RateLimited": {
        const message = text(error.message)
        const code = optional(error.code)
        if (message === error.message && code === error.code) return error
        return new RateLimited({
          status: error.status,
          message,
          ...(code !== undefined ? { code } : {}),
          ...(error.retryAfter !== undefined ? { retryAfter: error.retryAfter } : {})
        }, options) as E
      }
      default: {
        const code = text(error.code)
        const message = text(error.message)
        const errorObject = value(error.error)
        if (code === error.code && message === error.message && errorObject === error.error) return error
        const Rebuilt = error.constructor as Rebuild<E>
        return new Rebuilt({ status: error.status, code, message, error: errorObject }, options)
      }
    }
  }
}
