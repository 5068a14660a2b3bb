/**
 * The CSV side of the `kaleyra-wa campaign` command: reading a campaign file (RFC 4180 CSV: quoted fields, doubled
 * quotes, line breaks inside quotes, CRLF or LF, a UTF-8 byte order mark), turning each data row into a validated
 * media message, and writing the results file.
 *
 * A campaign file has a header row with a `to` column (one recipient per row); the optional columns `type`, `link`,
 * `id`, `caption`, `filename`, `ref`, `ref1`, `ref2`, `reply_to` and `wa_source` override, for their row, what the
 * command's flags give. A row of type `template` is a template message: `template` and `language` name it, `header`
 * (image, video or document) says what its `link` or `id` (and a document's `filename`) is, and `body_1`, `body_2`,
 * ... are its body's parameters in order. Every row is checked with `MediaMessage.validate` before anything is sent, and each problem
 * is reported with the line number of its row in the file (the header is line 1).
 *
 * @since 0.1.0
 */
import type { NotAttemptedReason } from "@effect-kaleyra/core/Batch"
import type { SendMediaResult } from "@effect-kaleyra/core/KaleyraClient"
import type { SendMediaError } from "@effect-kaleyra/core/KaleyraError"
import * as MediaMessage from "@effect-kaleyra/core/MediaMessage"
import * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import * as CsvTemplate from "./internal/csvTemplate.js"

// ---------------------------------------------------------------------------------------------------------------
// CSV
// ---------------------------------------------------------------------------------------------------------------

/**
 * One record of a CSV file, with the line of the file it starts on (from 1).
 *
 * @since 0.1.0
 * @category models
 */
export interface CsvRecord {
  readonly line: number
  readonly fields: ReadonlyArray<string>
}

/**
 * A record that could not be read (a stray quote, a quoted field never closed).
 *
 * @since 0.1.0
 * @category models
 */
export interface CsvProblem {
  readonly line: number
  readonly message: string
}

/**
 * A campaign CSV as read: its records, and those that could not be read.
 *
 * @since 0.1.0
 * @category models
 */
export interface ParsedCsv {
  /** The records, in file order; blank lines (and records whose fields are all blank) are left out. */
  readonly records: ReadonlyArray<CsvRecord>
  /** The records that could not be read, in file order. */
  readonly problems: ReadonlyArray<CsvProblem>
}

const isBreak = (c: number): boolean => c === 10 || c === 13

/**
 * The line breaks in `text`: CRLF, LF and a lone CR each count once.
 *
 * @since 0.2.0
 * @category utils
 */
export const countBreaks = (text: string): number => {
  let n = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 10) n++
    else if (c === 13) {
      n++
      if (text.charCodeAt(i + 1) === 10) i++
    }
  }
  return n
}

const isBlank = (fields: ReadonlyArray<string>): boolean => fields.every((field) => field.trim() === "")

/**
 * A CSV parser fed text a piece at a time, so that a file of any size is read in constant memory: `push` gives it
 * the next piece (a record may be split anywhere between pieces) and returns the records and problems complete so
 * far, in file order; `end` returns the last ones. Same rules as {@link parse}.
 *
 * @since 0.2.0
 * @category models
 */
export interface Parser {
  readonly push: (text: string) => ReadonlyArray<CsvRecord | CsvProblem>
  readonly end: () => ReadonlyArray<CsvRecord | CsvProblem>
  /** The text held back: the start of a record not complete yet. */
  readonly pending: () => string
  /** The line the text held back starts on. */
  readonly line: () => number
}

/**
 * Whether an item a {@link Parser} returns is a problem rather than a record.
 *
 * @since 0.2.0
 * @category guards
 */
export const isProblem = (item: CsvRecord | CsvProblem): item is CsvProblem => "message" in item

/**
 * A {@link Parser}. A leading byte order mark is dropped.
 *
 * @since 0.2.0
 * @category parsing
 */
