/**
 * What a simulator remembers: its options after defaults, the account (balance and daily count), the deterministic
 * message and media ids, the history of requests, accepted messages and uploads, and the counts of `stats`.
 *
 * @internal
 */
import type * as MediaMessage from "@effect-kaleyra/core/MediaMessage"
import * as SendMediaRequest from "@effect-kaleyra/core/SendMediaRequest"
import * as Either from "effect/Either"
import type * as KaleyraSimulator from "../../KaleyraSimulator.js"
import { DEFAULT_FAULT_OPTIONS, resolveFaultOptions } from "./faults.js"
import type { ParsedUpload } from "./oracle.js"
import { validBody } from "./oracle.js"

type RecordedRequest = KaleyraSimulator.RecordedRequest
type ResolvedOptions = KaleyraSimulator.ResolvedOptions
type SentMessage = KaleyraSimulator.SentMessage
type SimRequest = KaleyraSimulator.SimRequest
type UploadedMedia = KaleyraSimulator.UploadedMedia

/** Digits of a sender number (path segment or option), `+` and separators removed. */
export const senderDigits = (input: string): string => input.replace(/[\s.()+-]/g, "")

export const resolveOptions = (options: KaleyraSimulator.SimulatorOptions): ResolvedOptions => ({
  sid: options.sid ?? "HXAP16XXXXXX97IN",
  apiKey: options.apiKey ?? "sim-api-key",
  senderNumbers: (options.senderNumbers ?? ["919999999999"]).map(senderDigits),
  otherVersionNumbers: (options.otherVersionNumbers ?? []).map(senderDigits),
  account: options.account ?? "postpaid",
  balance: options.balance ?? 1_000_000,
  dailyLimit: options.dailyLimit,
  historyLimit: Math.max(0, Math.floor(options.historyLimit ?? 10_000)),
  seed: options.seed ?? 1,
  faults: resolveFaultOptions(options.faults, DEFAULT_FAULT_OPTIONS),
  countRefs: options.countRefs ?? true
})

const ID_DIGITS = 20
const DAY_MILLIS = 86_400_000

export const messageId = (n: number): string => "wamid.SIM" + String(n).padStart(ID_DIGITS, "0")

export const mediaId = (n: number): string => "1" + String(n).padStart(15, "0")

const MEDIA_ID = /^1[0-9]{15}$/

/** The balance and the daily count, one message per recipient (uploads cost nothing). */
export class Account {
  balance: number
  private day = 0
  private sentToday = 0

  constructor(private readonly initialBalance: number, private readonly dailyLimit: number | undefined) {
    this.balance = initialBalance
  }

  /** Spends `count` messages at `now` (the `Clock`'s milliseconds), or names why Kaleyra refuses them. */
  charge(count: number, now: number): "E110" | "WAV2101" | undefined {
    if (this.balance < count) return "E110"
    if (this.dailyLimit !== undefined) {
      const today = Math.floor(now / DAY_MILLIS)
      if (today !== this.day) {
        this.day = today
        this.sentToday = 0
      }
      if (this.sentToday + count > this.dailyLimit) return "WAV2101"
      this.sentToday += count
    }
    this.balance -= count
    return undefined
  }

  reset(): void {
    this.balance = this.initialBalance
    this.day = 0
    this.sentToday = 0
  }
}

/** An append-only log that keeps at most `limit` entries (amortised O(1)). */
class History<A> {
  private items: Array<A> = []
  constructor(private readonly limit: number) {}
  push(item: A): void {
    if (this.limit === 0) return
    this.items.push(item)
    if (this.items.length >= this.limit * 2) this.items = this.items.slice(this.items.length - this.limit)
  }
  all(): ReadonlyArray<A> {
    return this.items.length > this.limit ? this.items.slice(this.items.length - this.limit) : this.items
  }
  clear(): void {
    this.items = []
  }
}

// Records keep as few objects as possible (the body as one string, parsed again when read), so that a long history
// costs the garbage collector little. Their public views are made on first read.

export interface SentRecord {
  readonly messageId: string
  readonly senderNumber: string
  /** The accepted body: validating it again gives the recipients, the type and the stored `extra_info`. */
  readonly text: string
  view: SentMessage | undefined
}

interface RequestRecord {
  readonly method: string
  readonly path: string
  readonly headers: Readonly<Record<string, string>>
  /** The body as text when it was decoded, otherwise the bytes. */
  readonly body: string | Uint8Array
  readonly status: number
  view: RecordedRequest | undefined
}

