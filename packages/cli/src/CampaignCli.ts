/**
 * The `kaleyra-wa campaign` commands, on a ledger (`@effect-kaleyra/campaign`): a SQLite file (`--db FILE`) or a
 * PostgreSQL database (`--database-url postgres://…`, for several workers).
 *
 * - `campaign run --csv FILE [media flags] --db FILE`: the first run checks every row of the CSV (streamed, in
 *   constant memory whatever its size), imports it into the ledger, then sends; the same command again resumes (only `Pending`
 *   rows are sent). A different CSV for the same campaign is refused (exit 2).
 * - `campaign status`: counts per state and per delivery status, the pause reason, the rate (`--json`).
 * - `campaign report --out FILE`: one line per CSV row, written to a temporary file and renamed.
 * - `campaign resend --ambiguous`: moves the `Ambiguous` rows back to `Pending` (after a person checked).
 * - `campaign worker --database-url …`: one more worker on a PostgreSQL campaign.
 * - `callbacks --db FILE --port N`: the callback receiver, recording delivery statuses into the ledger.
 *
 * @since 0.2.0
 */
import * as Campaign from "@effect-kaleyra/campaign/Campaign"
import type * as CampaignError from "@effect-kaleyra/campaign/CampaignError"
import * as CampaignPg from "@effect-kaleyra/campaign/CampaignPg"
import * as CampaignSqlite from "@effect-kaleyra/campaign/CampaignSqlite"
import type * as Ledger from "@effect-kaleyra/campaign/Ledger"
import type { KaleyraEvent } from "@effect-kaleyra/core/KaleyraEvents"
import * as KaleyraEvents from "@effect-kaleyra/core/KaleyraEvents"
import * as MediaMessage from "@effect-kaleyra/core/MediaMessage"
import * as CallbackReceiver from "@effect-kaleyra/node/CallbackReceiver"
import type { Simulator } from "@effect-kaleyra/testing/KaleyraSimulator"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { randomBytes } from "node:crypto"
import * as nodePath from "node:path"
import * as CampaignReport from "./CampaignReport.js"
import type * as CsvCampaign from "./CsvCampaign.js"
import * as CsvFile from "./CsvFile.js"
import {
  acquireClient,
  type CliExit,
  CliOutput,
  exit,
  exitCodes,
  mediaOptions,
  type MessageFlags,
  optionalText,
  plural,
  print,
  printError,
  Problem,
  stoppable,
  takesCaption,
  type Target,
  targetOption,
  usage
} from "./internal/cli.js"

// ---------------------------------------------------------------------------------------------------------------
// The ledger
// ---------------------------------------------------------------------------------------------------------------

interface LedgerFlags {
  readonly db: Option.Option<string>
  readonly databaseUrl: Option.Option<Redacted.Redacted<string>>
  readonly campaign: Option.Option<string>
}

const ledgerOptions = {
  db: optionalText("db", "The ledger: a SQLite file (created if missing)"),
  databaseUrl: Options.redacted("database-url").pipe(
    Options.withDescription(
      "The ledger: a PostgreSQL database, postgres://user:password@host:port/db (several workers)"
    ),
    Options.optional
  ),
  campaign: optionalText(
    "campaign",
    "The campaign's name in the ledger (default: the only one in it; for a new one, the CSV file's name)"
  )
}

const safe = CampaignReport.terminalSafe

/** A defect's message and its cause's, on one line. */
const describeDefect = (defect: unknown): string => {
  const messages: Array<string> = []
  let current: unknown = defect
  for (let depth = 0; depth < 4 && current !== undefined && current !== null; depth++) {
    const message = (current as { readonly message?: unknown }).message
    if (typeof message === "string" && message !== "") messages.push(message)
    current = (current as { readonly cause?: unknown }).cause
  }
  return messages.length > 0 ? messages.join(": ") : String(defect)
}

/** An error of the ledger, for a person: exit 2 when nothing could start, else 1 (the run stopped). */
/** The run stopped because the ledger failed: every row is still accounted for, and the same command resumes. */
const ledgerStopped = (detail: string): Problem =>
  new Problem({
    code: exitCodes.failed,
    tag: "LedgerError",
    message: `the campaign stopped: the ledger failed (${safe(detail)}). Every row is still accounted for: fix the ` +
      "cause, then run the same command again (rows whose outcome could not be recorded become Ambiguous)."
  })

