/**
 * Reading and checking a file before upload, shared by `uploadMedia` and by `sendMediaFile`'s check before it
 * uploads: each field of the input is read once, and whatever the input throws as it is read (a getter, a Proxy, a
 * Blob that fails) is refused as `InvalidInput`, never a defect.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as MediaFile from "../MediaFile.js"
import { describeThrown, suspendGuarded } from "./describe.js"

/** Enough leading bytes for every signature `MediaFile.sniff` knows. */
const HEAD_BYTES = 64

/** What is read of an upload's input. */
export interface UploadFields {
  readonly data?: unknown
  readonly filename?: unknown
  readonly mimeType?: unknown
}

/** A file that passed the checks: its facts and its bytes. */
export interface CheckedUpload {
  readonly checked: MediaFile.CheckedFile
  readonly data: Uint8Array | Blob
}

const invalid = (field: "input" | "data", reason: string) =>
  new MediaFile.InvalidMedia({ rule: "InvalidInput", field, reason }, { disableValidation: true })

const unreadable = (thrown: unknown) => invalid("input", `the input could not be read: ${describeThrown(thrown)}`)

/** Reads the first bytes of the input and checks the file (type, size, name). */
export const checkUpload = (input: UploadFields): Effect.Effect<CheckedUpload, MediaFile.InvalidMedia> =>
  suspendGuarded(() => {
    if (typeof input !== "object" || input === null) {
      return Effect.fail(invalid("input", "the input must be an object with data and filename"))
    }
    const { data, filename, mimeType } = input
    const head: Effect.Effect<Uint8Array, MediaFile.InvalidMedia> = data instanceof Uint8Array
      ? Effect.succeed(data.subarray(0, HEAD_BYTES))
      : data instanceof Blob
      ? Effect.tryPromise({
        // the conversion inside the promise: a rejection or a throw there reaches `catch`
        try: () => data.slice(0, HEAD_BYTES).arrayBuffer().then((buffer) => new Uint8Array(buffer)),
        catch: (cause) => invalid("data", `the file could not be read: ${describeThrown(cause)}`)
      })
      : Effect.fail(invalid("data", "data must be a Uint8Array or a Blob"))
    return Effect.flatMap(head, (bytes) =>
      suspendGuarded(() => {
        const size = data instanceof Blob ? data.size : (data as Uint8Array).length
        const checked = MediaFile.check({ head: bytes, size, filename, mimeType })
        return Either.isLeft(checked)
          ? Effect.fail(checked.left)
          : Effect.succeed({ checked: checked.right, data: data as Uint8Array | Blob })
      }, unreadable))
  }, unreadable)

/** {@link checkUpload}, then the file as the `Blob` sent, typed with its checked MIME type. */
export const readUpload = (
  input: UploadFields
): Effect.Effect<{ readonly checked: MediaFile.CheckedFile; readonly blob: Blob }, MediaFile.InvalidMedia> =>
  Effect.flatMap(checkUpload(input), ({ checked, data }) =>
    suspendGuarded(() =>
      Effect.succeed({
        checked,
        blob: data instanceof Blob
          ? data.slice(0, data.size, checked.mimeType)
          : new Blob([data as Uint8Array<ArrayBuffer>], { type: checked.mimeType })
      }), unreadable))