export const sentView = (record: SentRecord): SentMessage => {
  if (record.view !== undefined) return record.view
  const body: unknown = JSON.parse(record.text)
  // It was accepted, so it is valid.
  const valid = validBody(body)!
  const decoded = SendMediaRequest.fromWireBody(body)
  const view: SentMessage = {
    messageId: record.messageId,
    senderNumber: record.senderNumber,
    recipients: valid.recipients,
    type: valid.type,
    body,
    message: Either.isRight(decoded) ? decoded.right : undefined,
    ...(valid.extraInfo !== undefined ? { extraInfo: valid.extraInfo } : {})
  }
  record.view = view
  return view
}

const lenientDecoder = new TextDecoder("utf-8")

const redactHeaders = (headers: Readonly<Record<string, string>>): Readonly<Record<string, string>> => {
  const out: Record<string, string> = {}
  for (const name in headers) {
    out[name] = name.toLowerCase() === "api-key" ? "<redacted>" : headers[name]
  }
  return out
}

const requestView = (record: RequestRecord): RecordedRequest => {
  if (record.view !== undefined) return record.view
  const view: RecordedRequest = {
    method: record.method,
    path: record.path,
    headers: redactHeaders(record.headers),
    body: typeof record.body === "string" ? record.body : lenientDecoder.decode(record.body),
    status: record.status
  }
  record.view = view
  return view
}

/** The ids issued, the history kept for `sent`, `uploads` and `requests`, and the counts of `stats`. */
export class Ledger {
  requests = 0
  accepted = 0
  /** Messages accepted since the last reset: the number of the last message id. */
  private messages = 0
  /** Uploads accepted since the last reset: the number of the last media id. */
  uploads = 0
  duplicateRefs = 0
  readonly refCounts = new Map<string, number>()
  private readonly sentLog: History<SentRecord>
  private readonly uploadLog: History<UploadedMedia>
  private readonly requestLog: History<RequestRecord>

  constructor(historyLimit: number, private readonly countRefs: boolean) {
    this.sentLog = new History(historyLimit)
    this.uploadLog = new History(historyLimit)
    this.requestLog = new History(historyLimit)
  }

  /** Records an accepted message (its body as received), with a new id. */
  accept(senderNumber: string, text: string, extraInfo: MediaMessage.ExtraInfo | undefined): SentRecord {
    this.accepted++
    const ref = extraInfo?.ref
    if (ref !== undefined && this.countRefs) {
      const seen = this.refCounts.get(ref)
      if (seen === undefined) {
        this.refCounts.set(ref, 1)
      } else {
        if (seen === 1) this.duplicateRefs++
        this.refCounts.set(ref, seen + 1)
      }
    }
    const record: SentRecord = { messageId: messageId(++this.messages), senderNumber, text, view: undefined }
    this.sentLog.push(record)
    return record
  }

  /** Records an accepted upload, with a new media id. */
  upload(senderNumber: string, file: ParsedUpload): string {
    const id = mediaId(++this.uploads)
    this.uploadLog.push({ id, senderNumber, ...file })
    return id
  }

  /** A media id this simulator issued (since the last `reset`): exactly `mediaId(n)` for 1 <= n <= uploads. */
  readonly isIssuedMediaId = (id: string): boolean => {
    if (!MEDIA_ID.test(id)) return false
    const n = Number(id.slice(1))
    return n >= 1 && n <= this.uploads
  }

  /** Records a request and its answer's status; `text` is its body when it was decoded. */
  record(request: SimRequest, text: string | undefined, status: number): void {
    this.requestLog.push({
      method: request.method,
      path: request.path,
      headers: request.headers,
      body: text ?? request.body,
      status,
      view: undefined
    })
  }

  sent(): ReadonlyArray<SentMessage> {
    return this.sentLog.all().map(sentView)
  }

  uploaded(): ReadonlyArray<UploadedMedia> {
    return this.uploadLog.all().slice()
  }

  received(): ReadonlyArray<RecordedRequest> {
    return this.requestLog.all().map(requestView)
  }

  reset(): void {
    this.requests = 0
    this.accepted = 0
    this.messages = 0
    this.uploads = 0
    this.duplicateRefs = 0
    this.refCounts.clear()
    this.sentLog.clear()
    this.uploadLog.clear()
    this.requestLog.clear()
  }
}