const ledgerProblem = (code: number) => (error: CampaignError.CampaignError): Problem => {
  switch (error._tag) {
    case "CampaignMismatch":
      return new Problem({
        code: exitCodes.badInput,
        tag: error._tag,
        message: `the campaign ${JSON.stringify(safe(error.name))} in this ledger was imported from another file ` +
          "(its rows differ): nothing was sent. Give the same CSV to resume it, or another --db or --campaign for " +
          "a new campaign."
      })
    case "CampaignNotFound":
      return new Problem({ code: exitCodes.badInput, tag: error._tag, message: safe(error.message) })
    default:
      return new Problem({ code, tag: error._tag, message: safe(error.message) })
  }
}

/** The ledger's layer, built in the caller's scope; a ledger that cannot be opened is bad input (exit 2). */
const openLedger = (
  flags: LedgerFlags
): Effect.Effect<Context.Context<Ledger.Ledger>, Problem, Scope.Scope> =>
  Effect.gen(function*() {
    if (Option.isSome(flags.db) && Option.isSome(flags.databaseUrl)) {
      return yield* usage("give --db or --database-url, not both")
    }
    const layer = Option.isSome(flags.databaseUrl)
      ? CampaignPg.layer({ url: flags.databaseUrl.value })
      : Option.isSome(flags.db)
      ? CampaignSqlite.layer({ filename: flags.db.value })
      : undefined
    if (layer === undefined) return yield* usage("give the ledger: --db FILE (SQLite) or --database-url URL")
    const where = Option.isSome(flags.db) ? flags.db.value : "the database at --database-url"
    return yield* Layer.build(layer).pipe(
      Effect.mapError((error) =>
        new Problem({
          code: exitCodes.badInput,
          tag: error._tag,
          message: `cannot open the ledger ${where}: ${safe(error.detail)}`
        })
      ),
      // a safety net: the ledger types its database failures (a failed COMMIT or ROLLBACK too); any other defect
      Effect.catchAllDefect((defect) =>
        Effect.fail(
          new Problem({
            code: exitCodes.badInput,
            tag: "LedgerError",
            message: `cannot open the ledger ${where}: ${safe(describeDefect(defect))}`
          })
        )
      )
    )
  })

/** The campaign a command works on: `--campaign`, else the only campaign of the ledger, else `fallback`. */
const campaignName = (flags: LedgerFlags, fallback?: string) =>
  Effect.gen(function*() {
    if (Option.isSome(flags.campaign)) return flags.campaign.value
    const names = yield* Campaign.list.pipe(Effect.mapError(ledgerProblem(exitCodes.badInput)))
    if (names.length === 1) return names[0]
    if (names.length === 0) {
      if (fallback !== undefined) return fallback
      return yield* usage("the ledger holds no campaign yet (start one with kaleyra-wa campaign run --csv FILE)")
    }
    if (fallback !== undefined && names.includes(fallback)) return fallback
    return yield* usage(
      `the ledger holds several campaigns: choose one with --campaign (${names.map((n) => safe(n)).join(", ")})`
    )
  })

// ---------------------------------------------------------------------------------------------------------------
// Delivery statuses into the ledger
// ---------------------------------------------------------------------------------------------------------------

/**
 * A `KaleyraEvents` whose ingestion (`ingest`, `ingestPayload`, `ingestCallback`: whichever the callback receiver
 * calls) records each status into the ledger before it returns, so that the receiver answers 200 only for statuses
 * the ledger holds (a ledger error answers 400).
 */
const recordingEvents = (
  ledger: Context.Context<Ledger.Ledger>,
  counts: { recorded: number; unknown: number }
): Effect.Effect<KaleyraEvents.Service, never, Scope.Scope> =>
  Effect.map(KaleyraEvents.make({ trackedMessages: 1 }), (base) => {
    const record = (events: ReadonlyArray<KaleyraEvent>) =>
      Effect.forEach(events, (event) =>
        event._tag === "MessageStatusUpdated"
          ? Campaign.recordStatus(event).pipe(
            Effect.tap((result) =>
              Effect.sync(() => {
                if (result === "Unknown") counts.unknown++
                else counts.recorded++
              })
            ),
            Effect.provide(ledger),
            Effect.orDie
          )
          : Effect.void, { discard: true })
    return {
      ...base,
      ingest: (event) => Effect.zipRight(record([event]), base.ingest(event)),
      ingestPayload: (body) => Effect.tap(base.ingestPayload(body), record),
      ingestCallback: (body) => Effect.tap(base.ingestCallback(body), (decoded) => record(decoded.events))
    }
  })

