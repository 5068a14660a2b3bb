/**
 * Media files for upload: the supported MIME types and their size limits (kaleyra-api.md section 4), type detection
 * from a file's leading bytes, and the checks run before any byte is sent.
 *
 * Sizes are in decimal units, as Meta writes them (5 MB = 5,000,000 bytes), so that a file this library lets through
 * is never refused by Meta for its size.
 *
 * @since 0.1.0
 */
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import { excerpt } from "./internal/describe.js"
import { codePointLength, LONE_SURROGATE } from "./internal/fields.js"
import type { MediaType } from "./MediaMessage.js"

/**
 * A supported upload type.
 *
 * @since 0.1.0
 * @category models
 */
export interface SupportedType {
  readonly mimeType: string
  readonly mediaType: MediaType
  readonly extensions: ReadonlyArray<string>
  /** Largest size in bytes (for stickers: static). */
  readonly maxBytes: number
}

const MB = 1_000_000
const KB = 1_000

/**
 * Every MIME type Kaleyra accepts for upload, with the media type it is sent as and its size limit.
 *
 * @since 0.1.0
 * @category constants
 */
export const supportedTypes: ReadonlyArray<SupportedType> = [
  { mimeType: "audio/aac", mediaType: "audio", extensions: ["aac"], maxBytes: 16 * MB },
  { mimeType: "audio/amr", mediaType: "audio", extensions: ["amr"], maxBytes: 16 * MB },
  { mimeType: "audio/mpeg", mediaType: "audio", extensions: ["mp3"], maxBytes: 16 * MB },
  { mimeType: "audio/mp4", mediaType: "audio", extensions: ["m4a"], maxBytes: 16 * MB },
  { mimeType: "audio/ogg", mediaType: "audio", extensions: ["ogg", "opus"], maxBytes: 16 * MB },
  { mimeType: "text/plain", mediaType: "document", extensions: ["txt"], maxBytes: 100 * MB },
  { mimeType: "application/vnd.ms-excel", mediaType: "document", extensions: ["xls"], maxBytes: 100 * MB },
  {
    mimeType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    mediaType: "document",
    extensions: ["xlsx"],
    maxBytes: 100 * MB
  },
  { mimeType: "application/msword", mediaType: "document", extensions: ["doc"], maxBytes: 100 * MB },
  {
    mimeType: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    mediaType: "document",
    extensions: ["docx"],
    maxBytes: 100 * MB
  },
  { mimeType: "application/vnd.ms-powerpoint", mediaType: "document", extensions: ["ppt"], maxBytes: 100 * MB },
  {
    mimeType: "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    mediaType: "document",
    extensions: ["pptx"],
    maxBytes: 100 * MB
  },
  { mimeType: "application/pdf", mediaType: "document", extensions: ["pdf"], maxBytes: 100 * MB },
  { mimeType: "image/jpeg", mediaType: "image", extensions: ["jpg", "jpeg"], maxBytes: 5 * MB },
  { mimeType: "image/png", mediaType: "image", extensions: ["png"], maxBytes: 5 * MB },
  { mimeType: "video/3gpp", mediaType: "video", extensions: ["3gp"], maxBytes: 16 * MB },
  { mimeType: "video/mp4", mediaType: "video", extensions: ["mp4"], maxBytes: 16 * MB },
  { mimeType: "image/webp", mediaType: "sticker", extensions: ["webp"], maxBytes: 100 * KB }
]

/**
 * The size limit of an animated sticker.
 *
 * @since 0.1.0
 * @category constants
 */
export const animatedStickerMaxBytes = 500 * KB

const byMime = new Map(supportedTypes.map((t) => [t.mimeType, t]))
const byExtension = new Map(supportedTypes.flatMap((t) => t.extensions.map((e) => [e, t] as const)))

/**
 * The rule a refused file broke.
 *
 * @since 0.1.0
 * @category models
 */
export const MediaRule = Schema.Literal(
  "InvalidInput",
  "Empty",
  "UnsupportedType",
  "UnknownType",
  "TypeMismatch",
  "TooLarge",
  "InvalidFilename"
)

/**
 * The rule a refused file broke.
 *
 * @since 0.1.0
 * @category models
 */