export const makeParser = (): Parser => {
  let buffer = ""
  let line = 1
  let first = true
  const run = (final: boolean): Array<CsvRecord | CsvProblem> => {
    const text = buffer
    const n = text.length
    const out: Array<CsvRecord | CsvProblem> = []
    let i = 0
    while (i < n) {
      const recordStart = i
      const start = line
      let at = line
      const fields: Array<string> = []
      let problem: string | undefined
      let complete = true
      for (;;) {
        let field = ""
        if (text.charCodeAt(i) === 34) {
          // a quoted field
          const opened = at
          let closed = false
          i++
          while (i < n) {
            const quote = text.indexOf("\"", i)
            if (quote === -1) break
            // a quote that ends the text may be the first of a doubled quote: wait for what follows
            if (quote === n - 1 && !final) break
            const chunk = text.slice(i, quote)
            at += countBreaks(chunk)
            field += chunk
            if (text.charCodeAt(quote + 1) === 34) {
              field += "\""
              i = quote + 2
            } else {
              i = quote + 1
              closed = true
              break
            }
          }
          if (!closed) {
            if (!final) {
              complete = false
              break
            }
            at += countBreaks(text.slice(i))
            i = n
            problem ??= `the quoted field opened on line ${opened} is never closed`
          } else if (i < n && text.charCodeAt(i) !== 44 && !isBreak(text.charCodeAt(i))) {
            problem ??= "text after a closing quote (a quote inside a quoted field must be doubled: \"\")"
            while (i < n && text.charCodeAt(i) !== 44 && !isBreak(text.charCodeAt(i))) i++
          }
        } else {
          const from = i
          while (i < n && text.charCodeAt(i) !== 44 && !isBreak(text.charCodeAt(i))) i++
          field = text.slice(from, i)
          if (field.includes("\"")) {
            problem ??= "a quote inside an unquoted field (quote the whole field and double the quote: \"\")"
          }
        }
        fields.push(field)
        if (i < n && text.charCodeAt(i) === 44) {
          i++
          continue
        }
        break
      }
      // A record is complete once its line break is read (a CR only with the character after it: CRLF counts once).
      if (complete && !final && (i >= n || (text.charCodeAt(i) === 13 && i + 1 >= n))) complete = false
      if (!complete) {
        i = recordStart
        break
      }
      if (i < n) {
        // the record's line break
        i += text.charCodeAt(i) === 13 && text.charCodeAt(i + 1) === 10 ? 2 : 1
        at++
      }
      line = at
      if (problem !== undefined) out.push({ line: start, message: problem })
      else if (!isBlank(fields)) out.push({ line: start, fields })
    }
    buffer = i >= n ? "" : text.slice(i)
    return out
  }
  return {
    push: (text) => {
      if (first && text.length > 0) {
        first = false
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(1)
      }
      buffer = buffer === "" ? text : buffer + text
      return run(false)
    },
    end: () => run(true),
    pending: () => buffer,
    line: () => line
  }
}

/**
 * Parses CSV text (RFC 4180): fields separated by commas, records by CRLF, LF or CR; a field in double quotes may
 * hold commas, line breaks and doubled quotes (`""`). A leading byte order mark is dropped. A quote inside an
 * unquoted field, text after a closing quote, or a quote never closed makes its record a problem (the parser goes
 * on with the next record). Never throws.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parse = (input: string): ParsedCsv => {
  const parser = makeParser()
  const records: Array<CsvRecord> = []
  const problems: Array<CsvProblem> = []
  for (const item of [...parser.push(input), ...parser.end()]) {
    if (isProblem(item)) problems.push(item)
    else records.push(item)
  }
  return { records, problems }
}

const NEEDS_QUOTES = /[",\r\n]|^\s|\s$/

/**
 * One CSV field: quoted (with its quotes doubled) when it holds a comma, a quote, a line break, or leading or
 * trailing white space.
 *
 * @since 0.1.0
 * @category formatting
 */
export const formatField = (field: string): string =>
  NEEDS_QUOTES.test(field) ? `"${field.replace(/"/g, "\"\"")}"` : field

/**
 * One CSV record, with its line break (`\n`).
 *
 * @since 0.1.0
 * @category formatting
 */
export const formatRecord = (fields: ReadonlyArray<string>): string => fields.map(formatField).join(",") + "\n"

// ---------------------------------------------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------------------------------------------

