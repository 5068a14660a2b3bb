import type { SentMessage } from "@effect-kaleyra/testing/KaleyraSimulator"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Exit, FastCheck, Fiber } from "effect"
import { existsSync } from "node:fs"
import { readFile, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { PassThrough } from "node:stream"
import * as Cli from "../src/Cli.js"
import * as CsvCampaign from "../src/CsvCampaign.js"
import { SimulatorServer } from "../src/index.js"
import { API_KEY, SENDER, SID, tempDir as utilsTempDir } from "./utils.js"

// ---------------------------------------------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------------------------------------------

interface Captured {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

const credentials = { KALEYRA_SID: SID, KALEYRA_API_KEY: API_KEY, KALEYRA_SENDER_NUMBER: SENDER }

/** Runs the CLI in this process, its output captured, with `env` as its only configuration. */
const runCli = (
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

/** A simulator on a loopback port with the test credentials. */
const serve = (apiKey: string = API_KEY) =>
  SimulatorServer.serve({ simulator: { sid: SID, apiKey, senderNumbers: [SENDER] } })

const tempDir = utilsTempDir("kaleyra-cli-")

const write = (path: string, text: string) => Effect.promise(() => writeFile(path, text))

const readRecords = (path: string) =>
  Effect.promise(() => readFile(path, "utf8")).pipe(Effect.map((text) => {
    const parsed = CsvCampaign.parse(text)
    assert.deepStrictEqual(parsed.problems, [])
    return parsed.records.map((record) => record.fields)
  }))

const byRecipient = (sent: ReadonlyArray<SentMessage>): Map<string, SentMessage> => {
  const map = new Map<string, SentMessage>()
  for (const message of sent) map.set(message.recipients[0], message)
  return map
}

const captionOf = (message: SentMessage): string | undefined => {
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

const LINK = "https://example.com/offer.png"

/** `count` UK mobile numbers, one per campaign row. */
const ukNumbers = (count: number) => Array.from({ length: count }, (_, i) => `+4477009${String(i).padStart(5, "0")}`)

/** The results lines of a campaign whose rows (one number each, from line 2) were all sent. */
const sentRows = (numbers: ReadonlyArray<string>, sent: Map<string, SentMessage>) =>
  numbers.map((to, i) => [String(i + 2), to, "Sent", sent.get(to)!.messageId, "", ""])

// ---------------------------------------------------------------------------------------------------------------
// send-media
// ---------------------------------------------------------------------------------------------------------------

describe("kaleyra-wa send-media", () => {
  it.scopedLive("--json: an image by link prints one JSON object with the message id and recipients", () =>
    Effect.gen(function*() {
      const { simulator, url } = yield* serve()
      const result = yield* runCli([
        "send-media",
        "--to",
        "+91 98765-43210",
        "--to",
        "+14155550123",
        "--type",
        "image",
        "--link",
        LINK,
        "--caption",
        "Offer, \"50%\" off",
        "--ref",
        "customer-1",
        "--wa-source",
        "api",
        "--json",
        "--base-url",
        url
      ], credentials)
      assert.strictEqual(result.code, 0, result.stderr)
      const sent = yield* simulator.sent
      assert.strictEqual(sent.length, 1)
      assert.deepStrictEqual(JSON.parse(result.stdout), {
        ok: true,
        messageId: sent[0].messageId,
        recipients: ["+919876543210", "+14155550123"],
        type: "image",
        status: 202,
        code: "WA202",
        attempts: 1
      })
      assert.strictEqual(result.stdout.trim().split("\n").length, 1)
      assert.strictEqual(captionOf(sent[0]), "Offer, \"50%\" off")
      assert.deepStrictEqual(sent[0].extraInfo, { ref: "customer-1", waSource: "api" })
      assert.notInclude(result.stdout + result.stderr, API_KEY)
    }))

  it.scopedLive("--json: a Kaleyra failure is {ok:false,error} with its tag and fields, exit 1", () =>
    Effect.gen(function*() {
      const { simulator, url } = yield* serve()
      yield* simulator.setScenario("+919876543210", "E110")
      const result = yield* runCli(
        ["send-media", "--to", "+919876543210", "--type", "audio", "--id", "1013859600285441", "--json"].concat(
          ["--base-url", url]
        ),
        credentials
      )
      assert.strictEqual(result.code, 1)
      const json = JSON.parse(result.stdout)
      assert.strictEqual(json.ok, false)
      assert.strictEqual(json.error._tag, "LowBalance")
      assert.strictEqual(json.error.code, "E110")
      assert.strictEqual(json.error.status, 400)
      assert.isString(json.error.message)
      assert.strictEqual((yield* simulator.sent).length, 0)
    }))

  it.scopedLive("a human line on stdout without --json; a failure on stderr", () =>
    Effect.gen(function*() {
      const { simulator, url } = yield* serve()
      const ok = yield* runCli(
        ["send-media", "--to", "+919876543210,+447700900123", "--type", "document", "--id", "1376223850470843"].concat(
          ["--filename", "invoice.pdf", "--base-url", url]
        ),
        credentials
      )
      assert.strictEqual(ok.code, 0, ok.stderr)
      const sent = yield* simulator.sent
      assert.strictEqual(
        ok.stdout,
        `Sent document to +919876543210, +447700900123: message id ${sent[0].messageId}\n`
      )
      yield* simulator.failNext("WA400")
      const failed = yield* runCli(
        ["send-media", "--to", "+919876543210", "--type", "sticker", "--link", LINK, "--base-url", url],
        credentials
      )
      assert.strictEqual(failed.code, 1)
      assert.strictEqual(failed.stdout, "")
      assert.include(failed.stderr, "IncorrectPayload")
      assert.include(failed.stderr, "WA400")
    }))

  it.scopedLive("invalid input: exit 2, the failing fields, and no request", () =>
    Effect.gen(function*() {
      const { simulator, url } = yield* serve()
      const badLink = yield* runCli(
        ["send-media", "--to", "+919876543210", "--type", "image", "--link", "ftp://example.com/a.png", "--json"]
          .concat(["--base-url", url]),
        credentials
      )
      assert.strictEqual(badLink.code, 2)
      const json = JSON.parse(badLink.stdout)
      assert.strictEqual(json.ok, false)
      assert.strictEqual(json.error._tag, "InvalidMessage")
      assert.strictEqual(json.error.field, "image.link")

      const both = yield* runCli(
        ["send-media", "--to", "+919876543210", "--type", "audio", "--link", LINK, "--id", "1", "--base-url", url],
        credentials
      )
      assert.strictEqual(both.code, 2)
      assert.include(both.stderr, "nothing was sent")

      const captionOnAudio = yield* runCli(
        ["send-media", "--to", "+919876543210", "--type", "audio", "--link", LINK, "--caption", "x", "--base-url", url],
        credentials
      )
      assert.strictEqual(captionOnAudio.code, 2)
      assert.include(captionOnAudio.stderr, "audio.caption")

      const badNumber = yield* runCli(
        ["send-media", "--to", "12345", "--type", "image", "--link", LINK, "--base-url", url],
        credentials
      )
      assert.strictEqual(badNumber.code, 2)
      assert.strictEqual((yield* simulator.requests).length, 0)
    }))

  it.scopedLive("--simulator: serves a simulator for the run, no credentials needed", () =>
    Effect.gen(function*() {
      const result = yield* runCli(["send-media", "--to", "+919876543210", "--type", "video", "--link", LINK, "--json"]
        .concat(["--simulator"]))
      assert.strictEqual(result.code, 0, result.stderr)
      const json = JSON.parse(result.stdout)
      assert.strictEqual(json.ok, true)
      assert.match(json.messageId, /^wamid\.SIM/)
      assert.include(result.stderr, "simulator")
      const both = yield* runCli(
        ["send-media", "--to", "+919876543210", "--type", "video", "--link", LINK, "--simulator", "--base-url", "x"]
      )
      assert.strictEqual(both.code, 2)
    }))

  it.scopedLive("missing or invalid configuration: exit 2 naming the variables, never the key", () =>
    Effect.gen(function*() {
      const missing = yield* runCli(["send-media", "--to", "+919876543210", "--type", "image", "--link", LINK])
      assert.strictEqual(missing.code, 2)
      assert.include(missing.stderr, "KALEYRA_SID is not set")
      assert.include(missing.stderr, "KALEYRA_API_KEY is not set")
      assert.include(missing.stderr, "KALEYRA_SENDER_NUMBER is not set")
      assert.include(missing.stderr, "--simulator")

      const invalid = yield* runCli(
        ["send-media", "--to", "+919876543210", "--type", "image", "--link", LINK, "--json"],
        { ...credentials, KALEYRA_SENDER_NUMBER: "12" }
      )
      assert.strictEqual(invalid.code, 2)
      const json = JSON.parse(invalid.stdout)
      assert.strictEqual(json.error._tag, "ConfigError")
      assert.include(json.error.message, "KALEYRA_SENDER_NUMBER")
      assert.notInclude(invalid.stdout + invalid.stderr, API_KEY)

      // A key no header can carry (here a tab): refused before any send, naming the variable, not printing the key.
      const unsendable = yield* runCli(
        ["send-media", "--to", "+919876543210", "--type", "image", "--link", LINK, "--json"],
        { ...credentials, KALEYRA_API_KEY: `${API_KEY}\t` }
      )
      assert.strictEqual(unsendable.code, 2)
      const refused = JSON.parse(unsendable.stdout)
      assert.strictEqual(refused.error._tag, "ConfigError")
      assert.include(refused.error.message, "KALEYRA_API_KEY: must be")
      assert.notInclude(unsendable.stdout + unsendable.stderr, API_KEY)
    }))

  it.scopedLive("a wrong API key is IncorrectCredentials, and the key is never printed", () =>
    Effect.gen(function*() {
      const { url } = yield* serve("the-simulator-expects-another-key")
      for (const json of [true, false]) {
        const result = yield* runCli(
          ["send-media", "--to", "+919876543210", "--type", "image", "--link", LINK, "--base-url", url].concat(
            json ? ["--json"] : []
          ),
          credentials
        )
        assert.strictEqual(result.code, 1)
        assert.include(result.stdout + result.stderr, "IncorrectCredentials")
        assert.notInclude(result.stdout + result.stderr, API_KEY)
      }
    }))

  it.effect("bad flags exit 2; --help exits 0", () =>
    Effect.gen(function*() {
      for (
        const args of [
          [],
          ["send-media", "--to", "+919876543210", "--type", "gif", "--link", LINK],
          ["send-media", "--type", "image", "--link", LINK],
          ["send-media", "--to", "+919876543210", "--type", "image", "--link", LINK, "--nope"],
          ["send-media", "--to", "+919876543210", "--type", "image", "--wa-source", "telegram", "--link", LINK],
          ["campaign", "--csv", "x.csv", "--concurrency", "many"],
          ["campaign", "--csv", "x.csv", "--concurrency", "0"],
          ["campaign", "--csv", "x.csv", "--type", "image", "--link", LINK, "--id", "1"],
          ["nope"]
        ]
      ) {
        const result = yield* runCli(args)
        assert.strictEqual(result.code, 2, args.join(" "))
        assert.notStrictEqual(result.stderr, "", args.join(" "))
      }
      const help = yield* runCli(["--help"])
      assert.strictEqual(help.code, 0)
      assert.include(help.stdout, "send-media")
      assert.include(help.stdout, "campaign")
    }))
})

// ---------------------------------------------------------------------------------------------------------------
// campaign
// ---------------------------------------------------------------------------------------------------------------

describe("kaleyra-wa campaign", () => {
  it.scopedLive("1 000 rows with per-row overrides and scripted failures: the results file row by row, exit 1", () =>
    Effect.gen(function*() {
      const { simulator, url } = yield* serve()
      const dir = yield* tempDir
      const csv = join(dir, "contacts.csv")
      const out = join(dir, "out.csv")

      interface Expected {
        readonly line: number
        readonly to: string
        readonly failure: string | undefined
        readonly type: string
        readonly caption: string | undefined
      }
      const expected: Array<Expected> = []
      const lines = ["to,type,link,id,caption,filename,name"]
      for (let i = 0; i < 1000; i++) {
        const to = `+9198${String(i).padStart(8, "0")}`
        let failure: string | undefined
        if (i % 37 === 5) {
          yield* simulator.setScenario(to, "E110")
          failure = "LowBalance"
        } else if (i % 101 === 7) {
          yield* simulator.setScenario(to, "WA400")
          failure = "IncorrectPayload"
        }
        switch (i % 4) {
          case 0: // an image with its own link and caption (commas and quotes)
            lines.push(`${to},image,https://example.com/${i}.png,,"Hi ${i}, ""friend""",,n${i}`)
            expected.push({ line: i + 2, to, failure, type: "image", caption: `Hi ${i}, "friend"` })
            break
          case 1: // a document by id with its file name; the default caption applies
            lines.push(`${to},document,,${1_000_000 + i},,f${i}.pdf,n${i}`)
            expected.push({ line: i + 2, to, failure, type: "document", caption: "Default caption" })
            break
          case 2: // audio with the default link; the default caption does not apply
            lines.push(`${to},audio,,,,,n${i}`)
            expected.push({ line: i + 2, to, failure, type: "audio", caption: undefined })
            break
          default: // everything from the flags
            lines.push(`${to},,,,,,n${i}`)
            expected.push({ line: i + 2, to, failure, type: "image", caption: "Default caption" })
        }
      }
      yield* write(csv, lines.join("\n") + "\n")

      const result = yield* runCli([
        "campaign",
        "--csv",
        csv,
        "--type",
        "image",
        "--link",
        LINK,
        "--caption",
        "Default caption",
        "--concurrency",
        "32",
        "--rate",
        "0",
        "--out",
        out,
        "--base-url",
        url
      ], credentials)
      const failures = expected.filter((e) => e.failure !== undefined).length
      assert.isAbove(failures, 0)
      assert.strictEqual(result.code, 1, result.stderr)

      const sent = byRecipient(yield* simulator.sent)
      assert.strictEqual(sent.size, 1000 - failures)
      const records = yield* readRecords(out)
      assert.deepStrictEqual(records[0], ["line", "to", "status", "message_id", "error_tag", "error_message"])
      assert.strictEqual(records.length, 1001)
      for (let i = 0; i < 1000; i++) {
        const e = expected[i]
        const [line, to, status, messageId, errorTag, errorMessage] = records[i + 1]
        assert.strictEqual(line, String(e.line))
        assert.strictEqual(to, e.to)
        if (e.failure === undefined) {
          const message = sent.get(e.to)
          assert.isDefined(message, e.to)
          assert.deepStrictEqual([status, messageId, errorTag, errorMessage], ["Sent", message!.messageId, "", ""])
          assert.strictEqual(message!.type, e.type)
          assert.strictEqual(captionOf(message!), e.caption)
        } else {
          assert.deepStrictEqual([status, messageId, errorTag], ["Failed", "", e.failure])
          assert.notStrictEqual(errorMessage, "")
          assert.isFalse(sent.has(e.to))
        }
      }
      assert.include(result.stdout, `1000 rows: ${1000 - failures} sent, ${failures} failed`)
      assert.include(result.stdout, "LowBalance")
      assert.include(result.stderr, "ignoring the column name")
      assert.include(result.stderr, `1000/1000 done`)
      assert.notInclude(result.stdout, "done:")
    }))

  it.scopedLive("every row sent: exit 0, the default results path, progress only on stderr", () =>
    Effect.gen(function*() {
      const { simulator, url } = yield* serve()
      const dir = yield* tempDir
      const csv = join(dir, "list.CSV")
      const numbers = ukNumbers(50)
      yield* write(csv, ["To", ...numbers].join("\n"))
      const result = yield* runCli(
        ["campaign", "--csv", csv, "--type", "sticker", "--id", "998877", "--rate", "0", "--base-url", url],
        credentials
      )
      assert.strictEqual(result.code, 0, result.stderr)
      const records = yield* readRecords(join(dir, "list.results.csv"))
      const sent = byRecipient(yield* simulator.sent)
      assert.deepStrictEqual(
        records.slice(1),
        sentRows(numbers, sent)
      )
      assert.strictEqual(
        result.stdout.replace(/ in [0-9.]+ s\./, " in _ s."),
        `50 rows: 50 sent, 0 failed in _ s.\nResults: ${join(dir, "list.results.csv")}\n`
      )
      assert.include(result.stderr, "50/50 done: 50 sent, 0 failed")
      assert.notInclude(result.stderr, "\r")
    }))

  it.scopedLive("--unordered: a slow row holds back no other, and each results line names its row", () =>
    Effect.gen(function*() {
      const { simulator, url } = yield* serve()
      // One of the first requests is answered a second late.
      yield* simulator.injectNext("latency", { latencyMillis: 1_000 })
      const dir = yield* tempDir
      const csv = join(dir, "list.csv")
      const numbers = ukNumbers(200)
      yield* write(csv, ["to", ...numbers].join("\n"))
      const result = yield* runCli(
        [
          "campaign",
          "--csv",
          csv,
          "--type",
          "sticker",
          "--id",
          "998877",
          "--rate",
          "0",
          "--unordered",
          "--base-url",
          url
        ],
        credentials
      )
      assert.strictEqual(result.code, 0, result.stderr)
      const records = yield* readRecords(join(dir, "list.results.csv"))
      const sent = byRecipient(yield* simulator.sent)
      assert.deepStrictEqual(records[0], ["line", "to", "status", "message_id", "error_tag", "error_message"])
      const lines = records.slice(1).map((record) => Number(record[0]))
      assert.notDeepEqual(lines, [...lines].sort((a, b) => a - b), "written as sends completed, not in file order")
      assert.deepStrictEqual(
        records.slice(1).sort((a, b) => Number(a[0]) - Number(b[0])),
        sentRows(numbers, sent)
      )
      assert.strictEqual(sent.size, 200)
    }))

  it.scopedLive("on a terminal, the progress line is redrawn in place", () =>
    Effect.gen(function*() {
      const { url } = yield* serve()
      const dir = yield* tempDir
      const csv = join(dir, "tty.csv")
      yield* write(
        csv,
        ["to", ...ukNumbers(20)].join("\n")
      )
      const result = yield* runCli(
        ["campaign", "--csv", csv, "--type", "image", "--link", LINK, "--rate", "0", "--base-url", url],
        credentials,
        { tty: true }
      )
      assert.strictEqual(result.code, 0, result.stderr)
      assert.match(result.stderr, /\r20\/20 done: 20 sent, 0 failed, [0-9.]+\/s.\[K\n$/)
      assert.isTrue(result.stderr.endsWith("\u001b[K\n"))
      assert.notInclude(result.stdout, "\r")
    }))

  it.scopedLive("bad rows: exit 2, every bad line named on stderr, and no request at all", () =>
    Effect.gen(function*() {
      const { simulator, url } = yield* serve()
      const dir = yield* tempDir
      const csv = join(dir, "bad.csv")
      yield* write(
        csv,
        [
          "to,type,link", // 1
          `+919876543210,image,${LINK}`, // 2
          `12345,image,${LINK}`, // 3: not E.164
          `+919876543211,image,${LINK}`, // 4
          "", // 5: blank, skipped
          `+919876543212,video,${LINK}`, // 6
          "+919876543213,image,ftp://example.com/a.png", // 7: not http(s)
          `+919876543214,gif,${LINK}`, // 8: unknown type
          "+919876543215,image", // 9: a field short
          `,image,${LINK}`, // 10: no recipient
          `+919876543216,image,${LINK},extra`, // 11: a field too many
          `+91987654"3217,image,${LINK}` // 12: a stray quote
        ].join("\r\n")
      )
      const out = join(dir, "bad.results.csv")
      const result = yield* runCli(["campaign", "--csv", csv, "--base-url", url], credentials)
      assert.strictEqual(result.code, 2)
      const named = Array.from(result.stderr.matchAll(/line (\d+):/g), (m) => Number(m[1]))
      assert.deepStrictEqual(named, [3, 7, 8, 9, 10, 11, 12])
      assert.include(result.stderr, "line 3: to:")
      assert.include(result.stderr, "\"12345\"")
      assert.include(result.stderr, "line 7: link:")
      assert.include(result.stderr, "line 8: type:")
      assert.include(result.stderr, "line 9: has 2 fields, the header has 3")
      assert.include(result.stderr, "7 rows cannot be sent, so nothing was sent")
      assert.strictEqual(result.stdout, "")
      assert.strictEqual((yield* simulator.requests).length, 0)
      assert.isFalse(existsSync(out))
    }))

  it.scopedLive("a file that cannot be a campaign: exit 2 with a clear message", () =>
    Effect.gen(function*() {
      const { simulator, url } = yield* serve()
      const dir = yield* tempDir
      const cases: ReadonlyArray<readonly [name: string, text: string | undefined, message: string]> = [
        ["no-to.csv", "phone,caption\n+919876543210,hi\n", "has no to column (found: phone, caption)"],
        ["missing.csv", undefined, "cannot read"],
        ["empty.csv", "", "the file is empty"],
        ["blank.csv", "\n\r\n  \n", "the file is empty"],
        ["header-only.csv", "to,caption\n", "no data rows"],
        ["twice.csv", "to,To\n+919876543210,+919876543211\n", "the column to appears twice"],
        ["open-quote.csv", "to,\"caption\n+919876543210,hi\n", "never closed"]
      ]
      for (const [name, text, message] of cases) {
        const csv = join(dir, name)
        if (text !== undefined) yield* write(csv, text)
        const result = yield* runCli(
          ["campaign", "--csv", csv, "--type", "image", "--link", LINK, "--base-url", url],
          credentials
        )
        assert.strictEqual(result.code, 2, name)
        assert.include(result.stderr, message, name)
        assert.include(result.stderr, name, name)
      }
      const csv = join(dir, "ok.csv")
      yield* write(csv, "to\n+919876543210\n")
      const sameFile = yield* runCli(
        ["campaign", "--csv", csv, "--type", "image", "--link", LINK, "--out", csv, "--base-url", url],
        credentials
      )
      assert.strictEqual(sameFile.code, 2)
      assert.include(sameFile.stderr, "--out must not be the input file")
      const noType = yield* runCli(["campaign", "--csv", csv, "--link", LINK, "--base-url", url], credentials)
      assert.strictEqual(noType.code, 2)
      assert.include(noType.stderr, "line 2: type: is empty and no --type was given")
      const unusedCaption = yield* runCli(
        ["campaign", "--csv", csv, "--type", "audio", "--link", LINK, "--caption", "x", "--base-url", url],
        credentials
      )
      assert.strictEqual(unusedCaption.code, 2)
      assert.include(unusedCaption.stderr, "--caption")
      const unwritable = yield* runCli(
        ["campaign", "--csv", csv, "--type", "image", "--link", LINK, "--out", join(dir, "no", "such", "dir.csv")]
          .concat(["--base-url", url]),
        credentials
      )
      assert.strictEqual(unwritable.code, 2)
      assert.include(unwritable.stderr, "cannot write")
      const noConfig = yield* runCli(["campaign", "--csv", csv, "--type", "image", "--link", LINK])
      assert.strictEqual(noConfig.code, 2)
      assert.include(noConfig.stderr, "KALEYRA_SID is not set")
      assert.strictEqual((yield* simulator.requests).length, 0)
    }))

  it.scopedLive("CSV quoting: BOM, CRLF, commas, doubled quotes and line breaks inside a caption", () =>
    Effect.gen(function*() {
      const { simulator, url } = yield* serve()
      const dir = yield* tempDir
      const csv = join(dir, "quoted.csv")
      yield* write(
        csv,
        "\uFEFFto,caption,ref\r\n" + // 1
          "+919876543210,\"Hello, \"\"friend\"\"!\",\"r,1\"\r\n" + // 2
          "+919876543211,\"two\r\nlines, \"\"quoted\"\"\",r2\r\n" + // 3-4
          "\"+919876543212\",plain,\r\n" + // 5
          "+919876543213,\" padded \",\"\"\r\n" // 6
      )
      const out = join(dir, "quoted.out.csv")
      const result = yield* runCli(
        ["campaign", "--csv", csv, "--type", "image", "--link", LINK, "--out", out, "--base-url", url],
        credentials
      )
      assert.strictEqual(result.code, 0, result.stderr)
      const sent = byRecipient(yield* simulator.sent)
      assert.strictEqual(captionOf(sent.get("+919876543210")!), "Hello, \"friend\"!")
      assert.deepStrictEqual(sent.get("+919876543210")!.extraInfo, { ref: "r,1" })
      assert.strictEqual(captionOf(sent.get("+919876543211")!), "two\r\nlines, \"quoted\"")
      assert.strictEqual(captionOf(sent.get("+919876543212")!), "plain")
      assert.isUndefined(sent.get("+919876543212")!.extraInfo)
      assert.strictEqual(captionOf(sent.get("+919876543213")!), " padded ")
      const records = yield* readRecords(out)
      assert.deepStrictEqual(records.slice(1).map(([line, to]) => [line, to]), [
        ["2", "+919876543210"],
        ["3", "+919876543211"],
        ["5", "+919876543212"],
        ["6", "+919876543213"]
      ])
    }))

  it.scopedLive("interrupted: no new send starts, and every row still gets a result (NotAttempted: safe to resend)", () =>
    Effect.gen(function*() {
      const { simulator, url } = yield* serve()
      const dir = yield* tempDir
      const csv = join(dir, "slow.csv")
      const out = join(dir, "slow.out.csv")
      const numbers = Array.from({ length: 40 }, (_, i) => `+14155550${String(100 + i)}`)
      yield* write(csv, ["to", ...numbers].join("\n"))
      const fiber = yield* Effect.fork(runCli(
        ["campaign", "--csv", csv, "--type", "image", "--link", LINK, "--rate", "20", "--out", out, "--base-url", url],
        credentials
      ))
      while ((yield* simulator.sent).length < 5) yield* Effect.sleep("10 millis")
      const exit = yield* Fiber.interrupt(fiber)
      assert.isTrue(Exit.isInterrupted(exit))

      const sent = byRecipient(yield* simulator.sent)
      assert.isBelow(sent.size, 40)
      const records = (yield* readRecords(out)).slice(1)
      assert.strictEqual(records.length, 40)
      records.forEach(([line, to, status, messageId], i) => {
        assert.strictEqual(line, String(i + 2))
        assert.strictEqual(to, numbers[i])
        if (sent.has(to)) assert.deepStrictEqual([status, messageId], ["Sent", sent.get(to)!.messageId])
        else assert.deepStrictEqual([status, messageId], ["NotAttempted", ""])
      })
      // nothing was sent after the interruption
      assert.strictEqual((yield* simulator.sent).length, sent.size)
    }))

  /** A 40-row campaign at 20/s whose first request is answered 429 with `Retry-After: retryAfter` seconds. */
  const rateLimitedCampaign = (retryAfter: number) =>
    Effect.gen(function*() {
      const { simulator, url } = yield* serve()
      yield* simulator.failNext("429", { retryAfter })
      const dir = yield* tempDir
      const csv = join(dir, "limited.csv")
      const out = join(dir, "limited.out.csv")
      yield* write(csv, ["to", ...ukNumbers(40)].join("\n"))
      const args = ["campaign", "--csv", csv, "--type", "image", "--link", LINK, "--rate", "20", "--out", out]
      const results = Effect.map(readRecords(out), (records) => records.slice(1))
      return { simulator, run: runCli([...args, "--base-url", url], credentials), results }
    })

  it.scopedLive("a 429 asking to wait a day stops the campaign at once: the rest NotAttempted with the reason", () =>
    Effect.gen(function*() {
      const { results, run, simulator } = yield* rateLimitedCampaign(86_400)
      // before: every send paused for the day
      const { code, stderr } = yield* Effect.timeoutFail(run, { duration: "20 seconds", onTimeout: () => "hung" })
      assert.strictEqual(code, 1)
      assert.include(stderr, "429 asking to wait 1d (Retry-After)")
      const records = yield* results
      const sent = byRecipient(yield* simulator.sent)
      assert.deepStrictEqual(records.filter(([, , status]) => status === "Failed").map((r) => r[4]), ["RateLimited"])
      const notAttempted = records.filter(([, to, status]) => status !== "Failed" && !sent.has(to))
      assert.strictEqual(notAttempted.length, 39 - sent.size)
      for (const [, , status, , tag, message] of notAttempted) {
        assert.deepStrictEqual([status, tag], ["NotAttempted", "RateLimited"])
        assert.include(message, "Retry-After")
      }
      assert.isBelow(sent.size, 10)
    }))

  it.scopedLive("interrupted during a long Retry-After: ends at once, the 429 row Failed, the rest NotAttempted", () =>
    Effect.gen(function*() {
      const { results, run, simulator } = yield* rateLimitedCampaign(50)
      const fiber = yield* Effect.fork(run)
      while ((yield* simulator.requests).length < 1) yield* Effect.sleep("10 millis")
      yield* Effect.sleep("200 millis")
      // before: Ctrl-C waited for the 50 seconds of the pause
      const exit = yield* Effect.timeoutFail(Fiber.interrupt(fiber), {
        duration: "10 seconds",
        onTimeout: () => "still running 10 s after the interruption"
      })
      assert.isTrue(Exit.isInterrupted(exit))
      const records = yield* results
      const sent = byRecipient(yield* simulator.sent)
      assert.strictEqual(records.length, 40)
      assert.deepStrictEqual(records.filter(([, , status]) => status === "Failed").map((r) => r[4]), ["RateLimited"])
      const notAttempted = records.filter(([, to, status]) => status !== "Failed" && !sent.has(to))
      assert.strictEqual(notAttempted.length, 39 - sent.size)
      for (const record of notAttempted) assert.deepStrictEqual(record.slice(2, 5), ["NotAttempted", "", "Stopped"])
      assert.isBelow(sent.size, 10)
      assert.strictEqual((yield* simulator.requests).length, sent.size + 1, "no retry, nothing sent after the 429")
    }))
})

// ---------------------------------------------------------------------------------------------------------------
// CsvCampaign
// ---------------------------------------------------------------------------------------------------------------

describe("CsvCampaign", () => {
  it("parse: quotes, doubled quotes, CR, LF and CRLF, line numbers, problems", () => {
    const parsed = CsvCampaign.parse(
      "a,b\r\n\"x,1\",\"say \"\"hi\"\"\"\n\"multi\nline\",2\r3,\n\nbad\"quote,1\n\"ok\"junk,2\nlast,\"\"\n\"open,3"
    )
    assert.deepStrictEqual(parsed.records, [
      { line: 1, fields: ["a", "b"] },
      { line: 2, fields: ["x,1", "say \"hi\""] },
      { line: 3, fields: ["multi\nline", "2"] },
      { line: 5, fields: ["3", ""] },
      { line: 9, fields: ["last", ""] }
    ])
    assert.deepStrictEqual(parsed.problems.map((p) => p.line), [7, 8, 10])
    assert.include(parsed.problems[2].message, "never closed")
    assert.deepStrictEqual(CsvCampaign.parse("").records, [])
    assert.deepStrictEqual(CsvCampaign.parse("\uFEFFto\n1").records, [
      { line: 1, fields: ["to"] },
      { line: 2, fields: ["1"] }
    ])
  })

  it("formatRecord quotes what needs it", () => {
    assert.strictEqual(
      CsvCampaign.formatRecord(["plain", "a,b", "say \"hi\"", "two\nlines", " pad", ""]),
      "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\" pad\",\n"
    )
  })

  it.prop(
    "formatRecord then parse gives the records back",
    [FastCheck.array(
      FastCheck.tuple(
        FastCheck.string({ minLength: 1 }).filter((s) => s.trim() !== "" && !s.startsWith("\uFEFF")),
        FastCheck.array(FastCheck.string({ unit: "binary" }), { maxLength: 4 })
      ),
      { maxLength: 20 }
    )],
    ([rows]) => {
      const records = rows.map(([first, rest]) => [first, ...rest])
      const parsed = CsvCampaign.parse(records.map(CsvCampaign.formatRecord).join(""))
      assert.deepStrictEqual(parsed.problems, [])
      assert.deepStrictEqual(parsed.records.map((r) => r.fields), records)
    }
  )

  it("formatResult writes one results line per outcome", () => {
    const message = CsvCampaign.read(`to\n+919876543210`, { type: "image", link: LINK })
    assert.isTrue(message._tag === "Right")
    if (message._tag !== "Right") return
    const row = message.right.rows[0]
    assert.strictEqual(CsvCampaign.formatResult(row, { _tag: "NotAttempted" }), "2,+919876543210,NotAttempted,,,\n")
    assert.strictEqual(CsvCampaign.defaultResultsPath("dir/contacts.csv"), "dir/contacts.results.csv")
    assert.strictEqual(CsvCampaign.defaultResultsPath("contacts"), "contacts.results.csv")
  })
})

describe("kaleyra-wa output", () => {
  /** A stream that keeps what is written to it, a terminal or not. */
  const sink = (isTTY: boolean) => {
    const stream = new PassThrough() as PassThrough & { isTTY?: boolean }
    if (isTTY) stream.isTTY = true
    const chunks: Array<string> = []
    stream.on("data", (chunk: Buffer) => chunks.push(chunk.toString("utf8")))
    return { stream, text: () => chunks.join("") }
  }
  const help = (stdoutIsTTY: boolean, env: Record<string, string>) =>
    Effect.gen(function*() {
      const out = sink(stdoutIsTTY)
      const err = sink(false)
      const code = yield* Cli.run(["--help"]).pipe(Effect.provide(Cli.layerOutput(out.stream, err.stream, env)))
      assert.strictEqual(code, Cli.exitCodes.ok)
      return out.text()
    })

  it.effect("help is plain text on a pipe or a file, styled on a terminal, plain again under NO_COLOR", () =>
    Effect.gen(function*() {
      const piped = yield* help(false, {})
      assert.include(piped, "USAGE")
      assert.notInclude(piped, "\u001b[")
      const terminal = yield* help(true, {})
      assert.include(terminal, "\u001b[")
      const noColor = yield* help(true, { NO_COLOR: "1" })
      assert.include(noColor, "USAGE")
      assert.notInclude(noColor, "\u001b[")
    }))
})