/** Serves the callback receiver recording into the ledger; returns its URL. */
const serveCallbacks = (
  ledger: Context.Context<Ledger.Ledger>,
  options: CallbackReceiver.ServeOptions,
  counts: { recorded: number; unknown: number }
) =>
  Effect.flatMap(
    recordingEvents(ledger, counts),
    (events) => CallbackReceiver.serve(options).pipe(Effect.provideService(KaleyraEvents.KaleyraEvents, events))
  )

// ---------------------------------------------------------------------------------------------------------------
// campaign run / worker
// ---------------------------------------------------------------------------------------------------------------

interface SendFlags {
  readonly concurrency: number
  readonly rate: number
  readonly target: Target
}

const sendOptions = {
  concurrency: Options.integer("concurrency").pipe(
    Options.withSchema(Schema.Int.pipe(Schema.between(1, 1024))),
    Options.withDescription("How many sends run at once, 1 to 1024 (also the most rows Ambiguous after a crash)"),
    Options.withDefault(16)
  ),
  rate: Options.integer("rate").pipe(
    Options.withSchema(Schema.Int.pipe(Schema.nonNegative())),
    Options.withDescription(
      "At most this many sends per second for the sender number, shared by every worker (0: no limit)"
    ),
    Options.withDefault(80)
  ),
  target: targetOption
}

