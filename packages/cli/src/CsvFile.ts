/**
 * Campaign files read as a stream, in constant memory whatever their size: the bytes are decoded as UTF-8 a chunk
 * at a time (invalid UTF-8 is refused with the line it is on), parsed by `CsvCampaign.makeParser`, and each data row
 * checked by `CsvCampaign.readRow` (the same rules and messages as `CsvCampaign.read`).
 *
 * A campaign is read twice: {@link scan} checks every row (nothing is stored, nothing is sent) and computes the
 * file's fingerprint; {@link rows} then streams the rows into the ledger.
 *
 * @since 0.2.0
 */
import type { SendMediaInput } from "@effect-kaleyra/core/MediaMessage"
import type * as PlatformError from "@effect/platform/Error"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Chunk from "effect/Chunk"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Stream from "effect/Stream"
import { createHash } from "node:crypto"
import * as CsvCampaign from "./CsvCampaign.js"

/**
 * Why a file cannot be read as a campaign (the message names the line when there is one).
 *
 * @since 0.2.0
 * @category errors
 */
export class CsvFileError extends Data.TaggedError("CsvFileError")<{ readonly message: string }> {}

/**
 * The longest record accepted, in characters. A quote never closed would otherwise hold the rest of the file in
 * memory before it could be reported.
 *
 * @since 0.2.0
 * @category constants
 */
export const maxRecordLength = 1024 * 1024

/**
 * Where the first invalid UTF-8 sequence of `bytes` starts (a sequence cut by the end counts as invalid), or -1.
 * Overlong forms, surrogates and code points above U+10FFFF are invalid, as for a fatal `TextDecoder`.
 *
 * @since 0.2.0
 * @category utils
 */
export const invalidUtf8Offset = (bytes: Uint8Array): number => {
  const n = bytes.length
  let i = 0
  while (i < n) {
    const b = bytes[i]
    if (b < 0x80) {
      i++
      continue
    }
    const need = b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : 0
    if (need === 0 || i + need >= n) return i
    const lo = b === 0xe0 ? 0xa0 : b === 0xf0 ? 0x90 : 0x80
    const hi = b === 0xed ? 0x9f : b === 0xf4 ? 0x8f : 0xbf
    if (bytes[i + 1] < lo || bytes[i + 1] > hi) return i
    for (let k = 2; k <= need; k++) if ((bytes[i + k] & 0xc0) !== 0x80) return i
    i += need + 1
  }
  return -1
}

/** How many bytes at the end of `bytes` start a sequence that the next chunk completes (0 to 3). */
const incompleteTail = (bytes: Uint8Array): number => {
  const n = bytes.length
  for (let k = 1; k <= Math.min(3, n); k++) {
    const b = bytes[n - k]
    if ((b & 0xc0) === 0x80) continue
    const length = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1
    return length > k ? k : 0
  }
  return 0
}

const concat = (a: Uint8Array, b: Uint8Array): Uint8Array => {
  if (a.length === 0) return b
  const out = new Uint8Array(a.length + b.length)
  out.set(a)
  out.set(b, a.length)
  return out
}

const describeReadError = (path: string, error: PlatformError.PlatformError): string => {
  if (error._tag === "SystemError") {
    switch (error.reason) {
      case "NotFound":
        return `cannot read ${path}: no such file or directory`
      case "PermissionDenied":
        return `cannot read ${path}: permission denied`
      default:
        return `cannot read ${path}: ${error.description ?? error.reason}`
    }
  }
  return `cannot read ${path}: ${error.message}`
}

/**
 * The records of a CSV file, in file order, read a chunk at a time; `onBytes` sees every chunk of bytes (to hash
 * them). Fails on a read error, on invalid UTF-8 (naming its line) and on a record over {@link maxRecordLength}.
 *
 * @since 0.2.0
 * @category reading
 */
