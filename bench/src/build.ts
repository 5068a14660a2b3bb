/**
 * Builds the benchmark into plain JavaScript, so that it runs on bare `node`: no `tsx` loader (which adds a loader
 * thread with its own V8 heap, about 80 MB of RSS, and wraps every function in a `__name` call).
 *
 * The workspace packages are bundled from their TypeScript sources (`@effect-kaleyra/source` condition); every
 * other package stays external, imported by the absolute path of the very file Node would load, so that `effect`,
 * `@effect/platform` and `undici` are loaded exactly as an application loads them.
 *
 * esbuild is the one `tsx` runs on (the bench does not depend on it directly); when it cannot be loaded, the launcher
 * falls back to `tsx`.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { SOURCE_CONDITION, srcDir } from "./util.js"

interface ResolveResult {
  readonly path: string
  readonly external: boolean
  readonly errors: ReadonlyArray<{ readonly text: string }>
}

interface OnResolveArgs {
  readonly path: string
  readonly kind: string
  readonly resolveDir: string
  readonly pluginData: unknown
}

interface PluginBuild {
  readonly onResolve: (
    options: { readonly filter: RegExp },
    callback: (args: OnResolveArgs) => Promise<{ readonly path: string; readonly external?: boolean } | undefined>
  ) => void
  readonly resolve: (
    path: string,
    options: { readonly kind: string; readonly resolveDir: string; readonly pluginData: unknown }
  ) => Promise<ResolveResult>
}

interface Esbuild {
  readonly version: string
  readonly build: (options: {
    readonly entryPoints: Readonly<Record<string, string>>
    readonly outdir: string
    readonly bundle: true
    readonly platform: "node"
    readonly format: "esm"
    readonly target: string
    readonly conditions: ReadonlyArray<string>
    readonly sourcemap: "linked"
    readonly outExtension: Readonly<Record<string, string>>
    readonly logLevel: "warning"
    readonly plugins: ReadonlyArray<{ readonly name: string; readonly setup: (build: PluginBuild) => void }>
  }) => Promise<{ readonly errors: ReadonlyArray<unknown> }>
}

const loadEsbuild = (): Esbuild | undefined => {
  try {
    const fromTsx = createRequire(createRequire(import.meta.url).resolve("tsx"))
    const loaded: unknown = fromTsx("esbuild")
    return typeof (loaded as { readonly build?: unknown }).build === "function" ? loaded as Esbuild : undefined
  } catch {
    return undefined
  }
}

const AGAIN = Symbol("resolving with esbuild itself")

/** Bare imports that resolve outside the workspace stay external, by absolute path. */
const externalThirdParty = {
  name: "external-third-party",
  setup: (build: PluginBuild) => {
    build.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.pluginData === AGAIN) return undefined
      const resolved = await build.resolve(args.path, {
        kind: args.kind,
        resolveDir: args.resolveDir,
        pluginData: AGAIN
      })
      if (resolved.errors.length > 0) return undefined
      if (resolved.external || !resolved.path.startsWith("/")) return { path: args.path, external: true }
      return resolved.path.includes("/node_modules/") ? { path: resolved.path, external: true } : undefined
    })
  }
}

export interface Bundle {
  readonly dir: string
  readonly entry: string
  readonly server: string
  readonly campaign: string
  readonly contender: string
  readonly durable: string
  readonly esbuild: string
}

/**
 * Builds `entry.mjs`, `server.mjs`, `campaign.mjs`, `contender.mjs` and `durable.mjs` (with source maps) into a fresh temporary
 * folder. A string when esbuild cannot be loaded (the launcher then runs the sources through tsx); an `Error` when
 * the build fails: the sources do not compile, and no figure should be taken from them (under tsx a send costs
 * several µs more, so its figures are not comparable with the bundle's).
 */
export const buildBundle = async (): Promise<Bundle | string | Error> => {
  const esbuild = loadEsbuild()
  if (esbuild === undefined) return "esbuild (a dependency of tsx) could not be loaded"
  const dir = mkdtempSync(join(tmpdir(), "effect-kaleyra-bench-"))
  const failed = (message: string) => {
    rmSync(dir, { recursive: true, force: true })
    return new Error(message)
  }
  try {
    const result = await esbuild.build({
      entryPoints: {
        entry: join(srcDir, "entry.ts"),
        server: join(srcDir, "server.ts"),
        campaign: join(srcDir, "campaign-entry.ts"),
        contender: join(srcDir, "contender-entry.ts"),
        durable: join(srcDir, "durable-entry.ts")
      },
      outdir: dir,
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      conditions: [SOURCE_CONDITION],
      sourcemap: "linked",
      outExtension: { ".js": ".mjs" },
      logLevel: "warning",
      plugins: [externalThirdParty]
    })
    if (result.errors.length > 0) return failed(`esbuild failed with ${result.errors.length} errors`)
  } catch (error) {
    return failed(`esbuild failed: ${error instanceof Error ? error.message : String(error)}`)
  }
  return {
    dir,
    entry: join(dir, "entry.mjs"),
    server: join(dir, "server.mjs"),
    campaign: join(dir, "campaign.mjs"),
    contender: join(dir, "contender.mjs"),
    durable: join(dir, "durable.mjs"),
    esbuild: esbuild.version
  }
}
