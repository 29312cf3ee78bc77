/** Types of dist-record.mjs, for the tests. */
export interface BuildRecord {
  readonly fingerprint: string
  readonly compiler: string
  /** Compiled with --allow-type-errors while tsc reported errors. */
  readonly typeErrors?: true
}
export declare const DIST: string
export declare const BUILD_RECORD: string
export declare const SOURCE_DIRS: ReadonlyArray<string>
export declare const filesUnder: (root: string, dir: string) => Array<string>
export declare const sourceFingerprint: (root: string) => string
export declare const buildRecord: (root: string) => BuildRecord | undefined
export declare const distIsFresh: (root: string) => boolean