/** Sends the campaign's `Pending` rows with progress on stderr; returns the exit code. */
const sendRows = (
  name: string,
  flags: SendFlags,
  ledger: Context.Context<Ledger.Ledger>,
  stop: Effect.Effect<void>
) =>
  Effect.gen(function*() {
    const output = yield* CliOutput
    const before = yield* Campaign.status(name).pipe(
      Effect.provide(ledger),
      Effect.mapError(ledgerProblem(exitCodes.failed))
    )
    const { Ambiguous, Failed, Pending, Sending, Sent } = before.states
    if (Pending === 0 && Sending === 0) {
      // nothing to send nor to recover: no client needed (no credentials asked for)
      yield* printError(`Campaign ${safe(name)}: no row to send.`)
      yield* print(
        `${plural(before.total, "row")}: ${Sent} sent, ${Failed} failed, ${Ambiguous} ambiguous, 0 pending ` +
          "(this run attempted 0)."
      )
      return Sent === before.total ? exitCodes.ok : exitCodes.failed
    }
    const counts = { recorded: 0, unknown: 0 }
    // With --simulator, the simulator's status callbacks go through a callback receiver into this run's ledger.
    const callbacks = flags.target._tag === "Simulator"
      ? yield* Effect.gen(function*() {
        const secret = randomBytes(18).toString("base64url")
        const served = yield* serveCallbacks(ledger, { secret: Redacted.make(secret) }, counts).pipe(
          Effect.mapError((error) =>
            new Problem({ code: exitCodes.failed, tag: error._tag, message: safe(error.message) })
          )
        )
        return { url: served.url, secret }
      })
      : undefined
    let simulator: Simulator | undefined
    const client = yield* acquireClient(flags.target, {
      callbacks,
      onServed: (served) => {
        simulator = served
      }
    })

    const tally = { sent: 0, failed: 0, ambiguous: 0 }
    const todo = before.states.Pending
    const started = yield* Clock.currentTimeMillis
    const progress = Effect.map(Clock.currentTimeMillis, (now) => {
      const attempted = tally.sent + tally.failed + tally.ambiguous
      const rate = attempted / Math.max((now - started) / 1000, 0.001)
      return `${attempted}/${todo} attempted: ${tally.sent} sent, ${tally.failed} failed` +
        (tally.ambiguous > 0 ? `, ${tally.ambiguous} ambiguous` : "") + `, ${rate.toFixed(1)}/s`
    })
    const tty = output.stderrIsTTY
    const ticker = yield* Effect.forkScoped(Effect.forever(
      Effect.sleep(tty ? "200 millis" : "1 second").pipe(
        Effect.zipRight(progress),
        Effect.flatMap((line) => output.stderr(tty ? `\r${line}\x1b[K` : `${line}\n`))
      )
    ))
    const limit = flags.rate === 0 ? "no rate limit" : `at most ${flags.rate}/s`
    yield* printError(
      `Campaign ${safe(name)}: ${plural(todo, "row")} to send (concurrency ${flags.concurrency}, ${limit})` +
        (before.states.Ambiguous > 0 ? `; ${before.states.Ambiguous} Ambiguous rows are not resent` : "")
    )
    const summary = yield* Campaign.run({
      name,
      concurrency: flags.concurrency,
      rateLimit: flags.rate === 0 ? false : { limit: flags.rate },
      stop,
      onOutcome: (outcome) =>
        Effect.sync(() => {
          if (outcome._tag === "Sent") tally.sent++
          else if (outcome._tag === "Failed") tally.failed++
          else if (outcome._tag === "Ambiguous") tally.ambiguous++
        })
    }).pipe(
      Effect.provide(Context.merge(ledger, client)),
      // a database failure during the run (a full disk, a lost connection) stops it with what to do next
      Effect.mapError((error) =>
        error._tag === "LedgerError" ? ledgerStopped(error.message) : ledgerProblem(exitCodes.failed)(error)
      ),
      // a safety net: the ledger types its database failures (a failed COMMIT too); a defect stops the run there
      Effect.catchAllDefect((defect) => Effect.fail(ledgerStopped(describeDefect(defect)))),
      Effect.tapError(() => Fiber.interrupt(ticker))
    )
    yield* Fiber.interrupt(ticker)
    const last = yield* progress
    yield* output.stderr(tty ? `\r${last}\x1b[K\n` : `${last}\n`)
    const elapsed = ((yield* Clock.currentTimeMillis) - started) / 1000
    if (summary.paused !== undefined) {
      yield* printError(
        `Paused: ${safe(summary.paused.reason)}: ${safe(summary.paused.message)}\n` +
          `No new send starts; ${plural(summary.pending, "row")} stay Pending. Fix the cause and run the same ` +
          "command again to resume."
      )
    }
    if (summary.paused === undefined && summary.pending > 0) {
      yield* printError(
        `Stopped: ${plural(summary.pending, "row")} stay Pending (never sent): the same command again sends them.`
      )
    }
    if (summary.ambiguous > 0) {
      yield* printError(
        `${plural(summary.ambiguous, "row")} may have reached Kaleyra (Ambiguous): never resent automatically. ` +
          "A status callback carrying its ref makes it Sent; after checking, `kaleyra-wa campaign resend " +
          "--ambiguous` sends them again."
      )
    }
    yield* print(
      `${plural(summary.total, "row")}: ${summary.sent} sent, ${summary.failed} failed, ${summary.ambiguous} ` +
        `ambiguous, ${summary.pending} pending (this run attempted ${summary.attempted} in ${elapsed.toFixed(1)} s).`
    )
    if (simulator !== undefined) {
      // the simulator's last statuses arrive a few hundred milliseconds after the last send
      yield* Effect.timeout(simulator.awaitCallbacks, "5 seconds").pipe(Effect.ignore)
      yield* printError(`Delivery statuses recorded from the simulator: ${counts.recorded}.`)
    }
    return summary.sent === summary.total ? exitCodes.ok : exitCodes.failed
  }).pipe(Effect.scoped)

interface RunOptions extends MessageFlags, SendFlags, LedgerFlags {
  readonly csv: string
  readonly type: Option.Option<MediaMessage.MediaType>
  readonly out: Option.Option<string>
}

const defaultsOf = (options: RunOptions): CsvCampaign.Defaults => ({
  type: Option.getOrUndefined(options.type),
  link: Option.getOrUndefined(options.link),
  id: Option.getOrUndefined(options.id),
  caption: Option.getOrUndefined(options.caption),
  filename: Option.getOrUndefined(options.filename),
  ref: Option.getOrUndefined(options.ref),
  ref1: Option.getOrUndefined(options.ref1),
  waSource: Option.getOrUndefined(options.waSource)
})

