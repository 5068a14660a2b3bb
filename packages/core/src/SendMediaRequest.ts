/**
 * What goes on the wire when a message is sent: Kaleyra's request body (`{ messaging_object, extra_info }`) as a
 * schema of `MediaMessage.MediaMessage`, and the direct encoders the client uses (`toWire`, `toWireJson`), which
 * property tests hold equal to the schema.
 *
 * @since 0.2.0
 */
import type * as Either from "effect/Either"
import type * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import type * as AST from "effect/SchemaAST"
import { mediaKeys } from "./internal/fields.js"
import * as TemplateInternal from "./internal/template.js"
import {
  AudioMessage,
  DocumentMessage,
  type ExtraInfo,
  ImageMessage,
  type MediaMessage,
  type MediaType,
  type MessageType,
  StickerMessage,
  TemplateMessage,
  VideoMessage
} from "./MediaMessage.js"

// The wire side is structural (plain strings): every rule lives once, on the message side, so that encoding a
// message checks it once and decoding a wire body checks what it decodes to.
const optionalString = Schema.optional(Schema.String)

const WireExtraInfo = Schema.Struct({
  ref: optionalString,
  ref1: optionalString,
  ref2: optionalString,
  waSource: optionalString.pipe(Schema.fromKey("wa_source"))
})

const WireContext = Schema.Struct({ message_id: Schema.String })

const wireMedia = {
  audio: Schema.Struct({ id: optionalString, link: optionalString }),
  sticker: Schema.Struct({ id: optionalString, link: optionalString }),
  image: Schema.Struct({ id: optionalString, link: optionalString, caption: optionalString }),
  video: Schema.Struct({ id: optionalString, link: optionalString, caption: optionalString }),
  document: Schema.Struct({
    id: optionalString,
    link: optionalString,
    caption: optionalString,
    filename: optionalString
  }),
  template: TemplateInternal.WireTemplate
} as const

const wireMessage = <T extends MessageType>(type: T) =>
  Schema.Struct({
    messaging_object: Schema.Struct(
      {
        messaging_product: Schema.Literal("whatsapp"),
        recipient_type: Schema.optionalWith(Schema.Literal("individual"), { default: () => "individual" as const }),
        to: Schema.String,
        type: Schema.Literal(type),
        [type]: wireMedia[type],
        context: Schema.optional(WireContext)
      } as {
        messaging_product: Schema.Literal<["whatsapp"]>
        recipient_type: Schema.optionalWith<Schema.Literal<["individual"]>, { default: () => "individual" }>
        to: typeof Schema.String
        type: Schema.Literal<[T]>
        context: Schema.optional<typeof WireContext>
      } & { [K in T]: (typeof wireMedia)[T] }
    ),
    extra_info: Schema.optional(WireExtraInfo)
  })

type WireOf<T extends MessageType> = ReturnType<typeof wireMessage<T>>

/** The one reshaping between a message and the wire structure (before the wire schema renames keys). */
const reshape = (type: MessageType) => ({
  decode: (wire: unknown): unknown => {
    const w = wire as { readonly messaging_object: Record<string, unknown>; readonly extra_info?: ExtraInfo }
    const mo = w.messaging_object
    const context = mo.context as { readonly message_id: string } | undefined
    return {
      type,
      to: (mo.to as string).split(","),
      [type]: mo[type],
      ...(context !== undefined ? { replyTo: context.message_id } : {}),
      ...(w.extra_info !== undefined ? { extraInfo: w.extra_info } : {})
    }
  },
  encode: (m: unknown): unknown => {
    const msg = m as MediaMessage & Record<string, unknown>
    return {
      messaging_object: {
        messaging_product: "whatsapp",
        recipient_type: "individual",
        to: msg.to.join(","),
        type,
        [type]: msg[type],
        ...(msg.replyTo !== undefined ? { context: { message_id: msg.replyTo } } : {})
      },
      ...(msg.extraInfo !== undefined ? { extra_info: msg.extraInfo } : {})
    }
  }
})

const fromWire = <T extends MessageType, S extends Schema.Schema.AnyNoContext>(
  type: T,
  message: S
): Schema.transform<WireOf<T>, S> => Schema.transform(wireMessage(type), message, { strict: false, ...reshape(type) })

/**
 * Kaleyra's send body (`{ messaging_object, extra_info }`) as a schema of `MediaMessage`: encoding a message
 * gives the exact wire object; decoding a wire object gives the message back (and checks every rule).
 *
 * @since 0.1.0
 * @category schemas
 */
export const SendMediaRequest = Schema.Union(
  fromWire("audio", AudioMessage),
  fromWire("document", DocumentMessage),
  fromWire("image", ImageMessage),
  fromWire("sticker", StickerMessage),
  fromWire("video", VideoMessage),
  fromWire("template", TemplateMessage)
)

/**
 * The wire body as JSON-ready data.
 *
 * @since 0.1.0
 * @category models
 */
export type SendMediaRequest = typeof SendMediaRequest.Encoded

/**
 * Encodes a message that `MediaMessage.validate` returned into Kaleyra's wire body: exactly what
 * `Schema.encodeSync(SendMediaRequest)` gives, key order included (a property test holds them equal), without
 * checking the message's rules again (they were checked when it was validated; use `Schema.encode(SendMediaRequest)`
 * for a message of unknown origin). Only the known fields are copied.
 *
 * @since 0.1.0
 * @category encoding
 */