export type MediaRule = typeof MediaRule.Type

/**
 * A file refused before upload: `rule` says which rule, `limit` the limit in bytes for `TooLarge`. Nothing was sent.
 * A value the caller gave is quoted by an excerpt (an unsupported `mimeType`: its first 40 characters), so that the
 * error stays small whatever the input.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidMedia extends Schema.TaggedError<InvalidMedia>("@effect-kaleyra/core/InvalidMedia")(
  "InvalidMedia",
  {
    rule: MediaRule,
    /** The input field at fault: `data`, `filename`, `mimeType`, or `input` for the input as a whole. */
    field: Schema.optionalWith(Schema.Literal("input", "data", "filename", "mimeType"), {
      default: () => "input" as const
    }),
    reason: Schema.String,
    filename: Schema.optional(Schema.String),
    mimeType: Schema.optional(Schema.String),
    size: Schema.optional(Schema.Number),
    limit: Schema.optional(Schema.Number)
  }
) {
  /**
   * @since 0.1.0
   */
  override get message(): string {
    return `Invalid media (${this.rule}, ${this.field}): ${this.reason}`
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Sniffing
// ---------------------------------------------------------------------------------------------------------------

/**
 * What the leading bytes say a file is. `family` is set for containers shared by several types (OLE2: doc, xls,
 * ppt; ZIP: docx, xlsx, pptx; ISO media: mp4, m4a, 3gp).
 *
 * @since 0.1.0
 * @category models
 */
export type Sniffed =
  | { readonly _tag: "Known"; readonly mimeType: string; readonly animated?: boolean }
  | { readonly _tag: "Family"; readonly family: "ole2" | "zip" | "isomedia"; readonly mimeTypes: ReadonlyArray<string> }
  | { readonly _tag: "Text" }
  | { readonly _tag: "Unknown" }

const startsWith = (bytes: Uint8Array, signature: ReadonlyArray<number>, offset = 0) => {
  if (bytes.length < offset + signature.length) return false
  for (let i = 0; i < signature.length; i++) if (bytes[offset + i] !== signature[i]) return false
  return true
}
const ascii = (s: string) => Array.from(s, (c) => c.charCodeAt(0))

const isAnimatedWebp = (bytes: Uint8Array): boolean => {
  // RIFF....WEBPVP8X, flags byte at 20: bit 1 (0x02) is the animation flag.
  if (startsWith(bytes, ascii("VP8X"), 12) && bytes.length > 20) return (bytes[20] & 0x02) !== 0
  return false
}

const looksLikeText = (bytes: Uint8Array): boolean => {
  const n = Math.min(bytes.length, 4096)
  for (let i = 0; i < n; i++) {
    const b = bytes[i]
    if (b === 0) return false
    if (b < 0x09 || (b > 0x0d && b < 0x20 && b !== 0x1b)) return false
  }
  try {
    // Cut at a safe point: a multi-byte sequence split at the edge is not an error.
    new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(0, n), { stream: true })
    return true
  } catch {
    return false
  }
}

/**
 * Identifies a file from its first bytes (at least 64 are needed for some formats; pass what you have).
 *
 * @since 0.1.0
 * @category sniffing
 */
export const sniff = (bytes: Uint8Array): Sniffed => {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return { _tag: "Known", mimeType: "image/jpeg" }
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) {
    return { _tag: "Known", mimeType: "image/png" }
  }
  if (startsWith(bytes, ascii("RIFF")) && startsWith(bytes, ascii("WEBP"), 8)) {
    return { _tag: "Known", mimeType: "image/webp", animated: isAnimatedWebp(bytes) }
  }
  if (startsWith(bytes, ascii("%PDF-"))) return { _tag: "Known", mimeType: "application/pdf" }
  if (startsWith(bytes, ascii("OggS"))) return { _tag: "Known", mimeType: "audio/ogg" }
  if (startsWith(bytes, ascii("#!AMR"))) return { _tag: "Known", mimeType: "audio/amr" }
  if (startsWith(bytes, ascii("ID3"))) return { _tag: "Known", mimeType: "audio/mpeg" }
  if (startsWith(bytes, ascii("ftyp"), 4)) {
    const brand = String.fromCharCode(...bytes.subarray(8, 12))
    if (brand.startsWith("3g")) return { _tag: "Known", mimeType: "video/3gpp" }
    if (brand === "M4A " || brand === "M4B ") return { _tag: "Known", mimeType: "audio/mp4" }
    return { _tag: "Family", family: "isomedia", mimeTypes: ["video/mp4", "audio/mp4"] }
  }
  if (startsWith(bytes, [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1])) {
    return {
      _tag: "Family",
      family: "ole2",
      mimeTypes: ["application/msword", "application/vnd.ms-excel", "application/vnd.ms-powerpoint"]
    }
  }
  if (startsWith(bytes, [0x50, 0x4b, 0x03, 0x04])) {
    return {
      _tag: "Family",
      family: "zip",
      mimeTypes: supportedTypes.filter((t) => t.extensions[0].endsWith("x") && t.extensions[0].length === 4).map((t) =>
        t.mimeType
      )
    }
  }
  // ADTS AAC: 12-bit sync word, layer bits 00. MPEG audio frames: 11-bit sync word, layer bits non-zero.
  if (bytes.length >= 2 && bytes[0] === 0xff && (bytes[1] & 0xf6) === 0xf0) {
    return { _tag: "Known", mimeType: "audio/aac" }
  }
  if (bytes.length >= 2 && bytes[0] === 0xff && (bytes[1] & 0xe0) === 0xe0 && (bytes[1] & 0x06) !== 0) {
    return { _tag: "Known", mimeType: "audio/mpeg" }
  }
  if (bytes.length > 0 && looksLikeText(bytes)) return { _tag: "Text" }
  return { _tag: "Unknown" }
}