/** Checks every row of the CSV (nothing stored, nothing sent); exit 2 with every problem's line when one fails. */
const checkCsv = (options: RunOptions) =>
  Effect.gen(function*() {
    const defaults = defaultsOf(options)
    const scan = yield* CsvFile.scan(options.csv, defaults).pipe(
      Effect.mapError((error) => new Problem({ code: exitCodes.badInput, tag: "CsvError", message: error.message }))
    )
    if (scan.columns.includes("ref2")) {
      return yield* usage(
        `${options.csv}: the ref2 column is reserved in campaigns: each row's own ref goes in extra_info.ref2, so ` +
          "that its status callbacks can be joined to it. Put your reference in ref or ref1."
      )
    }
    if (scan.ignoredColumns.length > 0) {
      yield* printError(
        `Note: ignoring the column${scan.ignoredColumns.length === 1 ? "" : "s"} ${scan.ignoredColumns.join(", ")}.`
      )
    }
    if (scan.problemCount > 0) {
      const lines = scan.problems.map((p) => `  line ${p.line}: ${p.message}`)
      const more = scan.problemCount - scan.problems.length
      yield* printError(
        `${options.csv}: ${plural(scan.problemCount, "row")} cannot be sent, so nothing was sent. ` +
          `Fix ${scan.problemCount === 1 ? "it" : "them"} and run again:\n${lines.join("\n")}` +
          (more > 0 ? `\n  ... and ${plural(more, "more row")}` : "")
      )
      return yield* exit(exitCodes.badInput).pipe(Effect.as(scan))
    }
    if (defaults.caption !== undefined && ![...scan.typesSeen].some((t) => takesCaption(t as MediaMessage.MediaType))) {
      return yield* usage("--caption: no row is an image, video or document (audio and stickers take no caption)")
    }
    if (defaults.filename !== undefined && !scan.typesSeen.has("document")) {
      return yield* usage("--filename: no row is a document")
    }
    if (scan.duplicates.length > 0) {
      const shown = scan.duplicates.slice(0, 5).map((d) => `${d.to} (lines ${d.lines.join(", ")})`)
      yield* printError(
        `Note: ${plural(scan.duplicates.length, "recipient")} appear on more than one row and receive one ` +
          `message per row: ${shown.join(", ")}${scan.duplicates.length > 5 ? ", ..." : ""}.`
      )
    }
    return scan
  })

const runCampaign = (options: RunOptions) =>
  Effect.gen(function*() {
    if (Option.isSome(options.link) && Option.isSome(options.id)) return yield* usage("give --link or --id, not both")
    if (Option.isSome(options.ref2)) {
      return yield* usage("--ref2 is reserved in campaigns (each row's ref goes there): use --ref or --ref1")
    }
    const ledger = yield* openLedger(options)
    const fallback = nodePath.basename(options.csv).replace(/\.csv$/i, "")
    const name = yield* campaignName(options, fallback).pipe(Effect.provide(ledger))
    if (Option.isSome(options.out)) {
      yield* CampaignReport.checkTarget(options.out.value, protectedPaths(options, [options.csv])).pipe(
        Effect.mapError((e) => new Problem({ code: exitCodes.badInput, tag: e._tag, message: e.message }))
      )
    }
    const scan = yield* checkCsv(options)
    const info = yield* Campaign.create({
      name,
      rows: CsvFile.rows(options.csv, defaultsOf(options)),
      fingerprint: scan.fingerprint
    }).pipe(
      Effect.provide(ledger),
      Effect.mapError((error) =>
        error._tag === "CsvFileError"
          ? new Problem({ code: exitCodes.badInput, tag: "CsvError", message: error.message })
          : ledgerProblem(exitCodes.badInput)(error)
      ),
      // a safety net: the ledger types its database failures (a failed COMMIT too); a defect sends nothing
      Effect.catchAllDefect((defect) =>
        Effect.fail(
          new Problem({
            code: exitCodes.badInput,
            tag: "LedgerError",
            message: `cannot import ${options.csv} into the ledger: ${safe(describeDefect(defect))}. Nothing was sent.`
          })
        )
      )
    )
    yield* printError(
      info.imported
        ? `Imported ${plural(info.total, "row")} of ${options.csv} into the ledger (campaign ${safe(name)}).`
        : `Resuming campaign ${safe(name)} (${plural(info.total, "row")}, ${options.csv} unchanged).`
    )
    const code = yield* stoppable((stop) => sendRows(name, options, ledger, stop))
    if (Option.isSome(options.out)) {
      yield* writeReport(name, options.out.value, ledger, protectedPaths(options, [options.csv]))
    }
    return code
  }).pipe(Effect.scoped, handleProblems("campaign run"))

