/**
 * What Kaleyra posts back: the callback payloads (Meta's webhook envelope and Kaleyra's flat form) as schemas, the
 * events they decode to (`MessageStatusUpdated`, `IncomingMessage`), and the decoder (`decodeCallback`).
 *
 * @since 0.2.0
 */
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as FailureReason from "./FailureReason.js"
import { normalizePhoneNumber } from "./MediaMessage.js"

/**
 * The `ref`s of a message, to correlate it with your own records.
 *
 * @since 0.1.0
 * @category models
 */
export interface Refs {
  readonly ref?: string
  readonly ref1?: string
  readonly ref2?: string
}

/**
 * A message status, in Meta's order: `sent` < `delivered` < `read`; `failed` is final.
 *
 * @since 0.1.0
 * @category models
 */
export const MessageStatus = Schema.Literal("sent", "delivered", "read", "failed")

/**
 * A message status: `sent`, `delivered`, `read` or `failed`.
 *
 * @since 0.1.0
 * @category models
 */
export type MessageStatus = typeof MessageStatus.Type

/**
 * An error Meta or Kaleyra reported for a message (`statuses[].errors[]`, or a flat callback's `error_code`).
 *
 * @since 0.1.0
 * @category models
 */
export interface CallbackError {
  readonly code: number | string
  readonly title?: string
  readonly message?: string
  readonly details?: string
}

/**
 * Kaleyra reported a message's status (a status callback).
 *
 * @since 0.1.0
 * @category events
 */
export class MessageStatusUpdated extends Data.TaggedClass("MessageStatusUpdated")<{
  readonly messageId: string
  readonly status: MessageStatus
  /**
   * In E.164 with `+` (`+919876543210`), as in `SendMediaResult.recipients`, when it is a phone number; otherwise as
   * it came.
   */
  readonly recipient: string | undefined
  /** The recipient as Kaleyra sent it (Meta writes `919876543210`, without `+`). */
  readonly rawRecipient?: string
  /** Seconds since the epoch, as Meta sends it. */
  readonly timestamp: number | undefined
  readonly refs: Refs
  readonly errors: ReadonlyArray<CallbackError>
  /**
   * `true` when `KaleyraEvents` could not check this status against the message's earlier ones: it no longer
   * remembers the message, and the status may be older than one it forgot (see `KaleyraEvents.Service.ingest`). Such
   * an event can be a step backwards or a repeat: ignore it if that matters. Absent otherwise.
   */
  readonly orderUnchecked?: true
}> {
  /**
   * Why it failed, typed from Meta's code (e.g. `OutsideWindow` for 131047: send a template), when one of its errors
   * has a known code.
   *
   * @since 0.2.0
   */
  get failureReason(): FailureReason.FailureReason | undefined {
    return FailureReason.fromCallbackErrors(this.errors)
  }
}

/**
 * A user sent a message to the business number (an incoming callback).
 *
 * @since 0.1.0
 * @category events
 */
export class IncomingMessage extends Data.TaggedClass("IncomingMessage")<{
  readonly messageId: string | undefined
  /** In E.164 with `+` (`+919876543210`) when it is a phone number; otherwise as it came. */
  readonly from: string
  /** The sender as Kaleyra sent it (Meta writes `919876543210`, without `+`). */
  readonly rawFrom?: string
  readonly name: string | undefined
  readonly type: string
  readonly timestamp: number | undefined
  readonly text: string | undefined
  readonly media:
    | {
      readonly id: string | undefined
      readonly mimeType: string | undefined
      readonly sha256: string | undefined
      readonly caption: string | undefined
      readonly filename: string | undefined
      /** Kaleyra's hosted copy (`extra_info.media_url`). */
      readonly url: string | undefined
    }
    | undefined
  /** The message this one replies to. */
  readonly replyTo: string | undefined
  /** The refs of the outbound message this one replies to. */
  readonly refs: Refs
}> {}

/**
 * What Kaleyra reports through callbacks.
 *
 * @since 0.1.0
 * @category events
 */
