/**
 * Upload benchmark: memory and throughput of a 100 MB upload from disk through `NodeMedia.uploadFile`
 * (`fs.openAsBlob` -> global `FormData` -> undici's `FormData` -> the lean undici client), beside `curl -F`.
 *
 *   cd bench && npx tsx --conditions=@effect-kaleyra/source src/upload.ts [--size-mb 100] [--runs 3]
 *
 * - Writes a 100 MB document (a PDF header, printable filler, `%%EOF`) in a temporary directory, removed at the end.
 * - Serves, in a CHILD process (this script with `--serve`), so that the RSS measured here is the client's alone:
 *   - the Kaleyra simulator (`SimulatorServer.serve`), which reads each upload whole into memory and parses it;
 *   - a streaming multipart sink: it checks the multipart structure and counts and hashes each part as it arrives,
 *     without buffering, so that its throughput is the transfer's, not the simulator's parser's.
 * - Samples `process.memoryUsage().rss` every 10 ms during each upload: before, peak, after. Target: the peak is
 *   less than 64 MB above the RSS before the upload, i.e. the file is streamed, not read into memory. The first
 *   (cold) upload is reported apart: it also loads the code paths of an upload.
 * - Checks that each server received the file intact (size and SHA-256 of the `file` part, its file name).
 * - Uploads the same file with `curl -F file=@path -F type=application/pdf` to the same servers, runs alternating
 *   with the client's, and prints its MB/s beside.
 *
 * @since 0.1.0
 */
import * as KaleyraNode from "@effect-kaleyra/node/KaleyraNode"
import * as NodeMedia from "@effect-kaleyra/node/NodeMedia"
import * as SimulatorServer from "@effect-kaleyra/testing/SimulatorServer"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { type ChildProcessByStdio, execFile, spawn } from "node:child_process"
import { createHash, type Hash } from "node:crypto"
import { createReadStream } from "node:fs"
import { mkdtemp, open, rm } from "node:fs/promises"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { createInterface } from "node:readline"
import type { Readable, Writable } from "node:stream"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"

const SID = "HXAP16XXXXXX97IN"
const API_KEY = "bench-api-key"
const SENDER = "919999999999"
const MB = 1_000_000
const TARGET_GROWTH_MB = 64
const FILENAME = "big-document.pdf"

const mb = (bytes: number) => (bytes / MB).toFixed(1)

// ---------------------------------------------------------------------------------------------------------------
// the servers (child process)
// ---------------------------------------------------------------------------------------------------------------

interface ReceivedFile {
  readonly size: number
  readonly sha256: string
  readonly filename: string
  readonly contentType: string
  readonly type: string
}

interface ServerReport {
  readonly rss: number
  /** The peak RSS since the last `reset`. */
  readonly peak: number
  readonly simulator?: ReceivedFile | undefined
  readonly sink?: ReceivedFile | { readonly error: string } | undefined
}

interface SinkPart {
  readonly headers: Record<string, string>
  size: number
  readonly hash: Hash
  /** The first bytes (for the `type` field's value). */
  head: Buffer
}

/**
 * A streaming `multipart/form-data` reader: finds the delimiters across chunk edges, hashes and counts each part's
 * bytes, keeps only a delimiter's length of carry-over. Throws on a malformed body.
 */
class MultipartSink {
  private readonly delimiter: Buffer
  private carry: Buffer
  private state: "data" | "after-delimiter" | "headers" | "done" = "data"
  private part: SinkPart | undefined = undefined
  readonly parts: Array<SinkPart> = []
  private epilogue = ""

  constructor(boundary: string) {
    this.delimiter = Buffer.from(`\r\n--${boundary}`)
    // The body starts with the delimiter without its CRLF: pretend it was there.
    this.carry = Buffer.from("\r\n")
  }

