/**
 * The `kaleyra-wa` command line (`@effect/cli`):
 *
 * - `kaleyra-wa send-media --to <number> --type image --link <url> [--caption ...] [--json]`: one message;
 * - `kaleyra-wa campaign --csv contacts.csv --type image --link <url> [--out results.csv]`: one message per row of a
 *   CSV file (see `CsvCampaign`), through core's `sendMediaBatch`, with a progress line on stderr and a results file.
 *
 * Where it sends: `--simulator` serves the Kaleyra simulator on `127.0.0.1` for the run; `--base-url <url>` sends to
 * that server with the credentials from `KALEYRA_SID`, `KALEYRA_API_KEY` and `KALEYRA_SENDER_NUMBER`; otherwise
 * `KaleyraNode.layerConfig` (those variables, plus optionally `KALEYRA_REGION` or `KALEYRA_BASE_URL`).
 *
 * Exit codes ({@link exitCodes}): 0 every message was sent, 1 some failed (or were not attempted), 2 bad input (flags,
 * configuration, CSV rows: nothing was sent), 130 interrupted. Output goes through the {@link CliOutput} service so
 * that tests (and programs embedding the CLI) can capture it; the API key is never printed.
 *
 * @since 0.1.0
 */
import {
  type BatchSummary,
  emptySummary,
  type NotAttemptedReason,
  sendMediaBatch,
  summarize
} from "@effect-kaleyra/core/Batch"
import { type KaleyraClient, sendMedia, type SendMediaResult } from "@effect-kaleyra/core/KaleyraClient"
import type { SendMediaError } from "@effect-kaleyra/core/KaleyraError"
import * as MediaMessage from "@effect-kaleyra/core/MediaMessage"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as ValidationError from "@effect/cli/ValidationError"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import * as NodeTerminal from "@effect/platform-node/NodeTerminal"
import type * as PlatformError from "@effect/platform/Error"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import type * as ConfigError from "effect/ConfigError"
import * as Console from "effect/Console"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { format } from "node:util"
import * as CsvCampaign from "./CsvCampaign.js"
import * as KaleyraNode from "./KaleyraNode.js"
import * as SimulatorServer from "./SimulatorServer.js"

// ---------------------------------------------------------------------------------------------------------------
// Output and exit codes
// ---------------------------------------------------------------------------------------------------------------

/**
 * The CLI's version (shown by `--version`).
 *
 * @since 0.1.0
 * @category constants
 */
export const version = "0.1.0"

/**
 * The exit codes.
 *
 * @since 0.1.0
 * @category constants
 */
export const exitCodes = {
  /** Every message was sent. */
  ok: 0,
  /** Some messages failed or were not attempted (a Kaleyra error, a transport failure, a stop). */
  failed: 1,
  /** Bad input: flags, configuration, a CSV file or row. Nothing was sent. */
  badInput: 2,
  /** Interrupted (Ctrl-C): a campaign stops starting new sends and still writes its results. */
  interrupted: 130
} as const

/**
 * Where the CLI writes: standard output (results, `--json`), standard error (progress, diagnostics), and whether
 * standard error is a terminal (the progress line is then redrawn in place).
 *
 * @since 0.1.0
 * @category models
 */
export interface Output {
  readonly stdout: (text: string) => Effect.Effect<void>
  readonly stderr: (text: string) => Effect.Effect<void>
  readonly stderrIsTTY: boolean
}

/**
 * The CLI's output, as a service. `@effect/cli`'s own messages (help, flag errors) are routed to it too.
 *
 * @since 0.1.0
 * @category services
 */
export class CliOutput extends Context.Tag("@effect-kaleyra/node/Cli/CliOutput")<CliOutput, Output>() {}

const writeTo = (stream: NodeJS.WritableStream, text: string): Effect.Effect<void> =>
  Effect.async<void>((resume) => {
    // resumes once the text is handed to the OS, so that nothing is lost when the process exits right after
    stream.write(text, () => resume(Effect.void))
  })

