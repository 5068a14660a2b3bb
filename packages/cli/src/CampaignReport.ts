/**
 * The files and text a campaign's commands write from what the ledger holds, much of it server-controlled (message
 * ids, error messages, statuses from callbacks):
 *
 * - the report CSV, one row per campaign row in order: every cell that is not a number or a phone number is
 *   guarded against formulas (a cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading
 *   `'`, as OWASP recommends), so that opening it in a spreadsheet runs nothing;
 * - text for a terminal: escape sequences and control characters removed ({@link terminalSafe});
 * - writing a file safely: to a temporary file in the same folder, then renamed over the target, never over a file
 *   that is the input or the ledger by any path (same real path, or same device and inode: symbolic and hard links),
 *   and never over an existing file that is not a report.
 *
 * @since 0.2.0
 */
import type { ReportRow } from "@effect-kaleyra/campaign/Campaign"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { randomBytes } from "node:crypto"
import { constants } from "node:fs"
import * as fs from "node:fs/promises"
import * as nodePath from "node:path"
import { formatRecord } from "./CsvCampaign.js"

// ---------------------------------------------------------------------------------------------------------------
// Cells and lines
// ---------------------------------------------------------------------------------------------------------------

const PHONE = /^\+[1-9][0-9]{6,14}$/
const FORMULA_START = /^[=+\-@\t\r]/

/**
 * A cell that a spreadsheet will not take for a formula: text starting with `=`, `+`, `-`, `@`, a tab or a carriage
 * return gets a leading `'`, unless it is a number or a phone number (`+919876543210` stays as it is).
 *
 * @since 0.2.0
 * @category formatting
 */
export const guardCell = (cell: string): string => FORMULA_START.test(cell) && !PHONE.test(cell) ? `'${cell}` : cell

const ESCAPES =
  // eslint-disable-next-line no-control-regex
  /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|\u001b[P^_X][^\u001b]*(?:\u001b\\)?|\u009b[0-?]*[ -/]*[@-~]|\u001b.?/g
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g

/**
 * Text from the server (or from the ledger, which holds the server's text) made safe for a terminal: ANSI/VT escape
 * sequences (CSI, OSC, DCS...) removed, other control characters (line breaks included, so that one value cannot
 * forge a line of output) and bidirectional overrides replaced by a space.
 *
 * @since 0.2.0
 * @category formatting
 */
export const terminalSafe = (text: string): string => text.replace(ESCAPES, "").replace(CONTROLS, " ")

/**
 * The columns of a report.
 *
 * @since 0.2.0
 * @category constants
 */
export const reportColumns = [
  "line",
  "to",
  "state",
  "message_id",
  "ref",
  "error_tag",
  "error_message",
  "may_have_reached",
  "delivery_status",
  "delivery_time",
  "delivery_error",
  "attempts"
] as const

/**
 * The header line of a report.
 *
 * @since 0.2.0
 * @category formatting
 */
export const reportHeader: string = formatRecord(reportColumns)

/**
 * One line of a report. Times are ISO 8601 in UTC; every text cell is guarded ({@link guardCell}).
 *
 * @since 0.2.0
 * @category formatting
 */
export const formatReportRow = (row: ReportRow): string =>
  formatRecord([
    String(row.line),
    guardCell(row.to),
    row.state,
    guardCell(row.messageId ?? ""),
    guardCell(row.ref),
    guardCell(row.errorTag ?? ""),
    guardCell(row.errorMessage ?? ""),
    row.mayHaveReached ? "yes" : "no",
    guardCell(row.delivery ?? ""),
    row.deliveryAt === undefined ? "" : new Date(row.deliveryAt).toISOString(),
    guardCell(row.deliveryError ?? ""),
    String(row.attempts)
  ])

// ---------------------------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------------------------

/**
 * Why a report cannot be written where asked.
 *
 * @since 0.2.0
 * @category errors
 */
export class OutputRefused extends Data.TaggedError("OutputRefused")<{ readonly message: string }> {}

/**
 * Writing the report failed (the target is left as it was).
 *
 * @since 0.2.0
 * @category errors
 */
export class OutputFailed extends Data.TaggedError("OutputFailed")<{ readonly message: string }> {}

