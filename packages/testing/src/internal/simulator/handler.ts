/**
 * How the simulator decides: one request through Kaleyra's checks, in Kaleyra's order. A fault is drawn first (it
 * happens in front of Kaleyra), then the route (404), the method (405), the credentials (`RBC001`), the account and
 * the sender number (`WA-401`, `WA401`), the scripted failures, the payload (`WA400`, by the oracle), the balance
 * (`E110`) and the daily limit (`WAV2101`); an accepted message is recorded and its status callbacks scheduled.
 *
 * Sends are answered synchronously (no fiber, no promise): this is the hot path of every in-memory test and
 * benchmark. Uploads parse their multipart body asynchronously.
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import type * as KaleyraSimulator from "../../KaleyraSimulator.js"
import { mediaFailure } from "./callbacks.js"
import type { ConversationState } from "./conversations.js"
import { answerOf, applyFault, type FaultInjector } from "./faults.js"
import { isJsonContentType, isMultipart, parseUpload, validBody } from "./oracle.js"
import {
  accepted,
  type Garble,
  isGarble,
  METHOD_NOT_ALLOWED,
  NOT_FOUND,
  responseOf,
  RESPONSES,
  uploaded
} from "./responses.js"
import type { CallbackScheduler, FailureOf } from "./scheduler.js"
import type { Scripts } from "./scripts.js"
import { type Account, type Ledger, senderDigits, type SentRecord, sentView } from "./state.js"

type SimRequest = KaleyraSimulator.SimRequest
type SimResponse = KaleyraSimulator.SimResponse
type MediaFailure = KaleyraSimulator.MediaFailure

/** The parts of one simulator that a request reads and changes. */
export interface Parts {
  readonly options: KaleyraSimulator.ResolvedOptions
  readonly account: Account
  readonly ledger: Ledger
  readonly scripts: Scripts
  readonly faults: FaultInjector
  readonly conversations: ConversationState
  readonly callbacks: CallbackScheduler | undefined
}

/** An accepted message whose status callbacks are due once its request is answered. */
interface Pending {
  readonly record: SentRecord
  readonly failure: MediaFailure | undefined
  readonly failureOf: FailureOf
}

class UploadRoute {
  constructor(readonly sender: string) {}
}

const textDecoder = new TextDecoder("utf-8", { fatal: true })

const decodeSegment = (segment: string): string | undefined => {
  if (!segment.includes("%")) return segment
  try {
    return decodeURIComponent(segment)
  } catch {
    return undefined
  }
}

/** The garbled answer of an accepted request (`invalid-json`, `empty-body`), or its ordinary one. */
const answer = (garble: Garble | undefined, ordinary: SimResponse): SimResponse =>
  garble === undefined ? ordinary : RESPONSES[garble]

export class RequestHandler {
  private readonly senders: Set<string>
  private readonly otherVersion: Set<string>
  // Per request, set while it is handled: its body's text (kept for `requests` when decoded), and the message it
  // got accepted. Fields rather than a result object, so that the synchronous path allocates nothing more.
  private text: string | undefined = undefined
  private pending: Pending | undefined = undefined

  /** Answers one request; reads the `Clock` only when the daily limit or the 24-hour window needs the time. */
  readonly handle: (request: SimRequest) => Effect.Effect<SimResponse>