  write(chunk: Buffer): void {
    let buffer = this.carry.length === 0 ? chunk : Buffer.concat([this.carry, chunk])
    this.carry = Buffer.alloc(0)
    for (;;) {
      switch (this.state) {
        case "data": {
          const at = buffer.indexOf(this.delimiter)
          if (at === -1) {
            const keep = Math.min(buffer.length, this.delimiter.length - 1)
            this.data(buffer.subarray(0, buffer.length - keep))
            this.carry = Buffer.from(buffer.subarray(buffer.length - keep))
            return
          }
          this.data(buffer.subarray(0, at))
          buffer = buffer.subarray(at + this.delimiter.length)
          this.state = "after-delimiter"
          break
        }
        case "after-delimiter": {
          if (buffer.length < 2) {
            this.carry = Buffer.from(buffer)
            return
          }
          const marker = buffer.subarray(0, 2).toString("latin1")
          buffer = buffer.subarray(2)
          if (marker === "--") this.state = "done"
          else if (marker === "\r\n") this.state = "headers"
          else throw new Error(`malformed delimiter line (${JSON.stringify(marker)})`)
          break
        }
        case "headers": {
          const end = buffer.indexOf("\r\n\r\n")
          if (end === -1) {
            if (buffer.length > 16_384) throw new Error("part headers too long")
            this.carry = Buffer.from(buffer)
            return
          }
          const headers: Record<string, string> = {}
          for (const line of buffer.subarray(0, end).toString("utf8").split("\r\n")) {
            const colon = line.indexOf(":")
            if (colon <= 0) throw new Error(`malformed part header ${JSON.stringify(line)}`)
            headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
          }
          this.part = { headers, size: 0, hash: createHash("sha256"), head: Buffer.alloc(0) }
          this.parts.push(this.part)
          buffer = buffer.subarray(end + 4)
          this.state = "data"
          break
        }
        case "done":
          this.epilogue += buffer.toString("latin1")
          if (this.epilogue.length > 2) throw new Error("data after the closing delimiter")
          return
      }
    }
  }

  private data(bytes: Buffer): void {
    if (bytes.length === 0) return
    const part = this.part
    if (part === undefined) throw new Error("data before the first delimiter")
    part.size += bytes.length
    part.hash.update(bytes)
    if (part.head.length < 256) part.head = Buffer.concat([part.head, bytes.subarray(0, 256 - part.head.length)])
  }

  /** The `file` part, once the body is complete and well formed (two parts: `file`, then `type`). */
  end(): ReceivedFile {
    if (this.state !== "done" || (this.epilogue !== "" && this.epilogue !== "\r\n")) {
      throw new Error("the body ended before the closing delimiter")
    }
    const named = (name: string) =>
      this.parts.find((p) => new RegExp(`(^|;)\\s*name="${name}"`).test(p.headers["content-disposition"] ?? ""))
    const file = named("file")
    const type = named("type")
    if (this.parts.length !== 2 || file === undefined || type === undefined) {
      throw new Error(`expected the parts file and type, got ${this.parts.length} part(s)`)
    }
    return {
      size: file.size,
      sha256: file.hash.digest("hex"),
      filename: /filename="([^"]*)"/.exec(file.headers["content-disposition"] ?? "")?.[1] ?? "",
      contentType: file.headers["content-type"] ?? "",
      type: type.head.toString("utf8")
    }
  }
}

/** The streaming sink: answers `{"id":"sink-N"}` once the body was read and checked, 400 if it is malformed. */
const serveSink = (onReceived: (received: ReceivedFile | { readonly error: string }) => void) =>
  Effect.acquireRelease(
    Effect.async<{ readonly url: string; readonly close: () => void }>((resume) => {
      let count = 0
      const server = createServer((request, response) => {
        const boundary = /^multipart\/form-data;\s*boundary="?([^";]+)"?/i.exec(request.headers["content-type"] ?? "")
          ?.[1]
        const sink = boundary === undefined ? undefined : new MultipartSink(boundary)
        let failure: string | undefined = boundary === undefined ? "not multipart/form-data" : undefined
        request.on("data", (chunk: Buffer) => {
          if (failure !== undefined || sink === undefined) return
          try {
            sink.write(chunk)
          } catch (error) {
            failure = error instanceof Error ? error.message : String(error)
          }
        })
        request.on("end", () => {
          let received: ReceivedFile | { readonly error: string }
          try {
            if (failure !== undefined || sink === undefined) throw new Error(failure)
            received = sink.end()
          } catch (error) {
            received = { error: error instanceof Error ? error.message : String(error) }
          }
          onReceived(received)
          const ok = !("error" in received)
          response.writeHead(ok ? 200 : 400, { "content-type": "application/json" })
          response.end(ok ? `{"id":"sink-${++count}"}` : `{"code":"WA400","message":"Refer to correct payload format"}`)
        })
      })
      server.listen(0, "127.0.0.1", () =>
        resume(Effect.succeed({
          url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
          close: () => {
            server.closeAllConnections()
            server.close()
          }
        })))
    }),
    ({ close }) => Effect.sync(close)
  )