interface AnyMedia {
  readonly link?: string | undefined
  readonly id?: string | undefined
  readonly caption?: string | undefined
  readonly filename?: string | undefined
}

const mediaOf = (message: Exclude<MediaMessage.MediaMessage, { readonly type: "template" }>): AnyMedia => {
  switch (message.type) {
    case "audio":
      return message.audio
    case "document":
      return message.document
    case "image":
      return message.image
    case "sticker":
      return message.sticker
    case "video":
      return message.video
  }
}

/**
 * A validated message as the typed input of `sendMedia` / `sendMediaBatch` (through the `MediaMessage` builders).
 *
 * @since 0.1.0
 * @category constructors
 */
export const toInput = (message: MediaMessage.MediaMessage): MediaMessage.SendMediaInput => {
  // A validated template message is already an input: it has no media object to rebuild.
  if (message.type === "template") return message
  const media = mediaOf(message)
  const fields: {
    to: MediaMessage.RecipientsInput
    replyTo?: string
    extraInfo?: MediaMessage.ExtraInfo
    caption?: string
    filename?: string
  } = { to: message.to }
  if (message.replyTo !== undefined) fields.replyTo = message.replyTo
  if (message.extraInfo !== undefined) fields.extraInfo = message.extraInfo
  if (media.caption !== undefined) fields.caption = media.caption
  if (media.filename !== undefined) fields.filename = media.filename
  // a validated message has exactly one of link and id
  const source: MediaMessage.MediaSource = media.link !== undefined ? { link: media.link } : { id: media.id ?? "" }
  switch (message.type) {
    case "audio":
      return MediaMessage.audio({ ...fields, ...source })
    case "document":
      return MediaMessage.document({ ...fields, ...source })
    case "image":
      return MediaMessage.image({ ...fields, ...source })
    case "sticker":
      return MediaMessage.sticker({ ...fields, ...source })
    case "video":
      return MediaMessage.video({ ...fields, ...source })
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Campaign files
// ---------------------------------------------------------------------------------------------------------------

/**
 * The columns a campaign file may have (`to` is required), beside `body_1` to `body_99` (a template's body
 * parameters). Header names are matched without regard to case,
 * surrounding spaces, and `-` or a space in place of `_`.
 *
 * @since 0.1.0
 * @category constants
 */
export const columns = [
  "to",
  "type",
  "link",
  "id",
  "caption",
  "filename",
  "ref",
  "ref1",
  "ref2",
  "reply_to",
  "wa_source",
  "template",
  "language",
  "header"
] as const

/**
 * A column a campaign CSV may have.
 *
 * @since 0.1.0
 * @category models
 */
export type Column = typeof columns[number]

/**
 * What the command's flags give every row (a row's own non-empty cell wins). `caption` applies only to the rows
 * whose type takes a caption (image, video, document), `filename` only to documents; `link` and `id` only to the
 * rows that give neither.
 *
 * @since 0.1.0
 * @category models
 */
export interface Defaults {
  readonly type?: MediaMessage.MediaType | undefined
  readonly link?: string | undefined
  readonly id?: string | undefined
  readonly caption?: string | undefined
  readonly filename?: string | undefined
  readonly ref?: string | undefined
  readonly ref1?: string | undefined
  readonly ref2?: string | undefined
  readonly waSource?: string | undefined
}

/**
 * A data row, validated: the message to send and its recipient (in E.164).
 *
 * @since 0.1.0
 * @category models
 */
export interface CampaignRow {
  /** The line of the file the row starts on (the header is line 1). */
  readonly line: number
  readonly to: string
  readonly message: MediaMessage.MediaMessage
}

/**
 * A data row that cannot be sent, and why.
 *
 * @since 0.1.0
 * @category models
 */
export interface RowProblem {
  readonly line: number
  readonly message: string
}

/**
 * A campaign file read and checked. It can be sent only when `problems` is empty.
 *
 * @since 0.1.0
 * @category models
 */
export interface Campaign {
  readonly rows: ReadonlyArray<CampaignRow>
  /** Every row that cannot be sent, in file order. */
  readonly problems: ReadonlyArray<RowProblem>
  /** Header names that are not campaign columns (their cells are not used). */
  readonly ignoredColumns: ReadonlyArray<string>
  /** Recipients that appear on more than one row (each row is a message of its own), with their lines. */
  readonly duplicates: ReadonlyArray<{ readonly to: string; readonly lines: ReadonlyArray<number> }>
}

const normalizeHeader = (name: string): string => name.trim().toLowerCase().replace(/[\s-]+/g, "_")

const isColumn = (name: string): name is Column => (columns as ReadonlyArray<string>).includes(name)

const takesCaption = (type: string): boolean => type === "image" || type === "video" || type === "document"

const quoteValue = (value: string): string => JSON.stringify(value.length > 60 ? value.slice(0, 60) + "…" : value)

/** The column a message field comes from (`image.link` is the `link` column, `extraInfo.ref` is `ref`, ...). */
const columnOf = (type: string, field: string, bodyColumns: ReadonlyArray<string>): string => {
  const templateColumn = type === "template" ? CsvTemplate.templateColumnOf(field, bodyColumns) : undefined
  if (templateColumn !== undefined) return templateColumn
  if (field === "to" || field.startsWith("to[")) return "to"
  if (field === "replyTo") return "reply_to"
  if (field === "extraInfo.waSource") return "wa_source"
  if (field.startsWith("extraInfo.")) return field.slice("extraInfo.".length)
  if (field === type) return "link/id"
  if (field.startsWith(`${type}.`)) return field.slice(type.length + 1)
  return field === "" ? "row" : field
}

const describeProblem = (
  type: string,
  error: { readonly issues: ReadonlyArray<{ readonly field: string; readonly reason: string }> },
  cellOf: (column: string) => string | undefined,
  bodyColumns: ReadonlyArray<string>
): string =>
  // one reason per field (the first: the most specific)
  error.issues.filter((issue, i) => error.issues.findIndex((other) => other.field === issue.field) === i).map(
    (issue) => {
      const column = columnOf(type, issue.field, bodyColumns)
      const value = cellOf(column)
      const shown = value !== undefined && !issue.reason.includes("(got ") ? ` (got ${quoteValue(value)})` : ""
      return `${column}: ${issue.reason}${shown}`
    }
  ).join("; ")

/**
 * A campaign file's header row, read: where each campaign column (and each `body_N` column of a template) is.
 *
 * @since 0.2.0
 * @category models
 */
export interface Header {
  readonly line: number
  readonly width: number
  readonly index: ReadonlyMap<string, number>
  /** A template's body parameter columns (`body_1`, `body_2`, ...), by their number. */
  readonly bodyColumns: ReadonlyArray<string>
  /** Header names that are not campaign columns (their cells are not used). */
  readonly ignoredColumns: ReadonlyArray<string>
}

/**
 * Reads a header row: fails (with a message for a person) when it has no `to` column or a column twice.
 *
 * @since 0.2.0
 * @category parsing
 */
export const readHeader = (head: CsvRecord): Either.Either<Header, string> => {
  const names = head.fields.map(normalizeHeader)
  const index = new Map<string, number>()
  const ignored: Array<string> = []
  for (let i = 0; i < names.length; i++) {
    const name = names[i]
    if (!isColumn(name) && !CsvTemplate.BODY_COLUMN.test(name)) {
      if (name !== "") ignored.push(head.fields[i].trim())
      continue
    }
    if (index.has(name)) return Either.left(`line ${head.line} (the header row): the column ${name} appears twice`)
    index.set(name, i)
  }
  if (!index.has("to")) {
    return Either.left(
      `line ${head.line} (the header row) has no to column (found: ${
        head.fields.map((f) => f.trim()).join(", ")
      }); the header must name a to column, e.g. to,caption`
    )
  }
  const bodyColumns = Array.from(index.keys()).filter((name) => CsvTemplate.BODY_COLUMN.test(name)).sort((a, b) =>
    Number(a.slice(5)) - Number(b.slice(5))
  )
  return Either.right({ line: head.line, width: head.fields.length, index, bodyColumns, ignoredColumns: ignored })
}

/**
 * Turns one data record into a validated message (with `MediaMessage.validate`), or says why it cannot be sent.
 *
 * @since 0.2.0
 * @category parsing
 */
export const readRow = (
  header: Header,
  record: CsvRecord,
  defaults: Defaults = {}
): Either.Either<CampaignRow, RowProblem> => {
  const { bodyColumns, index, width } = header
  const fail = (message: string) => Either.left({ line: record.line, message })
  if (record.fields.length !== width) {
    return fail(
      `has ${record.fields.length} field${record.fields.length === 1 ? "" : "s"}, the header has ${width}`
    )
  }
  const raw = (column: string): string | undefined => {
    const i = index.get(column)
    return i === undefined ? undefined : record.fields[i]
  }
  const cell = (column: string, trim: boolean): string | undefined => {
    const value = raw(column)
    if (value === undefined) return undefined
    const v = trim ? value.trim() : value
    return v === "" ? undefined : v
  }
  const to = cell("to", true)
  if (to === undefined) return fail("to: is empty (every row needs a recipient)")
  if (/[,;]/.test(to)) return fail(`to: one recipient per row (got ${quoteValue(to)})`)
  const rowType = cell("type", true)?.toLowerCase()
  const type = rowType ?? defaults.type
  if (type === undefined) return fail("type: is empty and no --type was given")
  const rowLink = cell("link", true)
  const rowId = cell("id", true)
  const media: Record<string, string> = {}
  if (rowLink !== undefined || rowId !== undefined) {
    if (rowLink !== undefined) media.link = rowLink
    if (rowId !== undefined) media.id = rowId
  } else {
    if (defaults.link !== undefined) media.link = defaults.link
    if (defaults.id !== undefined) media.id = defaults.id
  }
  const caption = cell("caption", false) ?? (takesCaption(type) ? defaults.caption : undefined)
  if (caption !== undefined) media.caption = caption
  const filename = cell("filename", false) ?? (type === "document" ? defaults.filename : undefined)
  if (filename !== undefined) media.filename = filename
  const extraInfo: Record<string, string> = {}
  const ref = cell("ref", false) ?? defaults.ref
  const ref1 = cell("ref1", false) ?? defaults.ref1
  const ref2 = cell("ref2", false) ?? defaults.ref2
  const waSource = cell("wa_source", true) ?? defaults.waSource
  if (ref !== undefined) extraInfo.ref = ref
  if (ref1 !== undefined) extraInfo.ref1 = ref1
  if (ref2 !== undefined) extraInfo.ref2 = ref2
  if (waSource !== undefined) extraInfo.waSource = waSource
  const replyTo = cell("reply_to", true)
  let input: Record<string, unknown> = { to, type, [type]: media }
  if (replyTo !== undefined) input.replyTo = replyTo
  if (Object.keys(extraInfo).length > 0) input.extraInfo = extraInfo
  if (type === "template") {
    const template = CsvTemplate.templateInput(cell, bodyColumns, defaults, {
      to,
      ...(replyTo !== undefined ? { replyTo } : {}),
      ...(Object.keys(extraInfo).length > 0 ? { extraInfo: extraInfo as MediaMessage.ExtraInfo } : {})
    })
    if (typeof template === "string") return fail(template)
    input = template
  }

  const validated = MediaMessage.validate(input)
  if (Either.isLeft(validated)) {
    const cellOf = (column: string) => index.has(column) ? cell(column, false) : undefined
    return fail(describeProblem(type, validated.left, cellOf, bodyColumns))
  }
  return Either.right({ line: record.line, to: validated.right.to[0], message: validated.right })
}

/**
 * Reads a campaign file: the header, then every data row turned into a message and validated with
 * `MediaMessage.validate`. Fails (with a message for a person) when the file has no header, no `to` column, a
 * column twice, or no data row; otherwise lists every row that cannot be sent in `problems`.
 *
 * @since 0.1.0
 * @category parsing
 */
export const read = (text: string, defaults: Defaults = {}): Either.Either<Campaign, string> => {
  const csv = parse(text)
  const firstProblem = csv.problems[0]
  const head = csv.records[0]
  if (head === undefined && firstProblem === undefined) {
    return Either.left("the file is empty: it needs a header row with a to column, then one row per recipient")
  }
  if (firstProblem !== undefined && (head === undefined || firstProblem.line < head.line)) {
    return Either.left(`line ${firstProblem.line} (the header row): ${firstProblem.message}`)
  }
  const header = readHeader(head)
  if (Either.isLeft(header)) return Either.left(header.left)
  const dataRecords = csv.records.slice(1)
  if (dataRecords.length === 0 && csv.problems.length === 0) {
    return Either.left("the file has a header row but no data rows")
  }

  const problems: Array<RowProblem> = csv.problems.map(({ line, message }) => ({ line, message }))
  const rows: Array<CampaignRow> = []
  for (const record of dataRecords) {
    const row = readRow(header.right, record, defaults)
    if (Either.isLeft(row)) problems.push(row.left)
    else rows.push(row.right)
  }
  problems.sort((a, b) => a.line - b.line)

  const linesByRecipient = new Map<string, Array<number>>()
  for (const row of rows) {
    const lines = linesByRecipient.get(row.to)
    if (lines === undefined) linesByRecipient.set(row.to, [row.line])
    else lines.push(row.line)
  }
  const duplicates = Array.from(linesByRecipient, ([to, lines]) => ({ to, lines })).filter((d) => d.lines.length > 1)
  return Either.right({ rows, problems, ignoredColumns: header.right.ignoredColumns, duplicates })
}

// ---------------------------------------------------------------------------------------------------------------
// Results files
// ---------------------------------------------------------------------------------------------------------------

/**
 * The columns of a results file.
 *
 * @since 0.1.0
 * @category constants
 */
export const resultColumns = ["line", "to", "status", "message_id", "error_tag", "error_message"] as const

/**
 * The outcome of one row, as `sendMediaBatch` reports it.
 *
 * @since 0.1.0
 * @category models
 */
export type RowOutcome =
  | { readonly _tag: "Sent"; readonly result: SendMediaResult }
  | { readonly _tag: "Failed"; readonly error: SendMediaError }
  | { readonly _tag: "NotAttempted"; readonly reason?: NotAttemptedReason | undefined }

/**
 * Why a row was not sent, in words (the `error_message` of a `NotAttempted` row; its `error_tag` is the reason's tag).
 *
 * @since 0.1.0
 * @category formatting
 */
export const describeNotAttempted = (reason: NotAttemptedReason): string => {
  switch (reason._tag) {
    case "Stopped":
      return "not sent: the campaign was stopped; safe to send again"
    case "RateLimited":
      return `not sent: Kaleyra answered 429 asking to wait ${
        reason.error.retryAfter === undefined ? "" : `${Duration.format(reason.error.retryAfter)} `
      }(Retry-After), longer than maxRetryAfter, so the campaign stopped; safe to send again later`
    case "SendDied":
      return "not sent: the campaign stopped on an internal error; safe to send again"
  }
}

/**
 * One line of a results file: `line,to,status,message_id,error_tag,error_message`.
 *
 * @since 0.1.0
 * @category formatting
 */
export const formatResult = (row: CampaignRow, outcome: RowOutcome): string => {
  switch (outcome._tag) {
    case "Sent":
      return formatRecord([String(row.line), row.to, "Sent", outcome.result.messageId, "", ""])
    case "Failed":
      return formatRecord([String(row.line), row.to, "Failed", "", outcome.error._tag, outcome.error.message])
    case "NotAttempted":
      return outcome.reason === undefined
        ? formatRecord([String(row.line), row.to, "NotAttempted", "", "", ""])
        : formatRecord([
          String(row.line),
          row.to,
          "NotAttempted",
          "",
          outcome.reason._tag,
          describeNotAttempted(outcome.reason)
        ])
  }
}

/**
 * The header line of a results file.
 *
 * @since 0.1.0
 * @category formatting
 */
export const resultsHeader: string = formatRecord(resultColumns)

/**
 * The default results file of a campaign file: `contacts.csv` gives `contacts.results.csv`, `contacts` gives
 * `contacts.results.csv`.
 *
 * @since 0.1.0
 * @category utils
 */
export const defaultResultsPath = (input: string): string => input.replace(/\.csv$/i, "") + ".results.csv"
