/** The bundle of `entry` (an absolute path) as one ES module, built once per process: its path (see bundle.mjs). */
export declare const bundle: (entry: string) => Promise<string>