// ---------------------------------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------------------------------

/**
 * A file's facts, once checked.
 *
 * @since 0.1.0
 * @category models
 */
export interface CheckedFile {
  readonly filename: string
  readonly mimeType: string
  readonly mediaType: MediaType
  readonly size: number
  readonly animated: boolean
  readonly limit: number
}

const extensionOf = (filename: string): string | undefined => {
  const dot = filename.lastIndexOf(".")
  return dot > 0 && dot < filename.length - 1 ? filename.slice(dot + 1).toLowerCase() : undefined
}

/**
 * Checks a file name: 1 to 255 characters, no path separators, no control characters or unpaired surrogates, not
 * `.` or `..`.
 *
 * @since 0.1.0
 * @category checks
 */
export const checkFilename = (filename: unknown): Either.Either<string, InvalidMedia> => {
  const refuse = (reason: string) =>
    Either.left(new InvalidMedia({ rule: "InvalidFilename", field: "filename", reason }, { disableValidation: true }))
  if (typeof filename !== "string") return refuse("filename must be a string")
  if (filename.length === 0) return refuse("filename must not be empty")
  // code points, counted without a copy (a 100 MB name is refused in a scan)
  if (filename.length > 255 && codePointLength(filename) > 255) {
    return refuse("filename must be at most 255 characters")
  }
  if (/[/\\]/.test(filename)) {
    return refuse(`filename must not contain a path separator (got ${JSON.stringify(filename)})`)
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(filename)) return refuse("filename must not contain control characters")
  if (LONE_SURROGATE.test(filename)) return refuse("filename contains an unpaired surrogate (not valid Unicode text)")
  if (filename === "." || filename === "..") return refuse("filename must name a file")
  return Either.right(filename)
}

const sniffedMatches = (sniffed: Sniffed, declared: string): boolean => {
  switch (sniffed._tag) {
    case "Known":
      return sniffed.mimeType === declared
    case "Family":
      return sniffed.mimeTypes.includes(declared)
    case "Text":
      return declared === "text/plain"
    case "Unknown":
      // Nothing recognised: only types without a reliable signature may claim such bytes.
      return declared === "text/plain" || declared === "audio/aac" || declared === "audio/mpeg"
  }
}

const describeSniffed = (sniffed: Sniffed): string =>
  sniffed._tag === "Known"
    ? sniffed.mimeType
    : sniffed._tag === "Family"
    ? `a ${sniffed.family} container`
    : sniffed._tag === "Text"
    ? "text"
    : "an unrecognised format"