// eslint-disable-next-line no-control-regex
const ANSI_STYLE = /\u001b\[[0-9;]*m/g

/**
 * {@link CliOutput} on two streams. Colours and styles (which `@effect/cli` writes in its help and flag errors) are
 * kept only on a terminal, and never when `NO_COLOR` is set (https://no-color.org): a file or a pipe gets plain text.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerOutput = (
  stdout: NodeJS.WritableStream & { readonly isTTY?: boolean },
  stderr: NodeJS.WritableStream & { readonly isTTY?: boolean },
  env: Readonly<Record<string, string | undefined>> = process.env
): Layer.Layer<CliOutput> =>
  Layer.sync(CliOutput, () => {
    const noColor = env.NO_COLOR !== undefined && env.NO_COLOR !== ""
    const styled = (stream: { readonly isTTY?: boolean }) => stream.isTTY === true && !noColor
    const to = (stream: NodeJS.WritableStream & { readonly isTTY?: boolean }) =>
      styled(stream)
        ? (text: string) => writeTo(stream, text)
        : (text: string) => writeTo(stream, text.replace(ANSI_STYLE, ""))
    return CliOutput.of({ stdout: to(stdout), stderr: to(stderr), stderrIsTTY: stderr.isTTY === true })
  })

/**
 * {@link CliOutput} on the process's `stdout` and `stderr` (see {@link layerOutput}).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerProcessOutput: Layer.Layer<CliOutput> = Layer.suspend(() =>
  layerOutput(process.stdout, process.stderr)
)

/**
 * How a command ends when it does not end with 0: the exit code (its diagnostics are already printed).
 *
 * @since 0.1.0
 * @category errors
 */
export class CliExit extends Data.TaggedError("CliExit")<{ readonly code: number }> {}

/** A reason to stop before sending (or to give up), for a person or as JSON. */
class Problem extends Data.TaggedError("Problem")<{
  readonly code: number
  readonly tag: string
  readonly message: string
}> {}

const problem = (code: number, tag: string, message: string): Effect.Effect<never, Problem> =>
  Effect.fail(new Problem({ code, tag, message }))

const usage = (message: string): Effect.Effect<never, Problem> => problem(exitCodes.badInput, "UsageError", message)

const print = (text: string): Effect.Effect<void, never, CliOutput> =>
  Effect.flatMap(CliOutput, (output) => output.stdout(text + "\n"))

const printError = (text: string): Effect.Effect<void, never, CliOutput> =>
  Effect.flatMap(CliOutput, (output) => output.stderr(text + "\n"))

const exit = (code: number): Effect.Effect<void, CliExit> =>
  code === exitCodes.ok ? Effect.void : Effect.fail(new CliExit({ code }))

// ---------------------------------------------------------------------------------------------------------------
// Describing results and errors
// ---------------------------------------------------------------------------------------------------------------

/**
 * An error as a JSON-ready object: `_tag`, `message`, and the error's own fields (a `Duration` becomes
 * `<field>Millis`; `UnexpectedResponse` adds `accepted`). Errors never hold the API key.
 *
 * @since 0.1.0
 * @category formatting
 */
export const errorToJson = (error: { readonly _tag: string; readonly message: string }): Record<string, unknown> => {
  const json: Record<string, unknown> = { _tag: error._tag, message: error.message }
  for (const [key, value] of Object.entries(error)) {
    if (key === "_tag" || key === "message" || value === undefined) continue
    if (Duration.isDuration(value)) json[`${key}Millis`] = Duration.toMillis(value)
    else json[key] = value
  }
  if (error._tag === "UnexpectedResponse" && "accepted" in error) json.accepted = error.accepted
  return json
}

const resultToJson = (result: SendMediaResult): Record<string, unknown> => ({
  ok: true,
  messageId: result.messageId,
  recipients: result.recipients,
  type: result.type,
  status: result.status,
  ...(result.code !== undefined ? { code: result.code } : {}),
  attempts: result.attempts
})

const describeError = (error: SendMediaError): string => {
  switch (error._tag) {
    case "InvalidMessage":
      return `invalid message, nothing was sent:\n${
        error.issues.map((issue) => `  ${issue.field === "" ? "input" : issue.field}: ${issue.reason}`).join("\n")
      }`
    case "TransportError":
      return error.mayHaveReachedKaleyra
        ? `${error.message}\nThe message may have been sent: check the status callbacks before sending it again.`
        : error.message
    case "UnexpectedResponse":
    case "RateLimited":
      return error.message
    default: {
      const details = Object.keys(error.error).length > 0 ? ` ${JSON.stringify(error.error)}` : ""
      return `HTTP ${error.status}, code ${error.code}: ${error.message}${details}`
    }
  }
}

const describePlatformError = (error: PlatformError.PlatformError): string => {
  if (error._tag === "SystemError") {
    switch (error.reason) {
      case "NotFound":
        return "no such file or directory"
      case "PermissionDenied":
        return "permission denied"
      default:
        return error.description ?? error.reason
    }
  }
  return error.message
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`

// ---------------------------------------------------------------------------------------------------------------
// Where messages go
// ---------------------------------------------------------------------------------------------------------------

interface Target {
  readonly simulator: boolean
  readonly baseUrl: Option.Option<string>
}

const configIssues = (error: ConfigError.ConfigError): Array<string> => {
  switch (error._op) {
    case "And":
    case "Or":
      return [...configIssues(error.left), ...configIssues(error.right)]
    case "MissingData":
      return [`${error.path.join("_")} is not set`]
    case "InvalidData":
    case "SourceUnavailable":
    case "Unsupported":
      return [error.path.length > 0 ? `${error.path.join("_")}: ${error.message}` : error.message]
  }
}

const configProblem = (error: ConfigError.ConfigError): Problem =>
  new Problem({
    code: exitCodes.badInput,
    tag: "ConfigError",
    message:
      `the Kaleyra configuration is missing or invalid: ${Array.from(new Set(configIssues(error))).join("; ")}.\n` +
      "Set KALEYRA_SID, KALEYRA_API_KEY and KALEYRA_SENDER_NUMBER (and optionally KALEYRA_REGION or " +
      "KALEYRA_BASE_URL), or try it with --simulator (a local Kaleyra simulator, nothing is sent)."
  })

/** The client for this run, in the caller's scope (the simulator too, with `--simulator`). */
const acquireClient = (
  target: Target
): Effect.Effect<Context.Context<KaleyraClient>, Problem, Scope.Scope | CliOutput> =>
  Effect.gen(function*() {
    if (target.simulator) {
      if (Option.isSome(target.baseUrl)) return yield* usage("give --simulator or --base-url, not both")
      const served = yield* SimulatorServer.serve().pipe(
        Effect.mapError((error) =>
          new Problem({
            code: exitCodes.failed,
            tag: error._tag,
            message: `could not start the simulator: ${error.message}`
          })
        )
      )
      yield* printError(`Using a local Kaleyra simulator at ${served.url}: nothing is sent to WhatsApp.`)
      const { options } = served.simulator
      return yield* Layer.build(KaleyraNode.layer({
        sid: options.sid,
        apiKey: Redacted.make(options.apiKey),
        senderNumber: options.senderNumbers[0] ?? "919999999999",
        baseUrl: served.url
      })).pipe(Effect.mapError(configProblem))
    }
    const layer = Option.match(target.baseUrl, {
      onNone: () => KaleyraNode.layerConfig,
      onSome: (baseUrl) => KaleyraNode.layerConfigWith({ baseUrl })
    })
    return yield* Layer.build(layer).pipe(Effect.mapError(configProblem))
  })

// ---------------------------------------------------------------------------------------------------------------
// Options shared by the commands
// ---------------------------------------------------------------------------------------------------------------

const optionalText = (name: string, description: string) =>
  Options.text(name).pipe(Options.withDescription(description), Options.optional)

const targetOptions = {
  simulator: Options.boolean("simulator").pipe(
    Options.withDescription(
      "Send to a Kaleyra simulator started for this run on 127.0.0.1 (nothing reaches WhatsApp; no credentials needed)"
    )
  ),
  baseUrl: optionalText(
    "base-url",
    "Send to this server (e.g. a running simulator), with the credentials from KALEYRA_SID, KALEYRA_API_KEY and " +
      "KALEYRA_SENDER_NUMBER"
  )
}

const mediaOptions = {
  link: optionalText("link", "The media's public http(s) URL (give --link or --id)"),
  id: optionalText("id", "The id of media uploaded to Kaleyra (give --link or --id)"),
  caption: optionalText("caption", "A caption (image, video and document only; at most 1024 characters)"),
  filename: optionalText("filename", "The file name shown to the recipient (document only)"),
  ref: optionalText("ref", "extra_info.ref, to correlate status callbacks (at most 255 characters)"),
  ref1: optionalText("ref1", "extra_info.ref1 (at most 255 characters)"),
  ref2: optionalText("ref2", "extra_info.ref2 (at most 255 characters)"),
  waSource: Options.choice("wa-source", MediaMessage.waSources).pipe(
    Options.withDescription("extra_info.wa_source"),
    Options.optional
  )
}

const takesCaption = (type: MediaMessage.MediaType): boolean =>
  type === "image" || type === "video" || type === "document"

// ---------------------------------------------------------------------------------------------------------------
// send-media
// ---------------------------------------------------------------------------------------------------------------

/** The message flags both commands take, and where to send. */
interface MessageFlags {
  readonly link: Option.Option<string>
  readonly id: Option.Option<string>
  readonly caption: Option.Option<string>
  readonly filename: Option.Option<string>
  readonly ref: Option.Option<string>
  readonly ref1: Option.Option<string>
  readonly ref2: Option.Option<string>
  readonly waSource: Option.Option<MediaMessage.WaSource>
  readonly simulator: boolean
  readonly baseUrl: Option.Option<string>
}

interface SendMediaOptions extends MessageFlags {
  readonly to: ReadonlyArray<string>
  readonly type: MediaMessage.MediaType
  readonly replyTo: Option.Option<string>
  readonly json: boolean
}

const sendMediaInput = (options: SendMediaOptions): Record<string, unknown> => {
  const media: Record<string, string> = {}
  const set = (target: Record<string, string>, key: string, value: Option.Option<string>) => {
    if (Option.isSome(value)) target[key] = value.value
  }
  set(media, "link", options.link)
  set(media, "id", options.id)
  set(media, "caption", options.caption)
  set(media, "filename", options.filename)
  const extraInfo: Record<string, string> = {}
  set(extraInfo, "ref", options.ref)
  set(extraInfo, "ref1", options.ref1)
  set(extraInfo, "ref2", options.ref2)
  set(extraInfo, "waSource", options.waSource)
  // `--to a,b` is the same as `--to a --to b`
  const to = options.to.flatMap((value) => value.split(",")).map((value) => value.trim()).filter((v) => v !== "")
  return {
    to,
    type: options.type,
    [options.type]: media,
    ...(Option.isSome(options.replyTo) ? { replyTo: options.replyTo.value } : {}),
    ...(Object.keys(extraInfo).length > 0 ? { extraInfo } : {})
  }
}

const runSendMedia = (options: SendMediaOptions) =>
  Effect.gen(function*() {
    const validated = MediaMessage.validate(sendMediaInput(options))
    if (Either.isLeft(validated)) {
      const error = validated.left
      if (options.json) yield* print(JSON.stringify({ ok: false, error: errorToJson(error) }))
      else yield* printError(`kaleyra-wa send-media: ${describeError(error)}`)
      return exitCodes.badInput
    }
    const outcome = yield* Effect.scoped(
      Effect.flatMap(acquireClient(options), (context) =>
        sendMedia(CsvCampaign.toInput(validated.right)).pipe(Effect.either, Effect.provide(context)))
    )
    if (Either.isRight(outcome)) {
      const result = outcome.right
      if (options.json) {
        yield* print(JSON.stringify(resultToJson(result)))
      } else {
        yield* print(
          `Sent ${result.type} to ${result.recipients.join(", ")}: message id ${result.messageId}` +
            (result.attempts > 1 ? ` (${result.attempts} attempts)` : "")
        )
      }
      return exitCodes.ok
    }
    const error = outcome.left
    if (options.json) {
      yield* print(JSON.stringify({ ok: false, error: errorToJson(error) }))
    } else yield* printError(`kaleyra-wa send-media: ${error._tag}: ${describeError(error)}`)
    return error._tag === "InvalidMessage" ? exitCodes.badInput : exitCodes.failed
  }).pipe(
    Effect.catchTag("Problem", (p) =>
      Effect.as(
        options.json
          ? print(JSON.stringify({ ok: false, error: { _tag: p.tag, message: p.message } }))
          : printError(`kaleyra-wa send-media: ${p.message}`),
        p.code
      )),
    Effect.flatMap(exit)
  )

/**
 * `kaleyra-wa send-media`: sends one media message.
 *
 * @since 0.1.0
 * @category commands
 */
export const sendMediaCommand = Command.make("send-media", {
  to: Options.text("to").pipe(
    Options.withDescription("A recipient in E.164 (+919876543210); repeat the flag, or separate with commas"),
    Options.atLeast(1)
  ),
  type: Options.choice("type", MediaMessage.mediaTypes).pipe(Options.withDescription("The media type")),
  ...mediaOptions,
  replyTo: optionalText("reply-to", "Send as a reply to this message id"),
  json: Options.boolean("json").pipe(Options.withDescription("Print one JSON object on stdout")),
  ...targetOptions
}, runSendMedia).pipe(Command.withDescription("Send one media message to one or more recipients"))

// ---------------------------------------------------------------------------------------------------------------
// campaign
// ---------------------------------------------------------------------------------------------------------------

interface CampaignOptions extends MessageFlags {
  readonly csv: string
  readonly type: Option.Option<MediaMessage.MediaType>
  readonly concurrency: number
  readonly rate: number
  readonly out: Option.Option<string>
  readonly unordered: boolean
}

/**
 * Runs `body` with a `stop` signal that completes when the fiber running it is interrupted (Ctrl-C): the body then
 * finishes on its own (a campaign stops starting sends, waits for the sends in flight and writes its results)
 * before the interruption goes on.
 */
const stoppable = <A, E, R>(body: (stop: Effect.Effect<void>) => Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const stop = yield* Deferred.make<void>()
    // A daemon: interrupting a fiber interrupts its children at once, and the body must outlive the interruption
    // (it is always awaited below, so it never outlives this effect).
    const fiber = yield* Effect.forkDaemon(body(Deferred.await(stop)))
    return yield* Fiber.join(fiber).pipe(
      Effect.onInterrupt(() =>
        printError("\nStopping: no new message is sent; waiting for the sends in flight...").pipe(
          Effect.zipRight(Deferred.succeed(stop, undefined)),
          Effect.zipRight(Fiber.await(fiber))
        )
      )
    )
  })

const describeFailures = (summary: BatchSummary): string => {
  const tags = Object.entries(summary.failures).sort(([, a], [, b]) => b - a)
  return tags.length === 0 ? "" : ` (${tags.map(([tag, n]) => `${tag}: ${n}`).join(", ")})`
}

const readCampaign = (options: CampaignOptions) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const bytes = yield* fs.readFile(options.csv).pipe(
      Effect.mapError((error) =>
        new Problem({
          code: exitCodes.badInput,
          tag: "CsvError",
          message: `cannot read ${options.csv}: ${describePlatformError(error)}`
        })
      )
    )
    let text: string
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(bytes)
    } catch {
      return yield* problem(exitCodes.badInput, "CsvError", `${options.csv} is not UTF-8 text`)
    }
    const defaults: CsvCampaign.Defaults = {
      type: Option.getOrUndefined(options.type),
      link: Option.getOrUndefined(options.link),
      id: Option.getOrUndefined(options.id),
      caption: Option.getOrUndefined(options.caption),
      filename: Option.getOrUndefined(options.filename),
      ref: Option.getOrUndefined(options.ref),
      ref1: Option.getOrUndefined(options.ref1),
      ref2: Option.getOrUndefined(options.ref2),
      waSource: Option.getOrUndefined(options.waSource)
    }
    const read = CsvCampaign.read(text, defaults)
    if (Either.isLeft(read)) return yield* problem(exitCodes.badInput, "CsvError", `${options.csv}: ${read.left}`)
    const campaign = read.right
    if (campaign.ignoredColumns.length > 0) {
      yield* printError(
        `Note: ignoring the column${campaign.ignoredColumns.length === 1 ? "" : "s"} ${
          campaign.ignoredColumns.join(", ")
        } (campaign columns: ${CsvCampaign.columns.join(", ")}).`
      )
    }
    if (campaign.problems.length > 0) {
      const lines = campaign.problems.map((p) => `  line ${p.line}: ${p.message}`)
      yield* printError(
        `${options.csv}: ${plural(campaign.problems.length, "row")} cannot be sent, so nothing was sent. ` +
          `Fix ${campaign.problems.length === 1 ? "it" : "them"} and run again:\n${lines.join("\n")}`
      )
      return yield* Effect.fail(new CliExit({ code: exitCodes.badInput }))
    }
    const rows = campaign.rows
    if (
      defaults.caption !== undefined &&
      !rows.some((row) => row.message.type !== "template" && takesCaption(row.message.type))
    ) {
      return yield* usage("--caption: no row is an image, video or document (audio and stickers take no caption)")
    }
    if (defaults.filename !== undefined && !rows.some((row) => row.message.type === "document")) {
      return yield* usage("--filename: no row is a document")
    }
    if (campaign.duplicates.length > 0) {
      const shown = campaign.duplicates.slice(0, 5).map((d) => `${d.to} (lines ${d.lines.join(", ")})`)
      yield* printError(
        `Note: ${plural(campaign.duplicates.length, "recipient")} appear on more than one row and receive one ` +
          `message per row: ${shown.join(", ")}${campaign.duplicates.length > 5 ? ", ..." : ""}.`
      )
    }
    return campaign
  })

const sendCampaign = (
  options: CampaignOptions,
  campaign: CsvCampaign.Campaign,
  outPath: string,
  stop: Effect.Effect<void>
) =>
  Effect.gen(function*() {
    const output = yield* CliOutput
    const fs = yield* FileSystem.FileSystem
    const context = yield* acquireClient(options)
    const file = yield* fs.open(outPath, { flag: "w" }).pipe(
      Effect.mapError((error) =>
        new Problem({
          code: exitCodes.badInput,
          tag: "OutputError",
          message: `cannot write ${outPath}: ${describePlatformError(error)}`
        })
      )
    )
    const writeFailed = (error: PlatformError.PlatformError) =>
      new Problem({
        code: exitCodes.failed,
        tag: "OutputError",
        message: `could not write ${outPath}: ${describePlatformError(error)}`
      })
    const encoder = new TextEncoder()
    yield* file.writeAll(encoder.encode(CsvCampaign.resultsHeader)).pipe(Effect.mapError(writeFailed))

    const rows = campaign.rows
    const total = rows.length
    let summary = emptySummary
    // why the batch stopped starting sends, if it did
    let stoppedBecause: NotAttemptedReason | undefined
    const started = yield* Clock.currentTimeMillis
    const progress = Effect.map(Clock.currentTimeMillis, (now) => {
      const done = summary.sent + summary.failed + summary.notAttempted
      const rate = done / Math.max((now - started) / 1000, 0.001)
      return `${done}/${total} done: ${summary.sent} sent, ${summary.failed} failed` +
        (summary.notAttempted > 0 ? `, ${summary.notAttempted} not attempted` : "") +
        `, ${rate.toFixed(1)}/s`
    })
    const tty = output.stderrIsTTY
    const ticker = yield* Effect.forkScoped(Effect.forever(
      Effect.sleep(tty ? "200 millis" : "1 second").pipe(
        Effect.zipRight(progress),
        Effect.flatMap((line) => output.stderr(tty ? `\r${line}\x1b[K` : `${line}\n`))
      )
    ))

    yield* printError(
      `Sending ${plural(total, "message")} (concurrency ${options.concurrency}, ` +
        `${options.rate === 0 ? "no rate limit" : `at most ${options.rate}/s`}); results in ${outPath}`
    )
    yield* sendMediaBatch(rows.map((row) => CsvCampaign.toInput(row.message)), {
      concurrency: options.concurrency,
      rateLimit: options.rate === 0 ? false : { limit: options.rate },
      ordered: !options.unordered,
      stop
    }).pipe(
      Stream.map((result) => {
        summary = summarize(summary, result)
        if (result._tag === "NotAttempted") stoppedBecause ??= result.reason
        return CsvCampaign.formatResult(rows[result.index], result)
      }),
      Stream.runForEachChunk((chunk) =>
        // an empty chunk (which a stream may emit) has nothing to write: writeAll would fail on 0 bytes written
        Chunk.isEmpty(chunk) ? Effect.void : file.writeAll(encoder.encode(Chunk.toReadonlyArray(chunk).join(""))).pipe(
          Effect.mapError(writeFailed)
        )
      ),
      Effect.provide(context)
    )
    yield* Fiber.interrupt(ticker)
    const last = yield* progress
    yield* output.stderr(tty ? `\r${last}\x1b[K\n` : `${last}\n`)

    const elapsed = ((yield* Clock.currentTimeMillis) - started) / 1000
    if (stoppedBecause !== undefined) {
      const retryAfter = stoppedBecause._tag === "RateLimited" ? stoppedBecause.error.retryAfter : undefined
      yield* printError(
        (retryAfter === undefined ?
          "Stopped: " :
          `Stopped: Kaleyra answered 429 asking to wait ${
            Duration.format(retryAfter)
          } (Retry-After), longer than the client waits (maxRetryAfter). `) +
          `${plural(summary.notAttempted, "row")} were not attempted (status NotAttempted in the results): ` +
          "they were not sent and are safe to send again."
      )
    }
    yield* print(
      `${plural(total, "row")}: ${summary.sent} sent, ${summary.failed} failed${describeFailures(summary)}` +
        (summary.notAttempted > 0 ? `, ${summary.notAttempted} not attempted` : "") +
        ` in ${elapsed.toFixed(1)} s.\nResults: ${outPath}`
    )
    return summary.failed + summary.notAttempted > 0 ? exitCodes.failed : exitCodes.ok
  }).pipe(Effect.scoped)

const runCampaign = (options: CampaignOptions) =>
  Effect.gen(function*() {
    if (!Number.isSafeInteger(options.concurrency) || options.concurrency < 1 || options.concurrency > 1024) {
      return yield* usage("--concurrency must be a whole number from 1 to 1024")
    }
    if (!Number.isSafeInteger(options.rate) || options.rate < 0) {
      return yield* usage("--rate must be a whole number of messages per second (0: no limit)")
    }
    if (Option.isSome(options.link) && Option.isSome(options.id)) return yield* usage("give --link or --id, not both")
    if (options.simulator && Option.isSome(options.baseUrl)) {
      return yield* usage("give --simulator or --base-url, not both")
    }
    const campaign = yield* readCampaign(options)
    const path = yield* Path.Path
    const outPath = Option.getOrElse(options.out, () => CsvCampaign.defaultResultsPath(options.csv))
    if (path.resolve(outPath) === path.resolve(options.csv)) {
      return yield* usage("--out must not be the input file")
    }
    return yield* stoppable((stop) => sendCampaign(options, campaign, outPath, stop))
  }).pipe(
    Effect.catchTag("Problem", (p) => Effect.as(printError(`kaleyra-wa campaign: ${p.message}`), p.code)),
    Effect.flatMap(exit)
  )

/**
 * `kaleyra-wa campaign`: sends one media message per row of a CSV file.
 *
 * @since 0.1.0
 * @category commands
 */
export const campaignCommand = Command.make("campaign", {
  csv: Options.file("csv").pipe(
    Options.withDescription(
      "The recipients: a CSV file with a header row and a to column; the columns type, link, id, caption, " +
        "filename, ref, ref1, ref2, reply_to and wa_source override the flags for their row"
    )
  ),
  type: Options.choice("type", MediaMessage.mediaTypes).pipe(
    Options.withDescription("The media type of the rows without a type"),
    Options.optional
  ),
  ...mediaOptions,
  concurrency: Options.integer("concurrency").pipe(
    Options.withDescription("How many sends run at once"),
    Options.withDefault(16)
  ),
  rate: Options.integer("rate").pipe(
    Options.withDescription("At most this many sends per second (0: no limit)"),
    Options.withDefault(80)
  ),
  out: Options.file("out").pipe(
    Options.withDescription("The results CSV (default: <csv without .csv>.results.csv)"),
    Options.optional
  ),
  unordered: Options.boolean("unordered").pipe(
    Options.withDescription(
      "Write each result as its send completes (the line column names the row), so that a slow send does not " +
        "hold back the others; by default results are in file order"
    )
  ),
  ...targetOptions
}, runCampaign).pipe(Command.withDescription("Send one media message per row of a CSV file"))

// ---------------------------------------------------------------------------------------------------------------
// kaleyra-wa
// ---------------------------------------------------------------------------------------------------------------

/**
 * The `kaleyra-wa` command and its subcommands `send-media` and `campaign`.
 *
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make(
  "kaleyra-wa",
  {},
  () =>
    printError("kaleyra-wa: choose a command: send-media or campaign (see kaleyra-wa --help)").pipe(
      Effect.zipRight(exit(exitCodes.badInput))
    )
).pipe(
  Command.withDescription("Send WhatsApp media messages through Kaleyra"),
  Command.withSubcommands([sendMediaCommand, campaignCommand])
)

const cli = Command.run(command, { name: "kaleyra-wa", version })

const environment = Layer.mergeAll(NodeFileSystem.layer, NodePath.layer, NodeTerminal.layer)

const consoleOf = (output: Output, base: Console.Console): Console.Console => ({
  ...base,
  log: (...args: ReadonlyArray<unknown>) => output.stdout(format(...args) + "\n"),
  info: (...args: ReadonlyArray<unknown>) => output.stdout(format(...args) + "\n"),
  warn: (...args: ReadonlyArray<unknown>) => output.stderr(format(...args) + "\n"),
  error: (...args: ReadonlyArray<unknown>) => output.stderr(format(...args) + "\n")
})

/**
 * Runs the CLI with these arguments (without the `node` and script paths: `process.argv.slice(2)`) and returns
 * its exit code ({@link exitCodes}). Everything it opens (files, the simulator, HTTP connections) is closed when it
 * returns. Interrupting it stops a campaign gracefully.
 *
 * @since 0.1.0
 * @category running
 */
export const run = (args: ReadonlyArray<string>): Effect.Effect<number, never, CliOutput> =>
  Effect.flatMap(CliOutput, (output) =>
    Console.consoleWith((base) =>
      cli(["node", "kaleyra-wa", ...args]).pipe(
        Effect.as(exitCodes.ok as number),
        Effect.catchAll((error) =>
          Effect.succeed(ValidationError.isValidationError(error) ? exitCodes.badInput : error.code)
        ),
        Effect.provide(environment),
        Console.withConsole(consoleOf(output, base))
      )
    ))
