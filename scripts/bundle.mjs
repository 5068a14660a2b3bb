// A program of this repository as one ES module, for the tests that run it in a process of their own (the CLI, the
// crash test's workers, the examples). Bundled with esbuild from the sources, with the export condition that
// `tsx --conditions=@effect-kaleyra/source` uses: such a process starts in a fraction of a second, where tsx's loader
// cost it seconds of CPU. Here and not in a package's tests: the tests of several packages use it.
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

// In the campaign package's node_modules, so that the bundles' external imports (`libsql`, a native module and a
// dependency of the campaign package) resolve from there.
const outDir = fileURLToPath(new URL("../packages/campaign/node_modules/.bundles", import.meta.url))
const HOUR = 3_600_000

const root = fileURLToPath(new URL("..", import.meta.url))

/** Per entry: the bundle being built or built, and the modification times of the files it was built from. */
const bundles = new Map()

/** Whether a source of a built bundle changed since (a test process lives on in `vitest --watch`). */
const changed = (inputs) =>
  inputs.some(([file, mtimeMs]) => fs.statSync(file, { throwIfNoEntry: false })?.mtimeMs !== mtimeMs)

/**
 * The bundle of `entry` (an absolute path), built once per process, and again when one of its sources changed. Its
 * file is named after its content, so that test processes running side by side share it; bundles of the same entry
 * older than an hour are removed.
 *
 * @param {string} entry
 * @returns {Promise<string>} the bundle's path
 */
export const bundle = async (entry) => {
  let built = bundles.get(entry)
  if (built === undefined || changed((await built).inputs)) {
    built = build(entry)
    bundles.set(entry, built)
  }
  return (await built).file
}

const build = async (entry) => {
  const esbuild = await import("esbuild")
  const result = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    metafile: true,
    absWorkingDir: root,
    platform: "node",
    format: "esm",
    target: "node20",
    conditions: ["@effect-kaleyra/source"],
    external: ["libsql", "pg-native"],
    // CommonJS dependencies (undici) call `require` for Node's own modules
    banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
    logLevel: "error"
  })
  const code = result.outputFiles[0].contents
  const stem = path.basename(entry, path.extname(entry))
  const name = `${stem}-${createHash("sha256").update(code).digest("hex").slice(0, 16)}.mjs`
  const file = path.join(outDir, name)
  fs.mkdirSync(outDir, { recursive: true })
  // Written whole under another name, then renamed over the file (the same bytes if another process made it): a
  // process starting it never reads half a file, and its time tells another run's clean-up that it is in use.
  const partial = `${file}.${process.pid}`
  fs.writeFileSync(partial, code)
  fs.renameSync(partial, file)
  for (const other of fs.readdirSync(outDir)) {
    if (other === name || !other.startsWith(`${stem}-`)) continue
    const otherPath = path.join(outDir, other)
    if ((fs.statSync(otherPath, { throwIfNoEntry: false })?.mtimeMs ?? Infinity) < Date.now() - HOUR) {
      fs.rmSync(otherPath, { force: true })
    }
  }
  const inputs = Object.keys(result.metafile.inputs).map((input) => path.resolve(root, input))
  return { file, inputs: inputs.map((input) => [input, fs.statSync(input).mtimeMs]) }
}