/**
 * Infers the MIME type of a file when none is given: from its bytes, else from its extension.
 *
 * @since 0.1.0
 * @category checks
 */
export const inferMimeType = (head: Uint8Array, filename: string): string | undefined => {
  const sniffed = sniff(head)
  const fromExtension = byExtension.get(extensionOf(filename) ?? "")?.mimeType
  if (sniffed._tag === "Known") return sniffed.mimeType
  if (sniffed._tag === "Family") {
    return fromExtension !== undefined && sniffed.mimeTypes.includes(fromExtension)
      ? fromExtension
      : sniffed.mimeTypes[0]
  }
  if (sniffed._tag === "Text") {
    return fromExtension === undefined || fromExtension === "text/plain"
      ? "text/plain"
      : undefined
  }
  return fromExtension
}

/**
 * Checks a file before upload: not empty, a supported MIME type (inferred when not given), bytes that agree with a
 * declared type, a size within that type's limit, a valid file name. `head` is the file's first bytes (64 or more).
 *
 * @since 0.1.0
 * @category checks
 */
export const check = (options: {
  readonly head: Uint8Array
  readonly size: number
  readonly filename: unknown
  readonly mimeType?: unknown
}): Either.Either<CheckedFile, InvalidMedia> =>
  Either.gen(function*() {
    const filename = yield* checkFilename(options.filename)
    const fieldOf: Record<MediaRule, InvalidMedia["field"]> = {
      InvalidInput: "input",
      Empty: "data",
      TooLarge: "data",
      UnsupportedType: "mimeType",
      UnknownType: "mimeType",
      TypeMismatch: "mimeType",
      InvalidFilename: "filename"
    }
    const refuse = (
      rule: MediaRule,
      reason: string,
      extra: { readonly mimeType?: string; readonly limit?: number } = {}
    ) =>
      Either.left(
        new InvalidMedia({ rule, field: fieldOf[rule], reason, filename, size: options.size, ...extra }, {
          disableValidation: true
        })
      )
    if (options.size === 0) return yield* refuse("Empty", "the file is empty")
    if (options.mimeType !== undefined && typeof options.mimeType !== "string") {
      return yield* Either.left(
        new InvalidMedia({ rule: "InvalidInput", field: "mimeType", reason: "mimeType must be a string", filename }, {
          disableValidation: true
        })
      )
    }
    const declared = typeof options.mimeType === "string"
      ? options.mimeType.split(";")[0].trim().toLowerCase().replace(/^image\/jpg$/, "image/jpeg")
      : undefined
    const sniffed = sniff(options.head)
    const mimeType = declared ?? inferMimeType(options.head, filename)
    if (mimeType === undefined) {
      return yield* refuse(
        "UnknownType",
        `cannot tell the type of ${JSON.stringify(filename)} (${describeSniffed(sniffed)}): give mimeType`
      )
    }
    const supported = byMime.get(mimeType)
    if (supported === undefined) {
      // the caller's own text: quoted by an excerpt, so that the error stays small whatever was given
      const given = excerpt(mimeType)
      return yield* refuse(
        "UnsupportedType",
        `${given} is not a type Kaleyra accepts (supported: ${supportedTypes.map((t) => t.mimeType).join(", ")})`,
        { mimeType: given }
      )
    }
    if (!sniffedMatches(sniffed, mimeType)) {
      return yield* refuse(
        "TypeMismatch",
        `the file is declared ${mimeType} but its bytes are ${describeSniffed(sniffed)}`,
        { mimeType }
      )
    }
    const animated = sniffed._tag === "Known" && sniffed.animated === true
    const limit = supported.mediaType === "sticker" && animated ? animatedStickerMaxBytes : supported.maxBytes
    if (options.size > limit) {
      return yield* refuse(
        "TooLarge",
        `${mimeType}${supported.mediaType === "sticker" ? (animated ? " (animated)" : " (static)") : ""} files ` +
          `may be at most ${limit.toLocaleString("en")} bytes (got ${options.size.toLocaleString("en")})`,
        { mimeType, limit }
      )
    }
    return { filename, mimeType, mediaType: supported.mediaType, size: options.size, animated, limit }
  })
