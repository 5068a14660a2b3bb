/**
 * The `kaleyra-wa` command line (`@effect/cli`):
 *
 * - `kaleyra-wa send-media --to <number> --type image --link <url> [--caption ...] [--json]`: one message;
 * - `kaleyra-wa campaign run|status|report|resend|worker`: durable campaigns, one message per row of a CSV file,
 *   on a ledger (a SQLite file with `--db`, or PostgreSQL with `--database-url`): see `CampaignCli`;
 * - `kaleyra-wa callbacks --db FILE --port N`: the callback receiver, recording delivery statuses into the ledger.
 *
 * Where it sends: `--simulator` serves the Kaleyra simulator on `127.0.0.1` for the run; `--base-url <url>` sends to
 * that server with the credentials from `KALEYRA_SID`, `KALEYRA_API_KEY` and `KALEYRA_SENDER_NUMBER`; otherwise
 * `KaleyraNode.layerConfig` (those variables, plus optionally `KALEYRA_REGION` or `KALEYRA_BASE_URL`). The two flags
 * are parsed once into where to send (both together are a flag error, exit 2).
 *
 * Exit codes ({@link exitCodes}): 0 every message was sent, 1 some failed (or were not sent), 2 bad input (flags,
 * configuration, CSV rows: nothing was sent), 130 interrupted. Output goes through the {@link CliOutput} service so
 * that tests (and programs embedding the CLI) can capture it; the API key is never printed.
 *
 * @since 0.1.0
 */
import { sendMedia } from "@effect-kaleyra/core/KaleyraClient"
import * as MediaMessage from "@effect-kaleyra/core/MediaMessage"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as ValidationError from "@effect/cli/ValidationError"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import * as NodeTerminal from "@effect/platform-node/NodeTerminal"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { format } from "node:util"
import * as CampaignCli from "./CampaignCli.js"
import * as CsvCampaign from "./CsvCampaign.js"
import * as internal from "./internal/cli.js"
import {
  acquireClient,
  describeError,
  errorToJson,
  exit,
  mediaOptions,
  type MessageFlags,
  optionalText,
  print,
  printError,
  resultToJson,
  targetOption,
  usage
} from "./internal/cli.js"

// ---------------------------------------------------------------------------------------------------------------
// Output and exit codes
// ---------------------------------------------------------------------------------------------------------------

/**
 * The CLI's version (shown by `--version`).
 *
 * @since 0.1.0
 * @category constants
 */
export const version: string = internal.version

/**
 * The exit codes: 0 every message was sent; 1 some failed, are `Ambiguous` or are still `Pending` (paused or
 * stopped); 2 bad input (flags, configuration, a CSV file or row, a ledger that refuses: nothing was sent); 130
 * interrupted (Ctrl-C: the sends in flight finish and are recorded).
 *
 * @since 0.1.0
 * @category constants
 */
export const exitCodes: typeof internal.exitCodes = internal.exitCodes

/**
 * Where the CLI writes: standard output (results, `--json`), standard error (progress, diagnostics), and whether
 * standard error is a terminal (the progress line is then redrawn in place).
 *
 * @since 0.1.0
 * @category models
 */
export type Output = internal.Output

/**
 * The CLI's output, as a service. `@effect/cli`'s own messages (help, flag errors) are routed to it too.
 *
 * @since 0.1.0
 * @category services
 */
export const CliOutput: typeof internal.CliOutput = internal.CliOutput

/**
 * The type of the {@link CliOutput} tag.
 *
 * @since 0.1.0
 * @category services
 */
export type CliOutput = internal.CliOutput

/**
 * {@link CliOutput} on two streams. Colours and styles (which `@effect/cli` writes in its help and flag errors) are
 * kept only on a terminal, and never when `NO_COLOR` is set (https://no-color.org): a file or a pipe gets plain text.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerOutput: typeof internal.layerOutput = internal.layerOutput

/**
 * {@link CliOutput} on the process's `stdout` and `stderr` (see {@link layerOutput}).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerProcessOutput: typeof internal.layerProcessOutput = internal.layerProcessOutput

/**
 * How a command ends when it does not end with 0: the exit code (its diagnostics are already printed).
 *
 * @since 0.1.0
 * @category errors
 */
export const CliExit: typeof internal.CliExit = internal.CliExit

/**
 * The type of a {@link CliExit} error.
 *
 * @since 0.1.0
 * @category errors
 */
export type CliExit = internal.CliExit

export {
  /**
   * An error as a JSON-ready object: `_tag`, `message`, and the error's own fields (a `Duration` becomes
   * `<field>Millis`; `UnexpectedResponse` adds `accepted`). Errors never hold the API key.
   *
   * @since 0.1.0
   * @category formatting
   */
  errorToJson
}

// ---------------------------------------------------------------------------------------------------------------
// send-media
// ---------------------------------------------------------------------------------------------------------------

interface SendMediaOptions extends MessageFlags {
  readonly to: ReadonlyArray<string>
  readonly type: MediaMessage.MessageType
  readonly template: Option.Option<string>
  readonly language: string
  readonly header: Option.Option<"image" | "video" | "document">
  readonly body: ReadonlyArray<string>
  readonly replyTo: Option.Option<string>
  readonly json: boolean
}

