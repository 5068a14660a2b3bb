/**
 * What the `kaleyra-wa` commands share: output, exit codes, problems, the client for a run, common flags.
 */
import type { SendMediaResult } from "@effect-kaleyra/core/KaleyraClient"
import type { KaleyraClient } from "@effect-kaleyra/core/KaleyraClient"
import type { SendMediaError } from "@effect-kaleyra/core/KaleyraError"
import * as MediaMessage from "@effect-kaleyra/core/MediaMessage"
import * as KaleyraNode from "@effect-kaleyra/node/KaleyraNode"
import type { CallbackOptions, Simulator } from "@effect-kaleyra/testing/KaleyraSimulator"
import * as SimulatorServer from "@effect-kaleyra/testing/SimulatorServer"
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as Options from "@effect/cli/Options"
import * as ValidationError from "@effect/cli/ValidationError"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"

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
export class CliOutput extends Context.Tag("@effect-kaleyra/cli/Cli/CliOutput")<CliOutput, Output>() {}

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
export class Problem extends Data.TaggedError("Problem")<{
  readonly code: number
  readonly tag: string
  readonly message: string
}> {}

export const problem = (code: number, tag: string, message: string): Effect.Effect<never, Problem> =>
  Effect.fail(new Problem({ code, tag, message }))

export const usage = (message: string): Effect.Effect<never, Problem> =>
  problem(exitCodes.badInput, "UsageError", message)

export const print = (text: string): Effect.Effect<void, never, CliOutput> =>
  Effect.flatMap(CliOutput, (output) => output.stdout(text + "\n"))

export const printError = (text: string): Effect.Effect<void, never, CliOutput> =>
  Effect.flatMap(CliOutput, (output) => output.stderr(text + "\n"))

export const exit = (code: number): Effect.Effect<void, CliExit> =>
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

export const resultToJson = (result: SendMediaResult): Record<string, unknown> => ({
  ok: true,
  messageId: result.messageId,
  recipients: result.recipients,
  type: result.type,
  status: result.status,
  ...(result.code !== undefined ? { code: result.code } : {}),
  attempts: result.attempts
})

export const describeError = (error: SendMediaError): string => {
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

export const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`

// ---------------------------------------------------------------------------------------------------------------
// Where messages go
// ---------------------------------------------------------------------------------------------------------------

/**
 * Where the messages go, parsed once from `--simulator` and `--base-url`: a simulator served for the run, a server
 * at a URL (credentials from the environment), or Kaleyra as the environment configures it.
 */
export type Target = Data.TaggedEnum<{
  Simulator: {}
  Server: { readonly baseUrl: string }
  Configured: {}
}>

export const Target = Data.taggedEnum<Target>()

/** Where a simulator started with `--simulator` sends its status callbacks, if anywhere. */
export interface SimulatorCallbacks {
  readonly callbacks?: CallbackOptions | undefined
  /** Called with the simulator once it is served (to wait for its callbacks at the end of a run). */
  readonly onServed?: ((simulator: Simulator) => void) | undefined
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
export const acquireClient = (
  target: Target,
  simulatorOptions: SimulatorCallbacks = {}
): Effect.Effect<Context.Context<KaleyraClient>, Problem, Scope.Scope | CliOutput> =>
  Effect.gen(function*() {
    if (target._tag === "Simulator") {
      const served = yield* SimulatorServer.serve(
        simulatorOptions.callbacks === undefined ? {} : { simulator: { callbacks: simulatorOptions.callbacks } }
      ).pipe(
        Effect.mapError((error) =>
          new Problem({
            code: exitCodes.failed,
            tag: error._tag,
            message: `could not start the simulator: ${error.message}`
          })
        )
      )
      simulatorOptions.onServed?.(served.simulator)
      yield* printError(`Using a local Kaleyra simulator at ${served.url}: nothing is sent to WhatsApp.`)
      const { options } = served.simulator
      return yield* Layer.build(KaleyraNode.layer({
        sid: options.sid,
        apiKey: Redacted.make(options.apiKey),
        senderNumber: options.senderNumbers[0] ?? "919999999999",
        baseUrl: served.url
      })).pipe(Effect.mapError(configProblem))
    }
    const layer = target._tag === "Server"
      ? KaleyraNode.layerConfigWith({ baseUrl: target.baseUrl })
      : KaleyraNode.layerConfig
    return yield* Layer.build(layer).pipe(Effect.mapError(configProblem))
  })

// ---------------------------------------------------------------------------------------------------------------
// Options shared by the commands
// ---------------------------------------------------------------------------------------------------------------

export const optionalText = (name: string, description: string) =>
  Options.text(name).pipe(Options.withDescription(description), Options.optional)

/** `--simulator` and `--base-url` as one {@link Target}: giving both is a flag error, like any other. */
export const targetOption: Options.Options<Target> = Options.all({
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
}).pipe(
  Options.mapEffect(({ baseUrl, simulator }) =>
    simulator && Option.isSome(baseUrl)
      ? Effect.fail(ValidationError.invalidValue(HelpDoc.p("give --simulator or --base-url, not both")))
      : Effect.succeed(
        simulator
          ? Target.Simulator()
          : Option.match(baseUrl, {
            onNone: () => Target.Configured(),
            onSome: (url) => Target.Server({ baseUrl: url })
          })
      )
  )
)

export const mediaOptions = {
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

/** The message flags both commands take, and where to send. */
export interface MessageFlags {
  readonly link: Option.Option<string>
  readonly id: Option.Option<string>
  readonly caption: Option.Option<string>
  readonly filename: Option.Option<string>
  readonly ref: Option.Option<string>
  readonly ref1: Option.Option<string>
  readonly ref2: Option.Option<string>
  readonly waSource: Option.Option<MediaMessage.WaSource>
  readonly target: Target
}

export const takesCaption = (type: MediaMessage.MediaType): boolean =>
  type === "image" || type === "video" || type === "document"

/**
 * Runs `body` with a `stop` signal that completes when the fiber running it is interrupted (Ctrl-C): the body then
 * finishes on its own (a campaign stops starting sends, waits for the sends in flight and writes its results)
 * before the interruption goes on.
 */
export const stoppable = <A, E, R>(body: (stop: Effect.Effect<void>) => Effect.Effect<A, E, R>) =>
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
