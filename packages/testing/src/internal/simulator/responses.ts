/**
 * The simulator's answers: every response of Kaleyra's specification with its exact status and body, byte for byte,
 * and the answers the simulator chooses where the specification is silent (404, 405, an upload's id).
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import type * as KaleyraSimulator from "../../KaleyraSimulator.js"

type SimResponse = KaleyraSimulator.SimResponse
type FailCode = KaleyraSimulator.FailCode

export const JSON_HEADERS: Readonly<Record<string, string>> = Object.freeze({ "content-type": "application/json" })
const HTML_HEADERS: Readonly<Record<string, string>> = Object.freeze({ "content-type": "text/html" })

const failure = (code: string, message: string, key: string, detail: string, data: "{}" | "[]" = "{}") =>
  `{"code":${JSON.stringify(code)},"message":${JSON.stringify(message)},"data":${data},"error":{${
    JSON.stringify(key)
  }:${JSON.stringify(detail)}}}`

export const jsonResponse = (status: number, body: string): SimResponse =>
  Object.freeze({ status, headers: JSON_HEADERS, body })

export const gatewayPage = (status: number, title: string): SimResponse =>
  Object.freeze({
    status,
    headers: HTML_HEADERS,
    body: `<html>\r\n<head><title>${status} ${title}</title></head>\r\n<body>\r\n<center><h1>${status} ${title}</h1>` +
      `</center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`
  })

export const failCodes: ReadonlyArray<FailCode> = [
  "RBC001",
  "WA401",
  "WA400",
  "WA500",
  "E110",
  "WA-401-account",
  "WA-401-phone_number",
  "WAV2101",
  "429",
  "503-html",
  "502-html",
  "invalid-json",
  "empty-body"
]

/** The seed writes the account variant as plain `WA-401`; an unknown code is a defect that names the known ones. */
export const canonicalFailCode = (code: string): Effect.Effect<FailCode> => {
  const canonical = code === "WA-401" ? "WA-401-account" : code
  return (failCodes as ReadonlyArray<string>).includes(canonical)
    ? Effect.succeed(canonical as FailCode)
    : Effect.dieMessage(`unknown fail code ${JSON.stringify(code)}: one of ${failCodes.join(", ")}`)
}

export const RESPONSES = {
  RBC001: jsonResponse(401, failure("RBC001", "Incorrect SID or API key.", "error", "Incorrect SID or API key.", "[]")),
  WA401: jsonResponse(
    401,
    failure(
      "WA401",
      "Phone number is not present or does not belong to the account.",
      "phone_number",
      "Phone number is not present or does not belong to the account."
    )
  ),
  WA400: jsonResponse(400, failure("WA400", "Refer to correct payload format", "payload", "Incorrect payload format")),
  WA500: jsonResponse(500, failure("WA500", "Please try again later", "error", "Internal server error")),
  E110: jsonResponse(
    400,
    failure(
      "E110",
      "Please check your balance, You have a low balance!",
      "balance",
      "Please check your balance, You have a low balance!"
    )
  ),
  "WA-401-account": jsonResponse(
    401,
    failure(
      "WA-401",
      "API is not available for given customer.Please contact support for more info",
      "account",
      "API is not available for given customer.Please contact support for more info"
    )
  ),
  "WA-401-phone_number": jsonResponse(
    401,
    failure(
      "WA-401",
      "The phone number you're using is associated with different Version of our WA API. Please use the appropriate endpoint.",
      "phone_number",
      "The phone number you're using is associated with different Version of our WA API. Please use the appropriate endpoint."
    )
  ),
  WAV2101: jsonResponse(
    403,
    failure(
      "WAV2101",
      "Daily message limit reached for the account. Please contact support to increase the limit.",
      "limit",
      "Daily message limit reached for the account."
    )
  ),
  "429": jsonResponse(429, `{"message":"Too Many Requests"}`),
  "503-html": gatewayPage(503, "Service Temporarily Unavailable"),
  "502-html": gatewayPage(502, "Bad Gateway"),
  "invalid-json": jsonResponse(200, `{"code":"WA202",`),
  "empty-body": jsonResponse(202, "")
} as const satisfies Record<FailCode, SimResponse>

export const NOT_FOUND = jsonResponse(404, `{"message":"Not Found"}`)

export const METHOD_NOT_ALLOWED: SimResponse = Object.freeze({
  status: 405,
  headers: Object.freeze({ "content-type": "application/json", allow: "POST" }),
  body: `{"message":"Method Not Allowed"}`
})

export const accepted = (messageId: string): SimResponse => ({
  status: 202,
  headers: JSON_HEADERS,
  body: `{"code":"WA202","message":"Request Accepted","data":{"message_id":"${messageId}"},"error":{}}`
})

/** Meta's shape for an upload (Kaleyra documents none). */
export const uploaded = (mediaId: string): SimResponse => jsonResponse(200, `{"id":"${mediaId}"}`)

export const responseOf = (code: FailCode, retryAfter: number | undefined): SimResponse =>
  code === "429" && retryAfter !== undefined
    ? {
      status: 429,
      headers: { "content-type": "application/json", "retry-after": String(Math.max(0, Math.floor(retryAfter))) },
      body: RESPONSES["429"].body
    }
    : RESPONSES[code]

/** The codes that mangle the answer of a request processed as usual, rather than refuse it. */
export type Garble = "invalid-json" | "empty-body"

export const isGarble = (code: FailCode): code is Garble => code === "invalid-json" || code === "empty-body"

export const isSuccess = (response: SimResponse): boolean => response.status >= 200 && response.status < 300
