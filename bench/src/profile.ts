/**
 * Summarises a V8 CPU profile (`node --cpu-prof`): self time by package, by file and by function, and the time
 * charged to the nearest workspace function on the stack.
 *
 * `pnpm bench --only cpu --profile` profiles the benchmark process and prints this summary. By hand:
 *
 *   npx tsx bench/src/profile.ts /tmp/prof/CPU.*.cpuprofile [--top 30]
 *
 * Positions are mapped back to the TypeScript sources: through the bundle's source map (`*.mjs.map`, see
 * `build.ts`), or through the source maps `tsx` keeps in its cache (`$TMPDIR/tsx-<uid>/`) for code it ran.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { fixed, printTable } from "./util.js"

// ---------------------------------------------------------------------------------------------------------------
// source maps
// ---------------------------------------------------------------------------------------------------------------

type Segment = readonly [generatedColumn: number, source: number, line: number, column: number]

interface SourceMap {
  readonly sources: ReadonlyArray<string>
  readonly lines: ReadonlyArray<ReadonlyArray<Segment>>
}

const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

/** Decodes a source map's `mappings`: the segments of each generated line. */
const decodeMappings = (mappings: string): Array<Array<Segment>> => {
  const lines: Array<Array<Segment>> = []
  let source = 0
  let originalLine = 0
  let originalColumn = 0
  for (const line of mappings.split(";")) {
    const segments: Array<Segment> = []
    let column = 0
    for (const segment of line.split(",")) {
      if (segment === "") continue
      const values: Array<number> = []
      let value = 0
      let shift = 0
      for (const char of segment) {
        const digit = BASE64.indexOf(char)
        value += (digit & 31) << shift
        if (digit & 32) shift += 5
        else {
          values.push(value & 1 ? -(value >>> 1) : value >>> 1)
          value = 0
          shift = 0
        }
      }
      column += values[0]
      if (values.length >= 4) {
        source += values[1]
        originalLine += values[2]
        originalColumn += values[3]
        segments.push([column, source, originalLine, originalColumn])
      }
    }
    lines.push(segments)
  }
  return lines
}

interface RawMap {
  readonly mappings?: unknown
  readonly sources?: unknown
  readonly sourcesContent?: ReadonlyArray<unknown>
}

const readMap = (raw: RawMap, base: string): SourceMap | undefined => {
  if (typeof raw.mappings !== "string" || !Array.isArray(raw.sources)) return undefined
  const sources = raw.sources.map((s) => typeof s === "string" ? resolve(base, s) : "")
  return { sources, lines: decodeMappings(raw.mappings) }
}

interface Position {
  /** The original file's absolute path. */
  readonly path: string
  /** 1-based. */
  readonly line: number
}

class SourceMapper {
  private tsxCache: Map<string, Array<{ readonly raw: RawMap; readonly content: unknown; readonly mtime: number }>> =
    new Map()
  private tsxLoaded = false
  private readonly maps = new Map<string, SourceMap | null>()

  private loadTsxCache() {
    if (this.tsxLoaded) return
    this.tsxLoaded = true
    const uid = typeof process.getuid === "function" ? process.getuid() : 0
    const dir = join(tmpdir(), `tsx-${uid}`)
    let names: Array<string> = []
    try {
      names = readdirSync(dir)
    } catch {
      return
    }
    for (const name of names) {
      try {
        const file = join(dir, name)
        const parsed = JSON.parse(readFileSync(file, "utf8")) as { readonly map?: RawMap }
        const raw = parsed.map
        const first = Array.isArray(raw?.sources) ? raw.sources[0] : undefined
        if (raw === undefined || typeof first !== "string") continue
        const entries = this.tsxCache.get(first) ?? []
        entries.push({ raw, content: raw.sourcesContent?.[0], mtime: statSync(file).mtimeMs })
        this.tsxCache.set(first, entries)
      } catch {
        // not a transform cache entry
      }
    }
  }

