/** Types of bundle.mjs, for the tests. */
export interface BuildRecord {
  readonly fingerprint: string
  readonly packages?: Readonly<Record<string, string>>
  readonly builtAt: string
  readonly redirects: Readonly<Record<string, string>>
}
export declare const sourceFingerprint: (root: string) => string
export declare const installedVersion: (root: string, name: string) => string | undefined
export declare const DIST: string
export declare const BUILD_RECORD: string
export declare const builtBundle: (root: string) => BuildRecord | undefined
export declare const freshBundle: (root: string) => BuildRecord | undefined
