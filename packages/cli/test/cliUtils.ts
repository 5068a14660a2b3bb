import type { SentMessage } from "@effect-kaleyra/testing/KaleyraSimulator"
import * as SimulatorServer from "@effect-kaleyra/testing/SimulatorServer"
import { assert } from "@effect/vitest"
import { ConfigProvider, Effect } from "effect"
import { spawn } from "node:child_process"
import { readFile, writeFile } from "node:fs/promises"
import { fileURLToPath } from "node:url"
import { bundle } from "../../../scripts/bundle.mjs"
import { API_KEY, SENDER, SID, tempDir as utilsTempDir } from "../../node/test/utils.js"
import * as Cli from "../src/Cli.js"
import * as CsvCampaign from "../src/CsvCampaign.js"

export const credentials = { KALEYRA_SID: SID, KALEYRA_API_KEY: API_KEY, KALEYRA_SENDER_NUMBER: SENDER }

export interface Captured {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** Runs the CLI in this process, its output captured, with `env` as its only configuration. */
export const runCli = (
  args: ReadonlyArray<string>,
  env: Record<string, string> = {},
  options: { readonly tty?: boolean } = {}
) =>
  Effect.gen(function*() {
    const captured = { stdout: "", stderr: "" }
    const output = Cli.CliOutput.of({
      stdout: (text) =>
        Effect.sync(() => {
          captured.stdout += text
        }),
      stderr: (text) =>
        Effect.sync(() => {
          captured.stderr += text
        }),
      stderrIsTTY: options.tty === true
    })
    const code = yield* Cli.run(args).pipe(
      Effect.provideService(Cli.CliOutput, output),
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)), { pathDelim: "_" }))
    )
    return { code, ...captured } satisfies Captured
  })

const bin = fileURLToPath(new URL("../src/bin/kaleyra-wa.ts", import.meta.url))
const packageDir = fileURLToPath(new URL("..", import.meta.url))

/** The `kaleyra-wa` executable in a process of its own (its sources bundled: scripts/bundle.mjs), as a person runs it. */
export const spawnCli = (
  args: ReadonlyArray<string>,
  env: Record<string, string> = {},
  options: { readonly shellPrefix?: string } = {}
) =>
  Effect.map(Effect.promise(() => bundle(bin)), (script) => {
    const argv = [process.execPath, script, ...args]
    const quoted = argv.map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ")
    const child = options.shellPrefix === undefined
      ? spawn(argv[0], argv.slice(1), { cwd: packageDir, env: { ...process.env, NO_COLOR: "1", ...env } })
      : spawn("/bin/sh", ["-c", `${options.shellPrefix} exec ${quoted}`], {
        cwd: packageDir,
        env: { ...process.env, NO_COLOR: "1", ...env }
      })
    const captured = { stdout: "", stderr: "" }
    child.stdout.on("data", (chunk: Buffer) => (captured.stdout += chunk.toString("utf8")))
    child.stderr.on("data", (chunk: Buffer) => (captured.stderr += chunk.toString("utf8")))
    const done = new Promise<Captured & { readonly signal: NodeJS.Signals | null }>((resolve) =>
      child.on("close", (code, signal) => resolve({ code: code ?? -1, signal, ...captured }))
    )
    return { child, captured, done: Effect.promise(() => done) }
  })

// ---------------------------------------------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------------------------------------------

/** A simulator on a loopback port with the test credentials. */
export const serve = (apiKey: string = API_KEY) =>
  SimulatorServer.serve({ simulator: { sid: SID, apiKey, senderNumbers: [SENDER] } })

export const tempDir = utilsTempDir("kaleyra-cli-")

export const write = (path: string, text: string) => Effect.promise(() => writeFile(path, text))

export const readRecords = (path: string) =>
  Effect.promise(() => readFile(path, "utf8")).pipe(Effect.map((text) => {
    const parsed = CsvCampaign.parse(text)
    assert.deepStrictEqual(parsed.problems, [])
    return parsed.records.map((record) => record.fields)
  }))

export const byRecipient = (sent: ReadonlyArray<SentMessage>): Map<string, SentMessage> => {
  const map = new Map<string, SentMessage>()
  for (const message of sent) map.set(message.recipients[0], message)
  return map
}

export const captionOf = (message: SentMessage): string | undefined => {
  const m = message.message
  if (m === undefined) return undefined
  switch (m.type) {
    case "image":
      return m.image.caption
    case "video":
      return m.video.caption
    case "document":
      return m.document.caption
    default:
      return undefined
  }
}

export const LINK = "https://example.com/offer.png"

/** `count` UK mobile numbers, one per campaign row. */
export const ukNumbers = (count: number) =>
  Array.from({ length: count }, (_, i) => `+4477009${String(i).padStart(5, "0")}`)

/** The results lines of a campaign whose rows (one number each, from line 2) were all sent. */
export const sentRows = (numbers: ReadonlyArray<string>, sent: Map<string, SentMessage>) =>
  numbers.map((to, i) => [String(i + 2), to, "Sent", sent.get(to)!.messageId, "", ""])