export const records = (
  path: string,
  onBytes: (bytes: Uint8Array) => void = () => {}
): Stream.Stream<CsvCampaign.CsvRecord | CsvCampaign.CsvProblem, CsvFileError, FileSystem.FileSystem> =>
  Stream.suspend(() => {
    const parser = CsvCampaign.makeParser()
    // ignoreBOM: the decoder must not drop a BOM at the start of every chunk; the parser drops the file's own
    const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true })
    let carry: Uint8Array = new Uint8Array(0)
    const notUtf8 = (valid: Uint8Array): CsvFileError => {
      // the text before the bad byte goes to the parser, which then knows the line the bad byte is on
      parser.push(decoder.decode(valid))
      const line = parser.line() + CsvCampaign.countBreaks(parser.pending())
      return new CsvFileError({
        message: `${path} is not UTF-8 text: line ${line} has a byte sequence that is not UTF-8 ` +
          "(save the file as UTF-8 and run again)"
      })
    }
    const decode = (bytes: Uint8Array): Either.Either<string, CsvFileError> => {
      try {
        return Either.right(decoder.decode(bytes))
      } catch {
        const offset = invalidUtf8Offset(bytes)
        return Either.left(notUtf8(bytes.subarray(0, Math.max(offset, 0))))
      }
    }
    const tooLong = () =>
      new CsvFileError({
        message: `${path}: the record on line ${parser.line()} is longer than ${maxRecordLength} characters ` +
          "(is a quoted field never closed?)"
      })
    const step = (bytes: Uint8Array) => {
      onBytes(bytes)
      const all = concat(carry, bytes)
      const tail = incompleteTail(all)
      carry = all.slice(all.length - tail)
      return Either.flatMap(decode(all.subarray(0, all.length - tail)), (text) => {
        const items = parser.push(text)
        return parser.pending().length > maxRecordLength ? Either.left(tooLong()) : Either.right(items)
      })
    }
    const last = Effect.suspend(() => {
      if (carry.length > 0) return Effect.fail(notUtf8(new Uint8Array(0)))
      return Effect.succeed(parser.end())
    })
    return FileSystem.FileSystem.pipe(
      Effect.map((fs) => fs.stream(path, { chunkSize: 64 * 1024 })),
      Stream.unwrap,
      Stream.mapError((error) => new CsvFileError({ message: describeReadError(path, error) })),
      Stream.mapChunksEffect((chunk) => {
        const out: Array<CsvCampaign.CsvRecord | CsvCampaign.CsvProblem> = []
        for (const bytes of chunk) {
          const items = step(bytes)
          if (Either.isLeft(items)) return Effect.fail(items.left)
          for (const item of items.right) out.push(item)
        }
        return Effect.succeed(Chunk.unsafeFromArray(out))
      }),
      Stream.concat(Stream.flatMap(Stream.fromEffect(last), Stream.fromIterable))
    )
  })

/**
 * What a {@link scan} found: enough for a person to fix the file, in memory that does not grow with it.
 *
 * @since 0.2.0
 * @category models
 */
export interface Scan {
  /** The SHA-256 of the file's bytes, in hex: a ledger refuses a different file for the same campaign. */
  readonly fingerprint: string
  /** The data rows that can be sent. */
  readonly rows: number
  /** How many rows cannot be sent. */
  readonly problemCount: number
  /** The first {@link maxProblemsShown} of them, in file order. */
  readonly problems: ReadonlyArray<CsvCampaign.RowProblem>
  readonly ignoredColumns: ReadonlyArray<string>
  /** The campaign columns the header names (with a template's `body_N` columns). */
  readonly columns: ReadonlyArray<string>
  /** Recipients on more than one row, among the first {@link duplicateWindow} distinct recipients. */
  readonly duplicates: ReadonlyArray<{ readonly to: string; readonly lines: ReadonlyArray<number> }>
  readonly typesSeen: ReadonlySet<string>
}

/**
 * How many row problems a {@link Scan} keeps (the count covers them all).
 *
 * @since 0.2.0
 * @category constants
 */
export const maxProblemsShown = 100

/**
 * How many distinct recipients a {@link Scan} remembers to find duplicates (so that its memory stays bounded).
 *
 * @since 0.2.0
 * @category constants
 */
export const duplicateWindow = 100_000

type Item =
  | { readonly _tag: "Header"; readonly header: CsvCampaign.Header }
  | { readonly _tag: "Row"; readonly row: CsvCampaign.CampaignRow }
  | { readonly _tag: "Problem"; readonly problem: CsvCampaign.RowProblem }