  constructor(private readonly parts: Parts) {
    this.senders = new Set(parts.options.senderNumbers)
    this.otherVersion = new Set(parts.options.otherVersionNumbers)
    this.handle = parts.options.dailyLimit === undefined && !parts.conversations.window
      ? (request) => Effect.suspend(() => this.run(request, 0))
      : (request) => Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.suspend(() => this.run(request, now)))
  }

  private run(request: SimRequest, now: number): Effect.Effect<SimResponse> {
    this.parts.ledger.requests++
    this.text = undefined
    const drawn = request.fault === undefined ? this.parts.faults.draw() : request.fault ?? undefined
    if (drawn !== undefined) {
      this.parts.faults.counts[drawn.fault]++
      const early = answerOf(drawn)
      // Answered in front of Kaleyra: nothing is processed.
      if (early !== undefined) return Effect.succeed(this.record(request, undefined, early))
    }
    const routed = this.route(request, now)
    if (routed instanceof UploadRoute) {
      return Effect.map(
        this.upload(request, routed.sender),
        (response) => this.record(request, undefined, drawn === undefined ? response : applyFault(drawn, response))
      )
    }
    const response = this.record(request, this.text, drawn === undefined ? routed : applyFault(drawn, routed))
    return this.pending === undefined ? Effect.succeed(response) : Effect.as(this.scheduleCallbacks(), response)
  }

  /**
   * The route, the method, the credentials, the account and the sender number, in Kaleyra's order; then a send is
   * answered at once, and an upload is handed back for `upload` (it reads its body asynchronously).
   */
  private route(request: SimRequest, now: number): SimResponse | UploadRoute {
    const options = this.parts.options
    const query = request.path.indexOf("?")
    const path = query === -1 ? request.path : request.path.slice(0, query)
    const parts = path.split("/")
    if (
      parts.length !== 6 || parts[0] !== "" || parts[1] !== "v2" || parts[3] !== "whatsapp" ||
      (parts[5] !== "messages" && parts[5] !== "media") || parts[2] === "" || parts[4] === ""
    ) {
      return NOT_FOUND
    }
    if (request.method !== "POST") return METHOD_NOT_ALLOWED
    if (request.headers["api-key"] !== options.apiKey || decodeSegment(parts[2]) !== options.sid) {
      return RESPONSES.RBC001
    }
    if (options.account === "unavailable") return RESPONSES["WA-401-account"]
    const segment = decodeSegment(parts[4])
    const sender = segment === undefined
      ? ""
      : this.senders.has(segment) || this.otherVersion.has(segment)
      ? segment
      : senderDigits(segment)
    if (this.otherVersion.has(sender)) return RESPONSES["WA-401-phone_number"]
    if (!this.senders.has(sender)) return RESPONSES.WA401
    if (parts[5] === "messages") return this.send(request, sender, now)
    // Uploads are for postpaid accounts only.
    if (options.account === "prepaid") return RESPONSES["WA-401-account"]
    return new UploadRoute(sender)
  }

  /** A send: the scripts, then the payload, the balance and the daily limit; an accepted message is recorded. */
  private send(request: SimRequest, sender: string, now: number): SimResponse {
    let body: unknown
    let text = ""
    let parsed = false
    try {
      text = this.text = textDecoder.decode(request.body)
      body = JSON.parse(text)
      parsed = true
    } catch {
      // Not UTF-8 or not JSON: a WA400 below, unless a script answers first.
    }

    let garble: Garble | undefined
    const scripted = this.parts.scripts.next()
    if (scripted !== undefined) {
      if (!isGarble(scripted.code)) return responseOf(scripted.code, scripted.retryAfter)
      garble = scripted.code
    } else if (parsed) {
      const code = this.parts.scripts.scenarioOf(body)
      if (code !== undefined) {
        if (!isGarble(code)) return responseOf(code, undefined)
        garble = code
      }
    }

    if (!parsed || !isJsonContentType(request.headers["content-type"])) return RESPONSES.WA400
    const valid = validBody(body)
    if (valid === undefined) return RESPONSES.WA400

    const refused = this.parts.account.charge(valid.recipients.length, now)
    if (refused !== undefined) return RESPONSES[refused]
    const record = this.parts.ledger.accept(sender, text, valid.extraInfo)
    if (this.parts.callbacks !== undefined) {
      // Kaleyra accepted it (even when the answer is garbled): its status callbacks follow, see `run`.
      const messagingObject = (body as { readonly messaging_object: Record<string, unknown> }).messaging_object
      const conversations = this.parts.conversations
      this.pending = {
        record,
        failure: valid.type === "template"
          ? undefined
          : mediaFailure(body, valid.type, this.parts.ledger.isIssuedMediaId),
        failureOf: (recipient) => conversations.failureFor(messagingObject, recipient, now)
      }
    }
    return answer(garble, accepted(record.messageId))
  }

  /** An upload: the scripts, then the multipart form (read asynchronously) and its type and size. */
  private upload(request: SimRequest, sender: string): Effect.Effect<SimResponse> {
    let garble: Garble | undefined
    const scripted = this.parts.scripts.next()
    if (scripted !== undefined) {
      if (!isGarble(scripted.code)) return Effect.succeed(responseOf(scripted.code, scripted.retryAfter))
      garble = scripted.code
    }
    const contentType = request.headers["content-type"]
    if (!isMultipart(contentType)) return Effect.succeed(RESPONSES.WA400)
    return Effect.map(
      Effect.promise(() => parseUpload(request.body, contentType)),
      (file) => file === undefined ? RESPONSES.WA400 : answer(garble, uploaded(this.parts.ledger.upload(sender, file)))
    )
  }

  private record(request: SimRequest, text: string | undefined, response: SimResponse): SimResponse {
    this.parts.ledger.record(request, text, response.status)
    return response
  }

  private scheduleCallbacks(): Effect.Effect<void> {
    const pending = this.pending!
    this.pending = undefined
    return this.parts.callbacks!.schedule(() => sentView(pending.record), pending.failure, pending.failureOf)
  }
}