/** The ledger's own files and the given inputs: never a report's target. */
const protectedPaths = (flags: LedgerFlags, inputs: ReadonlyArray<string>) => [
  ...inputs.map((path) => ({ path, what: "the input file" })),
  ...Option.match(flags.db, {
    onNone: () => [],
    onSome: (db) => ["", "-wal", "-shm", "-journal"].map((suffix) => ({ path: db + suffix, what: "the ledger" }))
  })
]

const handleProblems = (command: string) => <R>(effect: Effect.Effect<number, Problem | CliExit, R>) =>
  effect.pipe(
    Effect.catchTag("Problem", (p) => Effect.as(printError(`kaleyra-wa ${command}: ${p.message}`), p.code)),
    Effect.flatMap(exit)
  )

const runWorker = (options: SendFlags & LedgerFlags) =>
  Effect.gen(function*() {
    if (Option.isNone(options.databaseUrl) && Option.isNone(options.db)) {
      return yield* usage("give the ledger: --database-url URL (PostgreSQL; --db FILE works for one machine)")
    }
    const ledger = yield* openLedger(options)
    const name = yield* campaignName(options).pipe(Effect.provide(ledger))
    return yield* stoppable((stop) => sendRows(name, options, ledger, stop))
  }).pipe(Effect.scoped, handleProblems("campaign worker"))

// ---------------------------------------------------------------------------------------------------------------
// campaign status / report / resend
// ---------------------------------------------------------------------------------------------------------------

const runStatus = (options: LedgerFlags & { readonly json: boolean }) =>
  Effect.gen(function*() {
    const ledger = yield* openLedger(options)
    const name = yield* campaignName(options).pipe(Effect.provide(ledger))
    const status = yield* Campaign.status(name).pipe(
      Effect.provide(ledger),
      Effect.mapError(ledgerProblem(exitCodes.badInput))
    )
    if (options.json) {
      yield* print(JSON.stringify({
        name: status.name,
        total: status.total,
        importComplete: status.importComplete,
        states: status.states,
        delivery: status.delivery,
        // server text: JSON escapes C0 controls, not C1 ones (U+009B starts a terminal sequence too)
        paused: status.paused === undefined
          ? null
          : { ...status.paused, reason: safe(status.paused.reason), message: safe(status.paused.message) },
        rate: status.rate,
        lastOutcomeAt: status.lastOutcomeAt ?? null
      }))
      return exitCodes.ok
    }
    const states = Object.entries(status.states).map(([state, n]) => `${state} ${n}`).join(", ")
    const delivery = Object.entries(status.delivery).map(([state, n]) => `${state} ${n}`).join(", ")
    yield* print(
      `Campaign ${safe(status.name)}: ${plural(status.total, "row")}` +
        (status.importComplete ? "" : " (import not complete: run the same command again)") +
        `\n  states:   ${states}\n  delivery: ${delivery}\n  rate:     ${status.rate.toFixed(1)}/s` +
        (status.lastOutcomeAt === undefined ? "" : ` (last outcome ${new Date(status.lastOutcomeAt).toISOString()})`) +
        (status.paused === undefined
          ? ""
          : `\n  paused:   ${safe(status.paused.reason)}: ${safe(status.paused.message)} (since ${
            new Date(status.paused.at).toISOString()
          })`)
    )
    return exitCodes.ok
  }).pipe(Effect.scoped, handleProblems("campaign status"))