/**
 * Serves the simulator and the sink, prints `{ simulator, sink }` (their URLs), then answers commands on stdin, one
 * per line: `reset` (peak RSS := current RSS), `report` (a `ServerReport`). Exits when stdin closes.
 */
const serveChild = Effect.gen(function*() {
  // Keeps only the last upload (to hash it): a benchmark must not accumulate 100 MB bodies.
  const served = yield* SimulatorServer.serve({
    simulator: { sid: SID, apiKey: API_KEY, senderNumbers: [SENDER], historyLimit: 1 }
  })
  let sinkLast: ReceivedFile | { readonly error: string } | undefined
  const sink = yield* serveSink((received) => {
    sinkLast = received
  })
  let peak = process.memoryUsage().rss
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss)
  }, 10)
  process.stdout.write(JSON.stringify({ simulator: served.url, sink: sink.url }) + "\n")
  yield* Effect.async<void>((resume) => {
    const lines = createInterface({ input: process.stdin })
    lines.on("line", (line) => {
      if (line === "reset") {
        peak = process.memoryUsage().rss
        sinkLast = undefined
        process.stdout.write("{}\n")
      } else if (line === "report") {
        const last = Effect.runSync(served.simulator.uploads).at(-1)
        const report: ServerReport = {
          rss: process.memoryUsage().rss,
          peak,
          simulator: last === undefined ? undefined : {
            size: last.size,
            sha256: createHash("sha256").update(last.data).digest("hex"),
            filename: last.filename,
            contentType: last.mimeType,
            type: last.mimeType
          },
          sink: sinkLast
        }
        process.stdout.write(JSON.stringify(report) + "\n")
      }
    })
    lines.on("close", () => resume(Effect.void))
  })
  clearInterval(sampler)
}).pipe(Effect.scoped)

interface Child {
  readonly urls: { readonly simulator: string; readonly sink: string }
  readonly child: ChildProcessByStdio<Writable, Readable, null>
  readonly lines: AsyncIterator<string>
}

/** The child process, stopped (stdin closed, then awaited) when the scope closes. */
const startServers = Effect.acquireRelease(
  Effect.async<Child>((resume) => {
    const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), "--serve"], {
      stdio: ["pipe", "pipe", "inherit"]
    })
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]()
    void lines.next().then((first) =>
      resume(
        first.done === true
          ? Effect.dieMessage("the server process exited before it was ready")
          : Effect.succeed({ urls: JSON.parse(first.value) as Child["urls"], child, lines })
      )
    )
  }),
  ({ child }) =>
    Effect.async<void>((resume) => {
      if (child.exitCode !== null) return resume(Effect.void)
      child.once("exit", () => resume(Effect.void))
      child.stdin.end()
    })
)

const ask = (servers: Child, command: "reset" | "report") =>
  Effect.promise(async () => {
    servers.child.stdin.write(command + "\n")
    const answer = await servers.lines.next()
    return JSON.parse(answer.value as string) as ServerReport
  })

// ---------------------------------------------------------------------------------------------------------------
// the client
// ---------------------------------------------------------------------------------------------------------------

