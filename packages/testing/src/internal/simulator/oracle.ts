/**
 * The payload oracle: whether Kaleyra (and Meta behind it) would take a request's body, written from the
 * specification and Meta's rules, by hand.
 *
 * It is independent of core's validators ON PURPOSE: it is the second opinion that catches a core validation bug (a
 * client that refuses a valid message, or lets an invalid one through, disagrees with it in the tests). Do not
 * replace it by core's schemas or share their helpers; only core's types and its table of upload limits
 * (`MediaFile.supportedTypes`, which the README promises) are shared. Hand-written also because it is on the
 * simulator's hot path.
 *
 * Checks: the send body (`messaging_object` with a media or a template, `extra_info`, strict about unknown keys),
 * the recipients, the content type, and a multipart upload.
 *
 * @internal
 */
import * as MediaFile from "@effect-kaleyra/core/MediaFile"
import type * as MediaMessage from "@effect-kaleyra/core/MediaMessage"
import type * as KaleyraSimulator from "../../KaleyraSimulator.js"

export type Json = Record<string, unknown>

export const isObject = (u: unknown): u is Json => typeof u === "object" && u !== null && !Array.isArray(u)

const RECIPIENT = /^\+?[1-9][0-9]{7,14}$/
// eslint-disable-next-line no-control-regex
const WHITESPACE_OR_CONTROL = /[\s\u0000-\u001f\u007f-\u009f]/
const HTTP_LINK = /^https?:\/\/[^/?#]/i
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

const CAPTION_LIMIT = 1024
const REF_LIMIT = 255
const OPAQUE_LIMIT = 512

/** Parses a comma-separated `to` into E.164 numbers (`+` added), or `undefined` when any entry is not E.164. */
const parseRecipients = (to: unknown): Array<string> | undefined => {
  if (typeof to !== "string") return undefined
  const out = to.split(",")
  for (let i = 0; i < out.length; i++) {
    const entry = out[i].trim()
    if (!RECIPIENT.test(entry)) return undefined
    out[i] = entry.charCodeAt(0) === 43 ? entry : "+" + entry
  }
  return out
}

const codePointLength = (s: string): number => {
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

/** Keeps the first `max` code points. */
const truncate = (s: string, max: number): string => {
  if (s.length <= max) return s
  let count = 0
  let i = 0
  while (i < s.length && count < max) {
    const c = s.charCodeAt(i)
    i += c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00 ? 2 : 1
    count++
  }
  return s.slice(0, i)
}

const isText = (u: unknown, max: number): boolean =>
  typeof u === "string" && (u.length <= max || codePointLength(u) <= max) && !LONE_SURROGATE.test(u)

const isToken = (u: unknown): boolean => typeof u === "string" && u.length > 0 && !WHITESPACE_OR_CONTROL.test(u)

const isLink = (u: unknown): boolean => {
  if (typeof u !== "string" || !HTTP_LINK.test(u) || WHITESPACE_OR_CONTROL.test(u)) return false
  try {
    const url = new URL(u)
    return url.hostname !== ""
  } catch {
    return false
  }
}

const isMediaType = (u: unknown): u is MediaMessage.MediaType =>
  u === "image" || u === "document" || u === "video" || u === "audio" || u === "sticker"

// Copied from the specification rather than imported from core: an oracle that shared core's list would agree with
// its mistakes.
const WA_SOURCES: ReadonlyArray<string> = [
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
]

const isWaSource = (u: string): u is MediaMessage.WaSource => WA_SOURCES.includes(u)

const validMedia = (type: MediaMessage.MediaType, media: unknown): boolean => {
  if (!isObject(media)) return false
  let sources = 0
  for (const key in media) {
    const value = media[key]
    switch (key) {
      case "id":
        if (!isToken(value)) return false
        sources++
        break
      case "link":
        if (!isLink(value)) return false
        sources++
        break
      case "caption":
        if ((type !== "image" && type !== "video" && type !== "document") || !isText(value, CAPTION_LIMIT)) {
          return false
        }
        break
      case "filename":
        if (type !== "document" || typeof value !== "string" || value.length === 0 || LONE_SURROGATE.test(value)) {
          return false
        }
        break
      default:
        return false
    }
  }
  return sources === 1
}

const validContext = (context: unknown): boolean => {
  if (!isObject(context)) return false
  for (const key in context) {
    if (key !== "message_id" || !isToken(context[key])) return false
  }
  return "message_id" in context
}

export interface ValidMessagingObject {
  readonly type: MediaMessage.MessageType
  readonly recipients: Array<string>
}

const validMessagingObject = (mo: unknown): ValidMessagingObject | undefined => {
  if (!isObject(mo)) return undefined
  const type = mo.type
  if ((!isMediaType(type) && type !== "template") || mo.messaging_product !== "whatsapp") return undefined
  for (const key in mo) {
    switch (key) {
      case "messaging_product":
      case "type":
      case "to":
        break
      case "recipient_type":
        if (mo[key] !== "individual") return undefined
        break
      case "context":
        if (!validContext(mo[key])) return undefined
        break
      case "biz_opaque_callback_data":
        if (!isText(mo[key], OPAQUE_LIMIT)) return undefined
        break
      default:
        if (key !== type) return undefined
    }
  }
  if (type === "template" ? !validTemplate(mo[type], validMedia) : !validMedia(type, mo[type])) {
    return undefined
  }
  const recipients = parseRecipients(mo.to)
  return recipients === undefined ? undefined : { type, recipients }
}

type MutableExtraInfo = { -readonly [K in keyof MediaMessage.ExtraInfo]: MediaMessage.ExtraInfo[K] }

/** `extra_info` as Kaleyra stores it, or `undefined` when invalid. */
const storedExtraInfo = (extra: unknown): MediaMessage.ExtraInfo | undefined => {
  if (!isObject(extra)) return undefined
  const out: MutableExtraInfo = {}
  for (const key in extra) {
    const value = extra[key]
    if (typeof value !== "string") return undefined
    switch (key) {
      case "ref":
      case "ref1":
      case "ref2":
        if (LONE_SURROGATE.test(value)) return undefined
        out[key] = truncate(value, REF_LIMIT)
        break
      case "wa_source":
        out.waSource = isWaSource(value) ? value : "api"
        break
      default:
        return undefined
    }
  }
  return out
}

export interface ValidBody extends ValidMessagingObject {
  readonly extraInfo: MediaMessage.ExtraInfo | undefined
}

export const validBody = (body: unknown): ValidBody | undefined => {
  if (!isObject(body)) return undefined
  let messagingObject: ValidMessagingObject | undefined
  let extraInfo: MediaMessage.ExtraInfo | undefined
  for (const key in body) {
    if (key === "messaging_object") {
      messagingObject = validMessagingObject(body[key])
      if (messagingObject === undefined) return undefined
    } else if (key === "extra_info") {
      extraInfo = storedExtraInfo(body[key])
      if (extraInfo === undefined) return undefined
    } else {
      return undefined
    }
  }
  return messagingObject === undefined
    ? undefined
    : { type: messagingObject.type, recipients: messagingObject.recipients, extraInfo }
}

/** The recipients named in a body, for scenarios (whether or not the rest of the body is valid). */
export const recipientsOf = (body: unknown): Array<string> => {
  if (!isObject(body) || !isObject(body.messaging_object) || typeof body.messaging_object.to !== "string") return []
  const out: Array<string> = []
  for (const entry of body.messaging_object.to.split(",")) {
    const normalized = normalizeNumber(entry)
    if (normalized !== undefined) out.push(normalized)
  }
  return out
}

export const isJsonContentType = (contentType: string | undefined): boolean => {
  if (contentType === undefined) return false
  const type = contentType.trim().toLowerCase()
  if (!type.startsWith("application/json")) return false
  const next = type.charCodeAt(16)
  return type.length === 16 || next === 59 /* ; */ || next === 32 /* space */ || next === 9 /* tab */
}

/** `+` and digits from a number written with or without `+`, spaces, dashes, dots or parentheses. */
export const normalizeNumber = (input: string): string | undefined => {
  const compact = input.replace(/[\s.()-]/g, "")
  if (!RECIPIENT.test(compact)) return undefined
  return compact.charCodeAt(0) === 43 ? compact : "+" + compact
}

// Templates (checked structurally, like the media bodies)

const onlyKeys = (o: Json, keys: ReadonlyArray<string>): boolean => Object.keys(o).every((k) => keys.includes(k))
const isNonEmptyString = (u: unknown): u is string => typeof u === "string" && u.trim().length > 0
/* eslint-disable-next-line no-control-regex */
const BAD_PARAMETER_TEXT = /[\u0000-\u001f]| {5}/
const isParameterText = (u: unknown): boolean => isNonEmptyString(u) && !BAD_PARAMETER_TEXT.test(u)
const isInteger = (u: unknown): boolean => typeof u === "number" && Number.isInteger(u)

/** Checks a media object of a header: the same rule as a media message's. */
type ValidMedia = (type: "image" | "video" | "document", media: unknown) => boolean

const validParameter = (p: unknown, allowed: ReadonlyArray<string>, validMedia: ValidMedia): boolean => {
  if (!isObject(p) || typeof p.type !== "string" || !allowed.includes(p.type)) return false
  if (p.parameter_name !== undefined && !/^[a-z_][a-z0-9_]*$/.test(String(p.parameter_name))) return false
  switch (p.type) {
    case "image":
    case "video":
    case "document":
      return onlyKeys(p, ["type", p.type]) && validMedia(p.type, p[p.type])
    case "text":
      return onlyKeys(p, ["type", "text", "parameter_name"]) && isParameterText(p.text)
    case "payload":
      return onlyKeys(p, ["type", "payload"]) && isParameterText(p.payload)
    case "currency": {
      const c = p.currency
      return onlyKeys(p, ["type", "currency", "parameter_name"]) && isObject(c) &&
        onlyKeys(c, ["fallback_value", "code", "amount_1000"]) && isNonEmptyString(c.fallback_value) &&
        typeof c.code === "string" && /^[A-Z]{3}$/.test(c.code) && isInteger(c.amount_1000)
    }
    case "date_time": {
      const d = p.date_time
      const fields = ["fallback_value", "day_of_week", "year", "month", "day_of_month", "hour", "minute", "calendar"]
      return onlyKeys(p, ["type", "date_time", "parameter_name"]) && isObject(d) && onlyKeys(d, fields) &&
        isNonEmptyString(d.fallback_value) &&
        fields.slice(1, 7).every((k) => d[k] === undefined || isInteger(d[k])) &&
        (d.calendar === undefined || d.calendar === "GREGORIAN" || d.calendar === "SOLAR_HIJRI")
    }
  }
  return false
}

const validComponent = (c: unknown, validMedia: ValidMedia): boolean => {
  if (!isObject(c) || !Array.isArray(c.parameters) || c.parameters.length === 0) return false
  const parameters: ReadonlyArray<unknown> = c.parameters
  switch (c.type) {
    case "header":
      return onlyKeys(c, ["type", "parameters"]) && parameters.length === 1 &&
        validParameter(parameters[0], ["image", "video", "document", "text"], validMedia)
    case "body":
      return onlyKeys(c, ["type", "parameters"]) &&
        parameters.every((p) => validParameter(p, ["text", "currency", "date_time"], validMedia))
    case "button":
      return onlyKeys(c, ["type", "sub_type", "index", "parameters"]) &&
        (c.sub_type === "quick_reply" || c.sub_type === "url") &&
        (typeof c.index === "string" ? /^[0-9]$/.test(c.index) : isInteger(c.index)) &&
        parameters.every((p) => validParameter(p, ["payload", "text"], validMedia))
  }
  return false
}

/**
 * Whether `messaging_object.template` is a template object Meta would take: a name of lowercase letters, digits and
 * underscores, a language code, at most one header and one body, known parameter types with their fields,
 * parameter texts without newlines, tabs or more than four consecutive spaces. Unknown keys are refused, as for
 * the media bodies.
 */
const validTemplate = (template: unknown, validMedia: ValidMedia): boolean => {
  if (!isObject(template) || !onlyKeys(template, ["name", "language", "components", "namespace"])) return false
  if (typeof template.name !== "string" || !/^[a-z0-9_]{1,512}$/.test(template.name)) return false
  const language = template.language
  if (!isObject(language) || !onlyKeys(language, ["code", "policy"])) return false
  if (typeof language.code !== "string" || !/^[a-z]{2,3}(_[A-Z]{2})?$/.test(language.code)) return false
  if (language.policy !== undefined && language.policy !== "deterministic") return false
  if (template.components === undefined) return true
  if (!Array.isArray(template.components)) return false
  const components: ReadonlyArray<unknown> = template.components
  const count = (type: string) => components.filter((c) => isObject(c) && c.type === type).length
  return count("header") <= 1 && count("body") <= 1 && components.every((c) => validComponent(c, validMedia))
}

/** An upload as the simulator keeps it, before its id and sender number are given. */
export type ParsedUpload = Omit<KaleyraSimulator.UploadedMedia, "id" | "senderNumber">

const MULTIPART = /^\s*multipart\/form-data\s*;/i

/** Whether the content type is a multipart form with its boundary. */
export const isMultipart = (contentType: string | undefined): contentType is string =>
  contentType !== undefined && MULTIPART.test(contentType)

/** Reads a multipart upload (`file` and `type`), or `undefined` when Kaleyra would refuse it. */
export const parseUpload = async (body: Uint8Array, contentType: string): Promise<ParsedUpload | undefined> => {
  let form: FormData
  try {
    form = await new Response(new Uint8Array(body), { headers: { "content-type": contentType } }).formData()
  } catch {
    return undefined
  }
  const file = form.get("file")
  const type = form.get("type")
  if (typeof file === "string" || file === null || typeof type !== "string") return undefined
  const mimeType = type.trim().toLowerCase()
  const supported = MediaFile.supportedTypes.find((t) => t.mimeType === mimeType)
  if (supported === undefined) return undefined
  const limit = mimeType === "image/webp" ? MediaFile.animatedStickerMaxBytes : supported.maxBytes
  if (file.size === 0 || file.size > limit) return undefined
  return {
    mimeType,
    mediaType: supported.mediaType,
    filename: file.name,
    size: file.size,
    data: new Uint8Array(await file.arrayBuffer())
  }
}