const writeReport = (
  name: string,
  out: string,
  ledger: Context.Context<Ledger.Ledger>,
  protect: ReadonlyArray<{ readonly path: string; readonly what: string }>
) =>
  Effect.gen(function*() {
    yield* CampaignReport.checkTarget(out, protect)
    // Meta's 131047: a free-form message to someone outside the 24-hour window; only a template reaches them.
    let outsideWindow = 0
    const lines = Stream.concat(
      Stream.make(CampaignReport.reportHeader),
      Stream.map(Campaign.report(name), (row) => {
        if (row.deliveryError === "131047") outsideWindow++
        return CampaignReport.formatReportRow(row)
      })
    )
    const count = yield* CampaignReport.writeAtomically(out, lines).pipe(Effect.provide(ledger))
    yield* printError(`Report: ${out} (${plural(count - 1, "row")}).`)
    if (outsideWindow > 0) {
      yield* printError(
        `${plural(outsideWindow, "row")} failed with 131047 (outside the 24-hour window: the recipient has not ` +
          `written to you in the last 24 hours): send these as a template.`
      )
    }
  }).pipe(
    Effect.mapError((error) =>
      error._tag === "OutputRefused"
        ? new Problem({ code: exitCodes.badInput, tag: error._tag, message: error.message })
        : error._tag === "OutputFailed"
        ? new Problem({ code: exitCodes.failed, tag: error._tag, message: error.message })
        : ledgerProblem(exitCodes.failed)(error)
    )
  )

const runReport = (options: LedgerFlags & { readonly out: string; readonly csv: Option.Option<string> }) =>
  Effect.gen(function*() {
    const ledger = yield* openLedger(options)
    const name = yield* campaignName(options).pipe(Effect.provide(ledger))
    yield* writeReport(name, options.out, ledger, protectedPaths(options, Option.toArray(options.csv)))
    return exitCodes.ok
  }).pipe(Effect.scoped, handleProblems("campaign report"))

const runResend = (options: LedgerFlags & { readonly ambiguous: boolean }) =>
  Effect.gen(function*() {
    if (!options.ambiguous) {
      return yield* usage("say what to resend: --ambiguous (the rows that may have reached Kaleyra, after checking)")
    }
    const ledger = yield* openLedger(options)
    const name = yield* campaignName(options).pipe(Effect.provide(ledger))
    const moved = yield* Campaign.resendAmbiguous(name).pipe(
      Effect.provide(ledger),
      Effect.mapError(ledgerProblem(exitCodes.failed))
    )
    yield* print(
      `${plural(moved, "Ambiguous row")} moved back to Pending: the next \`kaleyra-wa campaign run\` (or worker) ` +
        "sends them."
    )
    return exitCodes.ok
  }).pipe(Effect.scoped, handleProblems("campaign resend"))

// ---------------------------------------------------------------------------------------------------------------
// callbacks
// ---------------------------------------------------------------------------------------------------------------

const runCallbacks = (options: Omit<LedgerFlags, "campaign"> & { readonly port: number; readonly host: string }) =>
  Effect.gen(function*() {
    const secret = yield* Config.redacted("KALEYRA_CALLBACK_SECRET").pipe(
      Effect.mapError(() =>
        new Problem({
          code: exitCodes.badInput,
          tag: "ConfigError",
          message: "KALEYRA_CALLBACK_SECRET is not set: the secret the callback profile sends (a header or the " +
            "Basic auth password)"
        })
      )
    )
    if (Redacted.value(secret) === "") return yield* usage("KALEYRA_CALLBACK_SECRET is empty")
    const ledger = yield* openLedger({ ...options, campaign: Option.none() })
    const counts = { recorded: 0, unknown: 0 }
    const served = yield* serveCallbacks(ledger, { secret, port: options.port, host: options.host }, counts).pipe(
      Effect.mapError((error) =>
        new Problem({ code: exitCodes.badInput, tag: error._tag, message: safe(error.message) })
      )
    )
    yield* printError(`Receiving Kaleyra callbacks at ${served.url} (Ctrl-C to stop).`)
    return yield* Effect.never.pipe(
      Effect.onInterrupt(() =>
        printError(`Recorded ${counts.recorded} statuses (${counts.unknown} for messages not in the ledger yet).`)
      )
    )
  }).pipe(Effect.scoped, handleProblems("callbacks"))

// ---------------------------------------------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------------------------------------------