/** Writes `size` bytes: a PDF header, printable filler in 1 MB chunks, `%%EOF`. Never holds more than 1 MB. */
const writeDocument = (path: string, size: number) =>
  Effect.promise(async () => {
    const head = Buffer.from("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "latin1")
    const tail = Buffer.from("\n%%EOF\n", "latin1")
    const chunk = Buffer.alloc(MB)
    for (let i = 0; i < chunk.length; i++) chunk[i] = i % 64 === 63 ? 0x0a : 0x20 + ((i * 31 + (i >> 7)) % 94)
    const file = await open(path, "w")
    try {
      await file.write(head)
      let left = size - head.length - tail.length
      while (left > 0) {
        const n = Math.min(left, chunk.length)
        await file.write(chunk, 0, n)
        left -= n
      }
      await file.write(tail)
    } finally {
      await file.close()
    }
  })

const sha256File = (path: string) =>
  Effect.promise(() =>
    new Promise<string>((resolve, reject) => {
      const hash = createHash("sha256")
      createReadStream(path).on("data", (chunk) => hash.update(chunk)).on("end", () => resolve(hash.digest("hex")))
        .on("error", reject)
    })
  )

interface Measured {
  readonly seconds: number
  readonly before: number
  readonly peak: number
  readonly after: number
}

/** Runs `effect` while sampling this process's RSS every 10 ms. */
const measure = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<[A, Measured], E, R> =>
  Effect.suspend(() => {
    const before = process.memoryUsage().rss
    let peak = before
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss)
    }, 10)
    const started = performance.now()
    return effect.pipe(
      Effect.map((value): [A, Measured] => {
        const seconds = (performance.now() - started) / 1000
        const after = process.memoryUsage().rss
        peak = Math.max(peak, after)
        return [value, { seconds, before, peak, after }]
      }),
      Effect.ensuring(Effect.sync(() => clearInterval(sampler)))
    )
  })

type CurlOutcome = { readonly seconds: number; readonly status: string; readonly body: string } | "missing"

const curlUpload = (baseUrl: string, path: string) =>
  Effect.async<CurlOutcome>((resume) => {
    const started = performance.now()
    execFile(
      "curl",
      [
        "-sS",
        "-H",
        `api-key: ${API_KEY}`,
        "-F",
        `file=@${path}`,
        "-F",
        "type=application/pdf",
        "-w",
        "\n%{http_code}",
        `${baseUrl}/v2/${SID}/whatsapp/${SENDER}/media`
      ],
      { maxBuffer: 1 << 20 },
      (error, stdout) => {
        if (error !== null && (error as NodeJS.ErrnoException).code === "ENOENT") {
          return resume(Effect.succeed("missing"))
        }
        if (error !== null) return resume(Effect.die(error))
        const seconds = (performance.now() - started) / 1000
        const newline = stdout.lastIndexOf("\n")
        resume(Effect.succeed({ seconds, status: stdout.slice(newline + 1), body: stdout.slice(0, newline) }))
      }
    )
  })

const median = (values: ReadonlyArray<number>) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted.length === 0 ? Number.NaN : sorted[Math.floor(sorted.length / 2)]
}