const describe = (cause: unknown): string => {
  const code = (cause as { readonly code?: unknown } | undefined)?.code
  switch (code) {
    case "ENOENT":
      return "no such file or directory"
    case "EACCES":
    case "EPERM":
      return "permission denied"
    case "ENOSPC":
      return "no space left on the device"
    case "EISDIR":
      return "is a directory"
    default:
      return cause instanceof Error ? cause.message : String(cause)
  }
}

const statOrUndefined = (path: string) => fs.stat(path).catch(() => undefined)

/** The real path of `path`, or of its folder joined to its name when it does not exist yet. */
const realTarget = async (path: string): Promise<string> => {
  const absolute = nodePath.resolve(path)
  try {
    return await fs.realpath(absolute)
  } catch {
    const folder = await fs.realpath(nodePath.dirname(absolute)).catch(() => nodePath.dirname(absolute))
    return nodePath.join(folder, nodePath.basename(absolute))
  }
}

/**
 * Refuses a target that is one of `protectedPaths` by any path (the same real path, or the same device and inode),
 * and an existing file whose first line is not a report's header (the input CSV under another name, or any other
 * file: a report is only ever written over a report).
 *
 * @since 0.2.0
 * @category writing
 */
export const checkTarget = (
  target: string,
  protectedPaths: ReadonlyArray<{ readonly path: string; readonly what: string }>
): Effect.Effect<void, OutputRefused> =>
  Effect.tryPromise({
    try: async (): Promise<string | undefined> => {
      const real = await realTarget(target)
      const stat = await statOrUndefined(target)
      for (const { path, what } of protectedPaths) {
        const other = await statOrUndefined(path)
        if (real === (await realTarget(path))) return `--out ${target} is ${what}`
        if (stat !== undefined && other !== undefined && stat.dev === other.dev && stat.ino === other.ino) {
          return `--out ${target} is ${what} (the same file under another name)`
        }
      }
      if (stat === undefined) return undefined
      if (!stat.isFile()) return `--out ${target} is not a regular file`
      const handle = await fs.open(target, constants.O_RDONLY)
      try {
        const buffer = Buffer.alloc(reportHeader.length)
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0)
        if (buffer.subarray(0, bytesRead).toString("utf8") !== reportHeader) {
          return `--out ${target} exists and is not a campaign report: refusing to overwrite it ` +
            "(remove it or choose another name)"
        }
      } finally {
        await handle.close()
      }
      return undefined
    },
    catch: (cause) => new OutputRefused({ message: `cannot check --out ${target}: ${describe(cause)}` })
  }).pipe(
    Effect.flatMap((refusal) =>
      refusal === undefined ? Effect.void : Effect.fail(new OutputRefused({ message: refusal }))
    )
  )

/**
 * Writes `lines` to a temporary file beside `target` (created exclusively, flushed to disk), then renames it over
 * `target`: readers see the old file or the whole new one, never a part. On failure the temporary file is removed
 * and `target` is untouched. Returns how many lines were written.
 *
 * @since 0.2.0
 * @category writing
 */
export const writeAtomically = <E, R>(
  target: string,
  lines: Stream.Stream<string, E, R>
): Effect.Effect<number, E | OutputFailed, R> => {
  const temporary = nodePath.join(
    nodePath.dirname(nodePath.resolve(target)),
    `.${nodePath.basename(target)}.${randomBytes(6).toString("hex")}.tmp`
  )
  const failed = (cause: unknown) => new OutputFailed({ message: `cannot write ${target}: ${describe(cause)}` })
  return Effect.acquireUseRelease(
    Effect.tryPromise({ try: () => fs.open(temporary, "wx", 0o644), catch: failed }),
    (handle) =>
      Effect.gen(function*() {
        let count = 0
        yield* lines.pipe(
          Stream.groupedWithin(4096, "1 second"),
          Stream.runForEach((chunk) => {
            const text = Array.from(chunk).join("")
            count += chunk.length
            return Effect.tryPromise({ try: () => handle.writeFile(text), catch: failed })
          })
        )
        yield* Effect.tryPromise({ try: () => handle.sync(), catch: failed })
        return count
      }),
    (handle) => Effect.promise(() => handle.close().catch(() => undefined))
  ).pipe(
    Effect.zipLeft(Effect.tryPromise({ try: () => fs.rename(temporary, target), catch: failed })),
    Effect.onError(() => Effect.promise(() => fs.rm(temporary, { force: true })))
  )
}