/**
 * `kaleyra-wa campaign run`: checks and imports a CSV into the ledger (the first time), then sends its `Pending`
 * rows; the same command again resumes.
 *
 * @since 0.2.0
 * @category commands
 */
export const runCommand = Command.make("run", {
  csv: Options.file("csv").pipe(
    Options.withDescription(
      "The recipients: a CSV file with a header row and a to column; the columns type, link, id, caption, " +
        "filename, ref, ref1, reply_to and wa_source override the flags for their row"
    )
  ),
  type: Options.choice("type", MediaMessage.mediaTypes).pipe(
    Options.withDescription("The media type of the rows without a type"),
    Options.optional
  ),
  ...mediaOptions,
  out: Options.file("out").pipe(
    Options.withDescription("Also write the report there at the end (see campaign report)"),
    Options.optional
  ),
  ...sendOptions,
  ...ledgerOptions
}, runCampaign).pipe(Command.withDescription("Import a CSV into the ledger and send it; run again to resume"))

/**
 * `kaleyra-wa campaign status`.
 *
 * @since 0.2.0
 * @category commands
 */
export const statusCommand = Command.make("status", {
  ...ledgerOptions,
  json: Options.boolean("json").pipe(Options.withDescription("Print one JSON object on stdout"))
}, runStatus).pipe(Command.withDescription("Counts per state and delivery status, the pause reason, the rate"))

/**
 * `kaleyra-wa campaign report`.
 *
 * @since 0.2.0
 * @category commands
 */
export const reportCommand = Command.make("report", {
  ...ledgerOptions,
  out: Options.file("out").pipe(Options.withDescription("The report CSV (replaced only if it is a report)")),
  csv: Options.file("csv").pipe(
    Options.withDescription("The campaign's CSV, so that --out is checked against it too"),
    Options.optional
  )
}, runReport).pipe(Command.withDescription("Write one line per CSV row: state, message id, ref, error, delivery"))

/**
 * `kaleyra-wa campaign resend --ambiguous`.
 *
 * @since 0.2.0
 * @category commands
 */
export const resendCommand = Command.make("resend", {
  ...ledgerOptions,
  ambiguous: Options.boolean("ambiguous").pipe(
    Options.withDescription("Move the Ambiguous rows back to Pending (after checking that they did not arrive)")
  )
}, runResend).pipe(Command.withDescription("Send the Ambiguous rows again on the next run, after a person checked"))

/**
 * `kaleyra-wa campaign worker`.
 *
 * @since 0.2.0
 * @category commands
 */
export const workerCommand = Command.make("worker", { ...sendOptions, ...ledgerOptions }, runWorker).pipe(
  Command.withDescription("One more worker on a campaign (PostgreSQL: run it on as many machines as you like)")
)

/**
 * `kaleyra-wa campaign`.
 *
 * @since 0.2.0
 * @category commands
 */
export const command = Command.make(
  "campaign",
  {},
  () =>
    printError("kaleyra-wa campaign: choose a command: run, status, report, resend or worker (see --help)").pipe(
      Effect.zipRight(exit(exitCodes.badInput))
    )
).pipe(
  Command.withDescription("Durable campaigns: one media message per CSV row, on a ledger that survives crashes"),
  Command.withSubcommands([runCommand, statusCommand, reportCommand, resendCommand, workerCommand])
)

/**
 * `kaleyra-wa callbacks`.
 *
 * @since 0.2.0
 * @category commands
 */
export const callbacksCommand = Command.make("callbacks", {
  db: ledgerOptions.db,
  databaseUrl: ledgerOptions.databaseUrl,
  port: Options.integer("port").pipe(
    Options.withSchema(Schema.Int.pipe(Schema.between(0, 65_535))),
    Options.withDescription("The port to listen on (0: a free one)"),
    Options.withDefault(8080)
  ),
  host: Options.text("host").pipe(
    Options.withDescription("The address to listen on (0.0.0.0 to take Kaleyra's calls)"),
    Options.withDefault("127.0.0.1")
  )
}, runCallbacks).pipe(
  Command.withDescription(
    "Receive Kaleyra's status callbacks into the ledger (secret from KALEYRA_CALLBACK_SECRET)"
  )
)