export const toWire = (message: MediaMessage): SendMediaRequest => {
  const type = message.type
  const media: Record<string, unknown> = type === "template"
    ? TemplateInternal.templateToWire(message.template)
    : mediaOf(type, (message as unknown as Record<string, Record<string, unknown>>)[type])
  const messagingObject: Record<string, unknown> = {
    messaging_product: "whatsapp",
    recipient_type: "individual",
    to: message.to.join(","),
    type,
    [type]: media
  }
  if (message.replyTo !== undefined) messagingObject.context = { message_id: message.replyTo }
  const wire: Record<string, unknown> = { messaging_object: messagingObject }
  const extra = message.extraInfo
  if (extra !== undefined) {
    const extraInfo: Record<string, string> = {}
    if (extra.ref !== undefined) extraInfo.ref = extra.ref
    if (extra.ref1 !== undefined) extraInfo.ref1 = extra.ref1
    if (extra.ref2 !== undefined) extraInfo.ref2 = extra.ref2
    if (extra.waSource !== undefined) extraInfo.wa_source = extra.waSource
    wire.extra_info = extraInfo
  }
  return wire as unknown as SendMediaRequest
}

/** The known fields of a media object, in the order of its schema. */
const mediaOf = (type: MediaType, source: Record<string, unknown>): Record<string, unknown> => {
  const keys = mediaKeys[type]
  const media: Record<string, unknown> = {}
  for (let i = 0; i < keys.length; i++) {
    const value = source[keys[i]]
    if (value !== undefined) media[keys[i]] = value
  }
  return media
}

// A string JSON.stringify writes as it is, between quotes: no quote, backslash, control character or surrogate
// (a well-formed JSON.stringify escapes an unpaired one).
// eslint-disable-next-line no-control-regex
const JSON_ESCAPED = /["\\\u0000-\u001f\ud800-\udfff]/
/** Thrown by `jsonChars` for a value that is not a string: `toWireJson` then leaves it to `JSON.stringify`. */
const NOT_A_STRING = Symbol("NOT_A_STRING")
/** A string as JSON.stringify writes it, without the quotes around it (the caller writes them). */
const jsonChars = (value: unknown): string => {
  if (typeof value !== "string") throw NOT_A_STRING
  return JSON_ESCAPED.test(value) ? JSON.stringify(value).slice(1, -1) : value
}

/** A field of the wire body: where its value is in the message, and its JSON key followed by `":"`. */
type WireField = readonly [field: string, keyAndColon: string]

/** `extra_info`'s fields, in the order `toWire` writes them. */
const EXTRA_INFO_WIRE_FIELDS: ReadonlyArray<WireField> = [
  ["ref", "ref\":\""],
  ["ref1", "ref1\":\""],
  ["ref2", "ref2\":\""],
  ["waSource", "wa_source\":\""]
]
/** Each media type's fields (their wire keys are their names). */
const MEDIA_WIRE_FIELDS = Object.fromEntries(
  Object.entries(mediaKeys).map(([type, keys]) => [type, keys.map((key): WireField => [key, `${key}":"`])])
) as unknown as Record<MediaType, ReadonlyArray<WireField>>

/**
 * The defined string fields of `source`, as JSON members without the braces. Each value is appended between quote
 * characters that are part of the literal around it: wrapping each value in its own quotes first would make two more
 * strings per value (and a longer rope to flatten when the body is written).
 */
const jsonMembers = (source: object, fields: ReadonlyArray<WireField>): string => {
  let members = ""
  for (let i = 0; i < fields.length; i++) {
    // indexed, not destructured (which allocates an iterator)
    const field = fields[i]
    const value = (source as Record<string, unknown>)[field[0]]
    if (value !== undefined) members += (members === "" ? "\"" : ",\"") + field[1] + jsonChars(value) + "\""
  }
  return members
}

const writeWireJson = (message: MediaMessage): string => {
  // A template's nested components are left to JSON.stringify: the direct writer knows the flat media objects.
  if (message.type === "template") return JSON.stringify(toWire(message))
  const type = message.type
  const typeChars = jsonChars(type)
  let json = "{\"messaging_object\":{\"messaging_product\":\"whatsapp\",\"recipient_type\":\"individual\",\"to\":\"" +
    jsonChars(message.to.join(",")) + "\",\"type\":\"" + typeChars + "\",\"" + typeChars + "\":{" +
    jsonMembers((message as unknown as Record<string, object>)[type], MEDIA_WIRE_FIELDS[type]) + "}"
  if (message.replyTo !== undefined) json += ",\"context\":{\"message_id\":\"" + jsonChars(message.replyTo) + "\"}"
  json += "}"
  if (message.extraInfo !== undefined) {
    json += ",\"extra_info\":{" + jsonMembers(message.extraInfo, EXTRA_INFO_WIRE_FIELDS) + "}"
  }
  return json + "}"
}

/**
 * The wire body of a message, as the JSON text Kaleyra receives: `JSON.stringify(toWire(message))`, character for
 * character (a property test holds them equal). The wire's shape is fixed, so a message that `MediaMessage.validate`
 * returned, whose fields are all strings, is written directly, faster than `JSON.stringify(toWire(message))` (it is
 * on every send; see the benchmark's README). A field that is not a string (in a message not made by `validate`) is
 * left to `JSON.stringify(toWire(message))`.
 *
 * @since 0.1.0
 * @category encoding
 */
export const toWireJson = (message: MediaMessage): string => {
  try {
    return writeWireJson(message)
  } catch (error) {
    if (error === NOT_A_STRING) return JSON.stringify(toWire(message))
    throw error
  }
}

/**
 * Decodes a wire body (as Kaleyra receives it) back into a message.
 *
 * @since 0.1.0
 * @category decoding
 */
export const fromWireBody: (
  body: unknown,
  options?: AST.ParseOptions
) => Either.Either<MediaMessage, ParseResult.ParseError> = Schema.decodeUnknownEither(SendMediaRequest)
