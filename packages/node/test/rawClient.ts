import { Effect } from "effect"
import { request as httpRequest } from "node:http"

/** What a raw request got back. */
export interface Answer {
  readonly status: number
  readonly headers: Record<string, string | Array<string> | undefined>
  readonly body: string
}

export interface RawRequest {
  readonly method?: string
  readonly headers?: Record<string, string>
  readonly body?: string | Uint8Array
  /** Sends the body in pieces, without a content-length. */
  readonly chunked?: boolean
}

/** One request with `node:http` on a fresh connection (no agent), the whole answer read as text. */
export const rawRequest = (url: string, options: RawRequest = {}) =>
  Effect.async<Answer, Error>((resume) => {
    const req = httpRequest(
      url,
      { method: options.method ?? "POST", headers: options.headers ?? {}, agent: false },
      (res) => {
        const chunks: Array<Buffer> = []
        res.on("data", (c: Buffer) => chunks.push(c))
        res.on("end", () =>
          resume(Effect.succeed({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString("utf8")
          })))
        res.on("error", (error) => resume(Effect.fail(error)))
      }
    )
    req.on("error", (error) => resume(Effect.fail(error)))
    const body = options.body
    if (body === undefined) return void req.end()
    if (options.chunked === true) {
      const bytes = Buffer.from(body)
      for (let i = 0; i < bytes.length; i += 16 * 1024) req.write(bytes.subarray(i, i + 16 * 1024))
      req.end()
    } else {
      req.end(body)
    }
  })