/**
 * The template of `--type template` (`--template`, `--language`, `--header` with the media of `--link` or `--id`
 * and `--filename`, `--body` in order), or why the flags cannot make one: a flag that a template has no place for is
 * refused rather than dropped.
 */
const templateInput = (
  options: SendMediaOptions,
  common: { readonly to: Array<string>; readonly replyTo?: string; readonly extraInfo?: MediaMessage.ExtraInfo }
): Either.Either<Record<string, unknown>, string> => {
  if (Option.isSome(options.caption)) return Either.left("--caption: a template has no caption (its body has the text)")
  const source = Option.isSome(options.id)
    ? { id: options.id.value }
    : Option.isSome(options.link)
    ? { link: options.link.value }
    : undefined
  if (Option.isNone(options.header)) {
    if (source !== undefined) return Either.left("--link/--id: give --header image, video or document for the media")
    if (Option.isSome(options.filename)) return Either.left("--filename: only with --header document")
  } else if (Option.isSome(options.filename) && options.header.value !== "document") {
    return Either.left("--filename: only with --header document")
  }
  const media = source === undefined ? {} : Option.isSome(options.id) && Option.isSome(options.link)
    ? { id: options.id.value, link: options.link.value } // both: validation refuses it, naming the field
    : source
  const header = Option.isNone(options.header) ? undefined : options.header.value === "document"
    ? { document: Option.isSome(options.filename) ? { ...media, filename: options.filename.value } : media }
    : { [options.header.value]: media }
  return Either.right({
    ...MediaMessage.template({
      // an empty list is refused by validation, naming `to`
      to: common.to as unknown as MediaMessage.RecipientsInput,
      name: Option.getOrElse(options.template, () => ""),
      language: options.language,
      ...(header !== undefined ? { header: header as MediaMessage.TemplateHeader } : {}),
      ...(options.body.length > 0 ? { body: options.body } : {})
    }),
    ...(common.replyTo !== undefined ? { replyTo: common.replyTo } : {}),
    ...(common.extraInfo !== undefined ? { extraInfo: common.extraInfo } : {})
  })
}

const sendMediaInput = (options: SendMediaOptions): Either.Either<Record<string, unknown>, string> => {
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
  const common = {
    to,
    ...(Option.isSome(options.replyTo) ? { replyTo: options.replyTo.value } : {}),
    ...(Object.keys(extraInfo).length > 0 ? { extraInfo } : {})
  }
  if (options.type === "template") return templateInput(options, common)
  if (Option.isSome(options.template) || Option.isSome(options.header) || options.body.length > 0) {
    return Either.left("--template, --header and --body go with --type template")
  }
  return Either.right({ ...common, type: options.type, [options.type]: media })
}

const runSendMedia = (options: SendMediaOptions) =>
  Effect.gen(function*() {
    const input = sendMediaInput(options)
    if (Either.isLeft(input)) return yield* usage(input.left)
    const validated = MediaMessage.validate(input.right)
    if (Either.isLeft(validated)) {
      const error = validated.left
      if (options.json) yield* print(JSON.stringify({ ok: false, error: errorToJson(error) }))
      else yield* printError(`kaleyra-wa send-media: ${describeError(error)}`)
      return exitCodes.badInput
    }
    const outcome = yield* Effect.scoped(
      Effect.flatMap(acquireClient(options.target), (context) =>
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
  type: Options.choice("type", MediaMessage.messageTypes).pipe(
    Options.withDescription("The media type, or template (a template message: see --template)")
  ),
  ...mediaOptions,
  template: optionalText("template", "With --type template: the approved template's name"),
  language: Options.text("language").pipe(
    Options.withDescription("With --type template: the template's language code"),
    Options.withDefault("en_US")
  ),
  header: Options.choice("header", ["image", "video", "document"] as const).pipe(
    Options.withDescription("With --type template: the header's media type (its media from --link or --id)"),
    Options.optional
  ),
  body: Options.text("body").pipe(
    Options.withDescription("With --type template: the body's parameters in order (repeat the flag)"),
    Options.repeated
  ),
  replyTo: optionalText("reply-to", "Send as a reply to this message id"),
  json: Options.boolean("json").pipe(Options.withDescription("Print one JSON object on stdout")),
  target: targetOption
}, runSendMedia).pipe(Command.withDescription("Send one media message to one or more recipients"))

// ---------------------------------------------------------------------------------------------------------------
// campaign
// ---------------------------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------------------------
// kaleyra-wa
// ---------------------------------------------------------------------------------------------------------------

/**
 * The `kaleyra-wa` command and its subcommands `send-media`, `campaign` (`run`, `status`, `report`, `resend`,
 * `worker`) and `callbacks`.
 *
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make(
  "kaleyra-wa",
  {},
  () =>
    printError("kaleyra-wa: choose a command: send-media, campaign or callbacks (see kaleyra-wa --help)").pipe(
      Effect.zipRight(exit(exitCodes.badInput))
    )
).pipe(
  Command.withDescription("Send WhatsApp media messages through Kaleyra"),
  Command.withSubcommands([sendMediaCommand, CampaignCli.command, CampaignCli.callbacksCommand])
)

const cli = Command.run(command, { name: "kaleyra-wa", version })

const environment = Layer.mergeAll(NodeFileSystem.layer, NodePath.layer, NodeTerminal.layer)

const consoleOf = (output: internal.Output, base: Console.Console): Console.Console => ({
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