export type CallbackEvent = MessageStatusUpdated | IncomingMessage

/**
 * A payload that is not a Kaleyra callback.
 *
 * @since 0.1.0
 * @category errors
 */
export class CallbackDecodeError extends Schema.TaggedError<CallbackDecodeError>(
  "@effect-kaleyra/core/CallbackDecodeError"
)("CallbackDecodeError", { reason: Schema.String }) {
  /**
   * @since 0.1.0
   */
  override get message(): string {
    return `Not a Kaleyra callback: ${this.reason}`
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Callback schemas (unknown extra fields are tolerated)
// ---------------------------------------------------------------------------------------------------------------

const Text = Schema.String
const Numberish = Schema.Union(Schema.Number, Schema.String)
const optionalText = Schema.optional(Schema.NullOr(Text))

const RefsFields = { ref: optionalText, ref1: optionalText, ref2: optionalText }

const MetaError = Schema.Struct({
  code: Numberish,
  title: optionalText,
  message: optionalText,
  error_data: Schema.optional(Schema.NullOr(Schema.Struct({ details: optionalText })))
})

const MetaStatus = Schema.Struct({
  id: Text,
  status: Text,
  timestamp: Schema.optional(Numberish),
  recipient_id: optionalText,
  errors: Schema.optional(Schema.Array(MetaError))
})

const MetaMedia = Schema.Struct({
  id: optionalText,
  mime_type: optionalText,
  sha256: optionalText,
  caption: optionalText,
  filename: optionalText
})

const MetaMessage = Schema.Struct({
  id: optionalText,
  from: Text,
  timestamp: Schema.optional(Numberish),
  type: Text,
  text: Schema.optional(Schema.Struct({ body: Text })),
  context: Schema.optional(Schema.Struct({ id: optionalText, from: optionalText })),
  image: Schema.optional(MetaMedia),
  video: Schema.optional(MetaMedia),
  audio: Schema.optional(MetaMedia),
  document: Schema.optional(MetaMedia),
  sticker: Schema.optional(MetaMedia)
})

// Statuses and messages are decoded entry by entry (see `fromEnvelope`): one bad entry must not drop its siblings.
const Envelope = Schema.Struct({
  meta_object: Schema.Struct({
    field: optionalText,
    value: Schema.Struct({
      statuses: Schema.optional(Schema.Array(Schema.Unknown)),
      messages: Schema.optional(Schema.Array(Schema.Unknown)),
      contacts: Schema.optional(Schema.Array(Schema.Struct({
        wa_id: optionalText,
        profile: Schema.optional(Schema.Struct({ name: optionalText }))
      })))
    })
  }),
  extra_info: Schema.optional(Schema.Struct({
    ...RefsFields,
    message_id: optionalText,
    media_url: optionalText,
    reply_to: optionalText
  })),
  status: optionalText,
  message_id: optionalText
})

const Flat = Schema.Struct({
  id: optionalText,
  status: optionalText,
  mobile: optionalText,
  timestamp: Schema.optional(Numberish),
  error: optionalText,
  error_code: Schema.optional(Schema.NullOr(Numberish)),
  message: optionalText,
  from: optionalText,
  name: optionalText,
  type: optionalText,
  body: optionalText,
  mime_type: optionalText,
  media_url: optionalText,
  created_at: Schema.optional(Numberish),
  reply_to: optionalText,
  ...RefsFields
})

const decodeEnvelope = Schema.decodeUnknownEither(Envelope)
const decodeFlat = Schema.decodeUnknownEither(Flat)
const decodeMetaStatus = Schema.decodeUnknownEither(MetaStatus)
const decodeMetaMessage = Schema.decodeUnknownEither(MetaMessage)

const parseReason = (error: ParseResult.ParseError, max: number): string =>
  ParseResult.TreeFormatter.formatErrorSync(error).slice(0, max)

const orUndefined = (s: string | null | undefined): string | undefined =>
  s === null || s === undefined || s === "" ? undefined : s

/**
 * A number as Meta writes it (`919876543210`) in the format of the send results (`+919876543210`), so that events and
 * results join without a conversion; anything that is not a phone number is kept as it came.
 */
const e164 = (raw: string): string => {
  const normalised = normalizePhoneNumber(raw.startsWith("+") ? raw : `+${raw}`)
  return Either.isRight(normalised) ? normalised.right : raw
}

const recipientFields = (raw: string | undefined) =>
  raw === undefined ? { recipient: undefined } : { recipient: e164(raw), rawRecipient: raw }

const senderFields = (raw: string) => ({ from: e164(raw), rawFrom: raw })

const refsOf = (
  o: {
    readonly ref?: string | null | undefined
    readonly ref1?: string | null | undefined
    readonly ref2?: string | null | undefined
  }
) => {
  const refs: { ref?: string; ref1?: string; ref2?: string } = {}
  const ref = orUndefined(o.ref)
  const ref1 = orUndefined(o.ref1)
  const ref2 = orUndefined(o.ref2)
  if (ref !== undefined) refs.ref = ref
  if (ref1 !== undefined) refs.ref1 = ref1
  if (ref2 !== undefined) refs.ref2 = ref2
  return refs as Refs
}

const toSeconds = (u: number | string | undefined): number | undefined => {
  if (u === undefined) return undefined
  const n = typeof u === "number" ? u : Number(u)
  if (Number.isFinite(n)) return n
  const date = typeof u === "string" ? Date.parse(u) : Number.NaN
  return Number.isNaN(date) ? undefined : Math.floor(date / 1000)
}

/**
 * Normalises a status word: Meta's lowercase words and Kaleyra's `SENT`, `DELIVERED`, `READ`, `FAILED`, and
 * `NOT-SENT` (Kaleyra never passed the message to Meta, reported as `failed`).
 */
const normaliseStatus = (raw: string): MessageStatus | "not-sent" | undefined => {
  const s = raw.trim().toLowerCase().replace(/_/g, "-")
  if (s === "sent" || s === "delivered" || s === "read" || s === "failed") return s
  if (s === "not-sent" || s === "notsent") return "not-sent"
  return undefined
}

const statusEvent = (
  messageId: string,
  rawStatus: string,
  fields: {
    readonly recipient: string | undefined
    readonly rawRecipient?: string
    readonly timestamp: number | undefined
    readonly refs: Refs
    readonly errors: ReadonlyArray<CallbackError>
  }
): Either.Either<MessageStatusUpdated, CallbackDecodeError> => {
  const status = normaliseStatus(rawStatus)
  if (status === undefined) {
    return Either.left(new CallbackDecodeError({ reason: `unknown status ${JSON.stringify(rawStatus.slice(0, 40))}` }))
  }
  const errors = status === "not-sent" && fields.errors.length === 0
    ? [{ code: "NOT-SENT", title: "Kaleyra did not pass the message to WhatsApp" }]
    : fields.errors
  return Either.right(
    new MessageStatusUpdated({ messageId, status: status === "not-sent" ? "failed" : status, ...fields, errors })
  )
}

const metaErrors = (errors: ReadonlyArray<typeof MetaError.Type> | undefined): ReadonlyArray<CallbackError> =>
  (errors ?? []).map((e) => {
    const out: { code: number | string; title?: string; message?: string; details?: string } = { code: e.code }
    const title = orUndefined(e.title)
    const message = orUndefined(e.message)
    const details = orUndefined(e.error_data?.details)
    if (title !== undefined) out.title = title
    if (message !== undefined) out.message = message
    if (details !== undefined) out.details = details
    return out
  })

const fromEnvelope = (e: typeof Envelope.Type): Either.Either<DecodedCallback, CallbackDecodeError> => {
  const extra = e.extra_info
  const refs = refsOf(extra ?? {})
  const value = e.meta_object.value
  const events: Array<CallbackEvent> = []
  const rejected: Array<CallbackDecodeError> = []
  /** Decodes each entry of a list on its own: one that cannot be decoded is left out, with why. */
  const eachEntry = <A>(
    list: "statuses" | "messages",
    entries: ReadonlyArray<unknown>,
    decode: (entry: unknown) => Either.Either<A, ParseResult.ParseError>,
    toEvent: (entry: A) => Either.Either<CallbackEvent, CallbackDecodeError>
  ): void => {
    for (let i = 0; i < entries.length; i++) {
      const decoded = decode(entries[i])
      const event = Either.isLeft(decoded)
        ? Either.left(new CallbackDecodeError({ reason: parseReason(decoded.left, 300) }))
        : toEvent(decoded.right)
      if (Either.isRight(event)) events.push(event.right)
      else rejected.push(new CallbackDecodeError({ reason: `meta_object.value.${list}[${i}]: ${event.left.reason}` }))
    }
  }
  const statuses = value.statuses ?? []
  eachEntry("statuses", statuses, decodeMetaStatus, (s) =>
    statusEvent(
      // Kaleyra's top-level message_id names the message of a single-status callback; Meta's id is the fallback.
      (statuses.length === 1 ? orUndefined(e.message_id) ?? orUndefined(extra?.message_id) : undefined) ?? s.id,
      s.status,
      {
        ...recipientFields(orUndefined(s.recipient_id)),
        timestamp: toSeconds(s.timestamp),
        refs,
        errors: metaErrors(s.errors)
      }
    ))
  const messages = value.messages ?? []
  eachEntry("messages", messages, decodeMetaMessage, (m) => {
    const media = m.image ?? m.video ?? m.audio ?? m.document ?? m.sticker
    const contact = (value.contacts ?? []).find((c) => c.wa_id === m.from) ?? value.contacts?.[0]
    return Either.right(
      new IncomingMessage({
        messageId: orUndefined(m.id),
        ...senderFields(m.from),
        name: orUndefined(contact?.profile?.name),
        type: m.type,
        timestamp: toSeconds(m.timestamp),
        text: m.text?.body,
        media: media === undefined ? undefined : {
          id: orUndefined(media.id),
          mimeType: orUndefined(media.mime_type),
          sha256: orUndefined(media.sha256),
          caption: orUndefined(media.caption),
          filename: orUndefined(media.filename),
          url: orUndefined(extra?.media_url)
        },
        replyTo: orUndefined(m.context?.id) ?? orUndefined(extra?.reply_to),
        refs
      })
    )
  })
  if (statuses.length === 0 && messages.length === 0 && e.status != null && (e.message_id ?? extra?.message_id)) {
    // An envelope whose status sits only at the top level.
    return Either.map(
      statusEvent((e.message_id ?? extra?.message_id)!, e.status, {
        recipient: undefined,
        timestamp: undefined,
        refs,
        errors: []
      }),
      (event) => ({ events: [event], rejected: [] })
    )
  }
  if (events.length > 0) return Either.right({ events, rejected })
  return Either.left(
    rejected.length === 0
      ? new CallbackDecodeError({ reason: "meta_object.value holds neither statuses nor messages" })
      : new CallbackDecodeError({ reason: rejected.map((r) => r.reason).join("; ").slice(0, 1000) })
  )
}

const fromFlat = (f: typeof Flat.Type): Either.Either<DecodedCallback, CallbackDecodeError> => {
  const refs = refsOf(f)
  const id = orUndefined(f.id)
  const status = orUndefined(f.status)
  if (id !== undefined && status !== undefined) {
    const code = f.error_code ?? undefined
    const errorText = orUndefined(f.error)
    const errors: ReadonlyArray<CallbackError> = code !== undefined && code !== "" && code !== "0"
      ? [{ code, ...(errorText !== undefined ? { message: errorText } : {}) }]
      : errorText !== undefined
      ? [{ code: "UNKNOWN", message: errorText }]
      : []
    return Either.map(
      statusEvent(id, status, {
        ...recipientFields(orUndefined(f.mobile)),
        timestamp: toSeconds(f.timestamp),
        refs,
        errors
      }),
      (event) => ({ events: [event], rejected: [] })
    )
  }
  const from = orUndefined(f.from) ?? (orUndefined(f.type) !== undefined ? orUndefined(f.mobile) : undefined)
  if (from !== undefined) {
    const mediaUrl = orUndefined(f.media_url)
    const mimeType = orUndefined(f.mime_type)
    const event = new IncomingMessage({
      messageId: id,
      ...senderFields(from),
      name: orUndefined(f.name),
      type: orUndefined(f.type) ?? (mediaUrl !== undefined ? "media" : "text"),
      timestamp: toSeconds(f.created_at ?? f.timestamp),
      text: orUndefined(f.body) ?? orUndefined(f.message),
      media: mediaUrl === undefined && mimeType === undefined ? undefined : {
        id: undefined,
        mimeType,
        sha256: undefined,
        caption: undefined,
        filename: undefined,
        url: mediaUrl
      },
      replyTo: orUndefined(f.reply_to),
      refs
    })
    return Either.right({ events: [event], rejected: [] })
  }
  return Either.left(
    new CallbackDecodeError({ reason: "a flat callback needs id and status (status) or from (incoming message)" })
  )
}

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/**
 * A decoded callback: the events of the entries that could be decoded, and why each other entry could not (an
 * unknown status word, a malformed entry), in the payload's order. One bad entry never drops its siblings.
 *
 * @since 0.1.0
 * @category models
 */
export interface DecodedCallback {
  readonly events: ReadonlyArray<CallbackEvent>
  /** One error per entry that was not decoded; its `reason` names the entry, e.g. `meta_object.value.statuses[1]`. */
  readonly rejected: ReadonlyArray<CallbackDecodeError>
}

/**
 * Decodes a callback payload entry by entry (a parsed JSON body, or a GET query as a record): the v2 `meta_object`
 * envelope first, then the flat "dynamic variables" style. Fails only when the payload is not a callback or none of
 * its entries could be decoded. Never throws.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeCallbackEntries = (body: unknown): Either.Either<DecodedCallback, CallbackDecodeError> => {
  try {
    if (!isRecord(body)) return Either.left(new CallbackDecodeError({ reason: "the payload is not a JSON object" }))
    if ("meta_object" in body) {
      const envelope = decodeEnvelope(body)
      return Either.isLeft(envelope)
        ? Either.left(new CallbackDecodeError({ reason: parseReason(envelope.left, 1000) }))
        : fromEnvelope(envelope.right)
    }
    const flat = decodeFlat(body)
    return Either.isLeft(flat)
      ? Either.left(new CallbackDecodeError({ reason: parseReason(flat.left, 1000) }))
      : fromFlat(flat.right)
  } catch (cause) {
    return Either.left(
      new CallbackDecodeError({
        reason: `the payload could not be read: ${cause instanceof Error ? cause.message : ""}`
      })
    )
  }
}

/**
 * Decodes every event of a callback payload (see {@link decodeCallbackEntries}, which also says which entries were
 * left out and why). Never throws.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeCallbacks = (body: unknown): Either.Either<ReadonlyArray<CallbackEvent>, CallbackDecodeError> =>
  Either.map(decodeCallbackEntries(body), (decoded) => decoded.events)

/**
 * Decodes a callback payload into its event (the first, when a payload carries several: use `decodeCallbacks` to
 * get them all), or fails with a `CallbackDecodeError`.
 *
 * @example
 * ```ts
 * import { decodeCallback } from "@effect-kaleyra/core"
 * import { Effect } from "effect"
 *
 * const program = decodeCallback({ id: "m-1", status: "DELIVERED", mobile: "919876543210", ref: "order-7" }).pipe(
 *   // MessageStatusUpdated { messageId: "m-1", status: "delivered", refs: { ref: "order-7" }, ... }
 *   Effect.map((event) => event._tag === "MessageStatusUpdated" ? event.status : "incoming")
 * )
 * ```
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeCallback = (body: unknown): Effect.Effect<CallbackEvent, CallbackDecodeError> =>
  Effect.suspend(() => Either.map(decodeCallbacks(body), (events) => events[0]))