/** The header, then each data record read by `CsvCampaign.readRow`; fails on a file-level problem. */
const itemsOf = (
  path: string,
  defaults: CsvCampaign.Defaults,
  onBytes?: (bytes: Uint8Array) => void
): Stream.Stream<Item, CsvFileError, FileSystem.FileSystem> =>
  Stream.suspend(() => {
    let header: CsvCampaign.Header | undefined
    let data = 0
    const failure = (message: string) => new CsvFileError({ message: `${path}: ${message}` })
    const fail = (message: string) => Effect.fail(failure(message))
    // one synchronous loop per chunk of records: an effect per row would cost more than reading the row
    const itemOf = (item: CsvCampaign.CsvRecord | CsvCampaign.CsvProblem): Either.Either<Item, CsvFileError> => {
      if (header === undefined) {
        if (CsvCampaign.isProblem(item)) {
          return Either.left(failure(`line ${item.line} (the header row): ${item.message}`))
        }
        const read = CsvCampaign.readHeader(item)
        if (Either.isLeft(read)) return Either.left(failure(read.left))
        header = read.right
        return Either.right({ _tag: "Header", header: read.right })
      }
      data++
      if (CsvCampaign.isProblem(item)) {
        return Either.right({ _tag: "Problem", problem: { line: item.line, message: item.message } })
      }
      const row = CsvCampaign.readRow(header, item, defaults)
      return Either.right(Either.isLeft(row) ? { _tag: "Problem", problem: row.left } : { _tag: "Row", row: row.right })
    }
    return records(path, onBytes).pipe(
      Stream.mapChunksEffect((chunk) => {
        const out: Array<Item> = []
        for (const item of chunk) {
          const read = itemOf(item)
          if (Either.isLeft(read)) return Effect.fail(read.left)
          out.push(read.right)
        }
        return Effect.succeed(Chunk.unsafeFromArray(out))
      }),
      Stream.concat(Stream.suspend(() =>
        header === undefined
          ? Stream.fromEffect(
            fail("the file is empty: it needs a header row with a to column, then one row per recipient")
          )
          : data === 0
          ? Stream.fromEffect(fail("the file has a header row but no data rows"))
          : Stream.empty
      ))
    )
  })

/**
 * Reads the whole file once: every row checked, the fingerprint computed. Nothing is kept but counts, the first
 * problems and a bounded set of recipients.
 *
 * @since 0.2.0
 * @category reading
 */
export const scan = (
  path: string,
  defaults: CsvCampaign.Defaults = {}
): Effect.Effect<Scan, CsvFileError, FileSystem.FileSystem> =>
  Effect.suspend(() => {
    const hash = createHash("sha256")
    let rows = 0
    let problemCount = 0
    const problems: Array<CsvCampaign.RowProblem> = []
    let ignoredColumns: ReadonlyArray<string> = []
    let columns: ReadonlyArray<string> = []
    const linesByRecipient = new Map<string, Array<number>>()
    const typesSeen = new Set<string>()
    const scanned = (item: Item) => {
      if (item._tag === "Header") {
        ignoredColumns = item.header.ignoredColumns
        columns = Array.from(item.header.index.keys())
      } else if (item._tag === "Problem") {
        problemCount++
        if (problems.length < maxProblemsShown) problems.push(item.problem)
      } else {
        const row = item.row
        rows++
        typesSeen.add(row.message.type)
        const lines = linesByRecipient.get(row.to)
        if (lines !== undefined) lines.push(row.line)
        else if (linesByRecipient.size < duplicateWindow) linesByRecipient.set(row.to, [row.line])
      }
    }
    return itemsOf(path, defaults, (bytes) => hash.update(bytes)).pipe(
      Stream.runForEachChunk((chunk) =>
        Effect.sync(() => {
          for (const item of chunk) scanned(item)
        })
      ),
      Effect.map(() => ({
        fingerprint: hash.digest("hex"),
        rows,
        problemCount,
        problems,
        ignoredColumns,
        columns,
        duplicates: Array.from(linesByRecipient, ([to, lines]) => ({ to, lines })).filter((d) => d.lines.length > 1),
        typesSeen
      }))
    )
  })

/**
 * The rows of a file that {@link scan} found sendable, as the inputs of `sendMedia` with their lines: what a
 * ledger imports. Fails if a row cannot be sent (the file changed since it was scanned).
 *
 * @since 0.2.0
 * @category reading
 */
export const rows = (
  path: string,
  defaults: CsvCampaign.Defaults = {}
): Stream.Stream<{ readonly line: number; readonly input: SendMediaInput }, CsvFileError, FileSystem.FileSystem> =>
  itemsOf(path, defaults).pipe(
    Stream.mapChunksEffect((chunk) => {
      const out: Array<{ readonly line: number; readonly input: SendMediaInput }> = []
      for (const item of chunk) {
        if (item._tag === "Row") out.push({ line: item.row.line, input: CsvCampaign.toInput(item.row.message) })
        else if (item._tag === "Problem") {
          return Effect.fail(
            new CsvFileError({
              message: `${path}: line ${item.problem.line} changed since the file was checked and cannot be sent`
            })
          )
        }
      }
      return Effect.succeed(Chunk.unsafeFromArray(out))
    })
  )