  private mapFor(path: string): SourceMap | null {
    const known = this.maps.get(path)
    if (known !== undefined) return known
    let map: SourceMap | null = null
    if (path.endsWith(".mjs") && existsSync(`${path}.map`)) {
      // a bundle of ours
      try {
        map = readMap(JSON.parse(readFileSync(`${path}.map`, "utf8")) as RawMap, dirname(path)) ?? null
      } catch {
        map = null
      }
    } else if (path.endsWith(".ts")) {
      // tsx's transform of a TypeScript file: the entry made from the file as it is now, or the latest one
      this.loadTsxCache()
      const candidates = this.tsxCache.get(path) ?? []
      let current: string | undefined
      try {
        current = readFileSync(path, "utf8")
      } catch {
        current = undefined
      }
      const entry = candidates.find((c) => c.content === current) ??
        [...candidates].sort((a, b) => b.mtime - a.mtime)[0]
      map = entry === undefined ? null : readMap(entry.raw, dirname(path)) ?? null
    }
    this.maps.set(path, map)
    return map
  }

  /** The original position of a 0-based position in the code V8 ran for `url`, if a source map tells it. */
  position(url: string, line: number, column: number): Position | undefined {
    if (!url.startsWith("file://")) return undefined
    const map = this.mapFor(fileURLToPath(url))
    const segments = map?.lines[line]
    if (map === null || map === undefined || segments === undefined) return undefined
    let found: Segment | undefined
    for (const segment of segments) {
      if (segment[0] > column) break
      found = segment
    }
    if (found === undefined) return undefined
    const path = map.sources[found[1]]
    return path === undefined || path === "" ? undefined : { path, line: found[2] + 1 }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// the profile
// ---------------------------------------------------------------------------------------------------------------

interface CallFrame {
  readonly functionName: string
  readonly url: string
  readonly lineNumber: number
  readonly columnNumber: number
}

interface ProfileNode {
  readonly id: number
  readonly callFrame: CallFrame
  readonly children?: ReadonlyArray<number>
}

interface Profile {
  readonly nodes: ReadonlyArray<ProfileNode>
  readonly samples: ReadonlyArray<number>
  readonly timeDeltas: ReadonlyArray<number>
}

const isProfile = (u: unknown): u is Profile =>
  typeof u === "object" && u !== null && Array.isArray((u as { readonly nodes?: unknown }).nodes) &&
  Array.isArray((u as { readonly samples?: unknown }).samples) &&
  Array.isArray((u as { readonly timeDeltas?: unknown }).timeDeltas)

/** `effect/dist/esm/internal/fiberRuntime.js` or `@effect-kaleyra/core/src/KaleyraClient.ts`, and its package. */
export const locate = (path: string): { readonly file: string; readonly pkg: string } => {
  if (path === "") return { file: "(native / V8)", pkg: "(native / V8)" }
  if (path.startsWith("node:")) return { file: path, pkg: "node internals" }
  const plain = path.replace(/^file:\/\//, "")
  const modules = plain.lastIndexOf("/node_modules/")
  if (modules !== -1) {
    const rest = plain.slice(modules + "/node_modules/".length)
    const parts = rest.split("/")
    const pkg = parts[0].startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0]
    return { file: rest, pkg }
  }
  const workspace = /\/(packages|bench)\/([^/]+)\/(.*)$/.exec(plain)
  if (workspace !== null) {
    return workspace[1] === "bench"
      ? { file: `bench/${workspace[2]}/${workspace[3]}`, pkg: "bench" }
      : { file: `@effect-kaleyra/${workspace[2]}/${workspace[3]}`, pkg: `@effect-kaleyra/${workspace[2]}` }
  }
  return { file: plain, pkg: "other" }
}

const add = (map: Map<string, number>, key: string, value: number) => map.set(key, (map.get(key) ?? 0) + value)

/** Prints the summary; returns the busy (non-idle) milliseconds. */
export const summarizeProfile = (profile: Profile, top: number): number => {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const parentOf = new Map<number, number>()
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id)
  const mapper = new SourceMapper()

  const frames = new Map<number, { readonly key: string; readonly file: string; readonly pkg: string }>()
  const frameOf = (id: number) => {
    const known = frames.get(id)
    if (known !== undefined) return known
    const frame = byId.get(id)!.callFrame
    const position = mapper.position(frame.url, frame.lineNumber, frame.columnNumber)
    const where = locate(position?.path ?? frame.url)
    const name = frame.functionName === "" ? "(anonymous)" : frame.functionName
    const line = position?.line ?? frame.lineNumber + 1
    const described = { key: `${name}  ${where.file}${frame.url === "" ? "" : `:${line}`}`, ...where }
    frames.set(id, described)
    return described
  }

  // Each sample is charged to the nearest workspace function on its stack (itself included): what the library's
  // own functions cost with the effect / platform / node work they call.
  const nearest = new Map<number, string>()
  const nearestWorkspace = (id: number): string => {
    const known = nearest.get(id)
    if (known !== undefined) return known
    let cursor: number | undefined = id
    let key = "(no workspace function on the stack: fiber runtime, scheduler, I/O)"
    while (cursor !== undefined) {
      const frame = frameOf(cursor)
      if (frame.pkg.startsWith("@effect-kaleyra/")) {
        key = frame.key
        break
      }
      cursor = parentOf.get(cursor)
    }
    nearest.set(id, key)
    return key
  }

  const selfById = new Map<number, number>()
  let total = 0
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i + 1] ?? 0
    selfById.set(profile.samples[i], (selfById.get(profile.samples[i]) ?? 0) + delta)
    total += delta
  }
  const byFunction = new Map<string, number>()
  const byFile = new Map<string, number>()
  const byPackage = new Map<string, number>()
  const byWorkspace = new Map<string, number>()
  let idle = 0
  for (const [id, micros] of selfById) {
    const name = byId.get(id)!.callFrame.functionName
    if (name === "(idle)") {
      idle += micros
      continue
    }
    const frame = frameOf(id)
    add(byFunction, frame.key, micros)
    add(byFile, frame.file, micros)
    add(byPackage, frame.pkg, micros)
    if (name !== "(garbage collector)" && name !== "(program)") add(byWorkspace, nearestWorkspace(id), micros)
  }
  const busy = total - idle
  const rows = (map: Map<string, number>, n: number) =>
    [...map].sort((a, b) => b[1] - a[1]).slice(0, n).map(([key, micros]) => [
      key,
      fixed(micros / 1000, 1),
      `${fixed(micros / busy * 100, 1)} %`
    ])
  console.log(`profile: ${fixed(total / 1000, 0)} ms sampled, ${fixed(busy / 1000, 0)} ms busy (idle excluded)`)
  console.log("")
  printTable(["self time by package", "ms", "of busy"], rows(byPackage, 12))
  console.log("")
  printTable(["self time by file", "ms", "of busy"], rows(byFile, top))
  console.log("")
  printTable(["self time by function", "ms", "of busy"], rows(byFunction, top))
  console.log("")
  printTable(["time by nearest workspace function (GC excluded)", "ms", "of busy"], rows(byWorkspace, top))
  return busy / 1000
}

/** Reads and summarises a `.cpuprofile` file. */
export const summarizeProfileFile = (file: string, top: number): void => {
  const profile: unknown = JSON.parse(readFileSync(file, "utf8"))
  if (!isProfile(profile)) throw new Error(`${file} is not a V8 CPU profile`)
  console.log(`== ${file}`)
  summarizeProfile(profile, top)
}

const main = () => {
  const args = process.argv.slice(2)
  const topIndex = args.indexOf("--top")
  const top = topIndex === -1 ? 30 : Number(args[topIndex + 1])
  const files = args.filter((arg, i) => !arg.startsWith("--") && (topIndex === -1 || i !== topIndex + 1))
  if (files.length === 0) {
    console.error("usage: tsx bench/src/profile.ts <file.cpuprofile> [--top 30]")
    process.exitCode = 2
    return
  }
  for (const file of files) summarizeProfileFile(file, top)
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main()
