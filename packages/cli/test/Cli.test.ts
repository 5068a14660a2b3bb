import { assert, describe, it } from "@effect/vitest"
import { Effect, FastCheck } from "effect"
import { existsSync } from "node:fs"
import { join } from "node:path"
import { PassThrough } from "node:stream"
import { API_KEY } from "../../node/test/utils.js"
import * as Cli from "../src/Cli.js"
import * as CsvCampaign from "../src/CsvCampaign.js"
import { captionOf, credentials, LINK, runCli, serve, tempDir } from "./cliUtils.js"

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

  it.scopedLive("--type template: Meta's template object with a media header and the body's parameters in order", () =>
    Effect.gen(function*() {
      const { simulator, url } = yield* serve()
      const template = ["--type", "template", "--template", "order_shipped", "--language", "en_US"]
      const result = yield* runCli([
        "send-media",
        "--to",
        "+919876543210",
        ...template,
        "--header",
        "image",
        "--link",
        "https://example.com/box.png",
        "--body",
        "Ada",
        "--body",
        "#4711",
        "--json",
        "--base-url",
        url
      ], credentials)
      assert.strictEqual(result.code, 0, result.stderr)
      const sent = yield* simulator.sent
      assert.strictEqual(sent.length, 1)
      assert.strictEqual(JSON.parse(result.stdout).type, "template")
      const body = sent[0].body as { readonly messaging_object: { readonly template: unknown } }
      assert.deepStrictEqual(body.messaging_object.template, {
        name: "order_shipped",
        language: { code: "en_US" },
        components: [
          { type: "header", parameters: [{ type: "image", image: { link: "https://example.com/box.png" } }] },
          { type: "body", parameters: [{ type: "text", text: "Ada" }, { type: "text", text: "#4711" }] }
        ]
      })
      // flags a template has no place for are refused, not dropped; template flags need --type template
      for (
        const args of [
          [...template, "--caption", "hi"],
          [...template, "--link", "https://example.com/box.png"],
          [...template, "--header", "image", "--link", "https://example.com/box.png", "--filename", "a.png"],
          ["--type", "image", "--link", "https://example.com/box.png", "--body", "Ada"],
          ["--type", "template", "--body", "Ada"]
        ]
      ) {
        const refused = yield* runCli(["send-media", "--to", "+919876543210", ...args, "--base-url", url], credentials)
        assert.strictEqual(refused.code, 2, args.join(" ") + "\n" + refused.stderr)
      }
      assert.strictEqual((yield* simulator.sent).length, 1)
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
          ["campaign"],
          ["campaign", "run", "--csv", "x.csv", "--db", "x.db", "--concurrency", "many"],
          ["campaign", "run", "--csv", "x.csv", "--db", "x.db", "--concurrency", "0"],
          ["campaign", "run", "--csv", "x.csv", "--db", "x.db", "--type", "image", "--link", LINK, "--id", "1"],
          ["campaign", "run", "--csv", "x.csv", "--type", "image", "--link", LINK, "--db", "x.db", "--ref2", "r"],
          ["campaign", "run", "--csv", "x.csv", "--type", "image", "--link", LINK, "--simulator", "--base-url", "x"],
          ["campaign", "resend", "--db", "x.db"],
          ["campaign", "status", "--db", "x.db", "--database-url", "postgres://127.0.0.1:1/x"],
          ["callbacks", "--db", "x.db", "--port", "99999"],
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

  it.scoped("--simulator with --base-url: one flag error for every command that sends, before anything is opened", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const db = join(dir, "ledger.db")
      const target = ["--simulator", "--base-url", "http://127.0.0.1:1"]
      for (
        const args of [
          ["send-media", "--to", "+919876543210", "--type", "image", "--link", LINK, "--json", ...target],
          ["campaign", "run", "--csv", join(dir, "x.csv"), "--type", "image", "--link", LINK, "--db", db, ...target],
          ["campaign", "worker", "--db", db, ...target]
        ]
      ) {
        const result = yield* runCli(args, credentials)
        assert.strictEqual(result.code, 2, args.join(" "))
        assert.include(result.stderr, "give --simulator or --base-url, not both", args.join(" "))
        assert.notInclude(result.stderr, "simulator at", args.join(" "))
        assert.isFalse(existsSync(db), args.join(" "))
      }
    }))
})

// ---------------------------------------------------------------------------------------------------------------
// campaign
// ---------------------------------------------------------------------------------------------------------------

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