const bench = (sizeMb: number, runs: number) =>
  Effect.gen(function*() {
    const startRss = process.memoryUsage().rss
    const size = Math.round(sizeMb * MB)
    const dir = yield* Effect.acquireRelease(
      Effect.promise(() => mkdtemp(join(tmpdir(), "kaleyra-bench-upload-"))),
      (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true }))
    )
    const path = join(dir, FILENAME)
    const small = join(dir, "warm-up.pdf")
    yield* writeDocument(path, size)
    yield* writeDocument(small, 100_000)
    const expected = yield* sha256File(path)

    const servers = yield* startServers
    console.log(
      `Node ${process.version} (bundled undici ${process.versions.undici}); servers in child process ` +
        `${servers.child.pid}: simulator ${servers.urls.simulator}, streaming sink ${servers.urls.sink}`
    )
    console.log(
      `File: ${path} (${mb(size)} MB, sha256 ${expected.slice(0, 16)}…); client RSS at start ${mb(startRss)} MB`
    )

    const clientFor = (baseUrl: string) =>
      Layer.build(KaleyraNode.layer({ sid: SID, apiKey: Redacted.make(API_KEY), senderNumber: SENDER, baseUrl }))
    const targets = [
      { name: "simulator", url: servers.urls.simulator, client: yield* clientFor(servers.urls.simulator) },
      { name: "streaming sink", url: servers.urls.sink, client: yield* clientFor(servers.urls.sink) }
    ] as const
    const upload = (target: (typeof targets)[number], file: string) =>
      Effect.provide(NodeMedia.uploadFile(file), target.client)
    const received = (target: (typeof targets)[number]) =>
      Effect.map(ask(servers, "report"), (report) => {
        const got = target.name === "simulator" ? report.simulator : report.sink
        const verdict = got === undefined
          ? "NOT RECEIVED"
          : "error" in got
          ? `MALFORMED (${got.error})`
          : got.size === size && got.sha256 === expected && got.filename === FILENAME &&
              got.contentType === "application/pdf" && got.type === "application/pdf"
          ? "intact"
          : "CORRUPTED"
        return `server got it ${verdict}, server peak RSS ${mb(report.peak)} MB`
      })

    let worstGrowth = 0
    const summary: Array<string> = []
    let curlMissing = false
    for (const target of targets) {
      console.log(`\n${target.name}:`)
      // Cold: the first full upload also loads the code paths of an upload (undici's multipart encoder, ...).
      yield* ask(servers, "reset")
      const [, cold] = yield* measure(Effect.zipRight(upload(target, small), upload(target, path)))
      worstGrowth = Math.max(worstGrowth, cold.peak - cold.before)
      console.log(
        `  cold  uploadFile: client RSS before ${mb(cold.before)} MB, peak ${mb(cold.peak)} MB (+${
          mb(cold.peak - cold.before)
        }), after ${mb(cold.after)} MB; ${yield* received(target)}`
      )
      if (!curlMissing) curlMissing = (yield* curlUpload(target.url, path)) === "missing"

      // Measured runs, alternating the client and curl so that both meet the server in the same state.
      const clientRates: Array<number> = []
      const curlRates: Array<number> = []
      for (let run = 1; run <= runs; run++) {
        yield* ask(servers, "reset")
        const [result, m] = yield* measure(upload(target, path))
        const rate = size / MB / m.seconds
        clientRates.push(rate)
        worstGrowth = Math.max(worstGrowth, m.peak - m.before)
        console.log(
          `  run ${run} uploadFile: ${m.seconds.toFixed(2)} s, ${rate.toFixed(0).padStart(4)} MB/s; client RSS before ${
            mb(m.before)
          } MB, peak ${mb(m.peak)} MB (+${mb(m.peak - m.before)}), after ${
            mb(m.after)
          } MB; id ${result.id}; ${yield* received(
            target
          )}`
        )
        if (curlMissing) continue
        yield* ask(servers, "reset")
        const outcome = yield* curlUpload(target.url, path)
        if (outcome === "missing") continue
        const curlRate = size / MB / outcome.seconds
        curlRates.push(curlRate)
        console.log(
          `  run ${run} curl -F   : ${outcome.seconds.toFixed(2)} s, ${
            curlRate.toFixed(0).padStart(4)
          } MB/s; HTTP ${outcome.status} ${outcome.body}; ${yield* received(target)}`
        )
      }
      summary.push(
        `${target.name}: uploadFile ${median(clientRates).toFixed(0)} MB/s, curl ${
          curlMissing ? "n/a (curl is not installed)" : `${median(curlRates).toFixed(0)} MB/s`
        }`
      )
    }

    const met = worstGrowth < TARGET_GROWTH_MB * MB
    console.log(`\nSummary (${mb(size)} MB file, medians of ${runs} runs):`)
    for (const line of summary) console.log(`  ${line}`)
    console.log(
      `  client RSS growth during an upload: at most ${mb(worstGrowth)} MB (target < ${TARGET_GROWTH_MB} MB: ${
        met ? "met" : "MISSED"
      })`
    )
    return met ? 0 : 1
  }).pipe(Effect.scoped)

// ---------------------------------------------------------------------------------------------------------------
// main
// ---------------------------------------------------------------------------------------------------------------

const args = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== "--"),
  options: {
    serve: { type: "boolean" },
    "size-mb": { type: "string" },
    runs: { type: "string" }
  },
  strict: true
}).values

const main: Effect.Effect<number> = args.serve === true
  ? Effect.as(Effect.orDie(serveChild), 0)
  : Effect.orDie(bench(Number(args["size-mb"] ?? 100), Math.max(1, Number(args.runs ?? 3))))

NodeRuntime.runMain(main, {
  disableErrorReporting: false,
  teardown: (exit, onExit) => onExit(Exit.isSuccess(exit) && typeof exit.value === "number" ? exit.value : 1)
})
