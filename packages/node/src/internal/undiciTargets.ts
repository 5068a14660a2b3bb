/**
 * Where a request goes (origin and path), with a cache of validated origins: a URL is parsed only when it needs it.
 *
 * @internal
 */
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as UrlParams from "@effect/platform/UrlParams"
import * as Option from "effect/Option"

/** A path that the WHATWG URL parser would leave exactly as it is (no encoding, no dot segments). */
const PLAIN_PATH = /^\/[A-Za-z0-9\-_~.!$&()*+,;=:@%/?]*$/
const DOT_SEGMENT = /\/\.|%2e/i

const MAX_CACHED_ORIGINS = 256

/** @internal */
export interface Target {
  readonly origin: string
  readonly path: string
}

/** @internal */
export class Targets {
  /** Raw scheme+authority prefix -> normalised origin, or `null` when the prefix needs the full parser. */
  private readonly origins = new Map<string, string | null>()

  resolve(request: HttpClientRequest.HttpClientRequest): Target | Error {
    if (request.urlParams.length === 0 && request.hash._tag === "None") {
      const target = this.plain(request.url)
      if (target !== undefined) return target
    }
    return this.parse(request.url, request.urlParams, request.hash)
  }

  /** The last URL given to {@link resolveUrl} and its target (a client sends to one URL, again and again). */
  private lastUrl: string | undefined = undefined
  private lastTarget: Target | Error | undefined = undefined

  /** An absolute URL. */
  resolveUrl(url: string): Target | Error {
    if (url === this.lastUrl) return this.lastTarget!
    const target = this.plain(url) ?? this.parse(url, UrlParams.empty, Option.none())
    this.lastUrl = url
    this.lastTarget = target
    return target
  }

  /** The target of a URL whose origin is cached and whose path needs no normalising. */
  private plain(url: string): Target | undefined {
    const schemeEnd = url.indexOf("://")
    if (schemeEnd <= 0) return undefined
    const pathStart = url.indexOf("/", schemeEnd + 3)
    const prefix = pathStart === -1 ? url : url.slice(0, pathStart)
    let origin = this.origins.get(prefix)
    if (origin === undefined) origin = this.remember(prefix)
    if (origin === null) return undefined
    const path = pathStart === -1 ? "/" : url.slice(pathStart)
    return PLAIN_PATH.test(path) && !DOT_SEGMENT.test(path) ? { origin, path } : undefined
  }

  private remember(prefix: string): string | null {
    let origin: string | null = null
    try {
      const parsed = new URL(prefix)
      if (
        (parsed.protocol === "http:" || parsed.protocol === "https:") && parsed.pathname === "/" &&
        parsed.search === "" && parsed.hash === "" && parsed.username === "" && parsed.password === "" &&
        !prefix.includes("?") && !prefix.includes("#")
      ) {
        origin = parsed.origin
      }
    } catch {
      origin = null
    }
    if (this.origins.size >= MAX_CACHED_ORIGINS) this.origins.clear()
    this.origins.set(prefix, origin)
    return origin
  }

  private parse(url: string, urlParams: UrlParams.UrlParams, hash: Option.Option<string>): Target | Error {
    const result = UrlParams.makeUrl(url, urlParams, hash)
    if (result._tag === "Left") return result.left
    const parsed = result.right
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
      return new Error(`unsupported protocol ${JSON.stringify(parsed.protocol)}`)
    }
    // The fragment is never sent.
    return { origin: parsed.origin, path: parsed.pathname + parsed.search }
  }
}
