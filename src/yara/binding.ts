/**
 * Loads YARA-X's Node binding and gives it a typed surface of exactly what shmhunt calls.
 *
 * Why not `import "@litko/yara-x"`: that package's loader (0.3.0, the newest published) expects its platform
 * package at the same version, and its types describe the 0.3.0 binding (YARA-X 1.7). shmhunt pins the platform
 * package at 0.7.2 (YARA-X 1.20: faster compiles, number/boolean externals, per-scan timeouts, serialised rules),
 * so it loads that package's `.node` directly and checks at load time that the exports it needs are there.
 * On a platform without the pinned package it falls back to `@litko/yara-x`'s own loader. See docs/yara.md.
 */
import { createRequire } from "node:module";

/** One pattern match as the binding reports it. Its `data` is a lossy string: shmhunt reads the bytes itself. */
export interface BindingMatch {
  readonly offset: number;
  readonly length: number;
  readonly data: string;
  readonly identifier: string;
}

export interface BindingRuleMatch {
  readonly ruleIdentifier: string;
  readonly namespace: string;
  readonly meta: Readonly<Record<string, string | number | boolean>>;
  readonly tags: readonly string[];
  readonly matches: readonly BindingMatch[];
}

export interface BindingCompileIssue {
  readonly code: string;
  readonly message: string;
}

interface BindingCompileResult {
  readonly warnings: readonly BindingCompileIssue[];
  readonly errors: readonly BindingCompileIssue[];
}

export type ExternalValue = string | number | boolean;

interface BindingCompilerOptions {
  defineVariables?: Readonly<Record<string, ExternalValue>>;
}

/** Compiled rules with a scanner attached (one per process; scans are synchronous). */
export interface BindingRules {
  scan(data: Uint8Array): BindingRuleMatch[];
  scanFile(path: string): BindingRuleMatch[];
  setMaxMatchesPerPattern(max: number): void;
  /** Milliseconds (checked by YARA-X once a second). Present from binding 0.7. */
  setTimeout?(milliseconds: number): void;
  /** Present from binding 0.7. */
  serialize?(): Buffer;
}

interface YaraBinding {
  compile(source: string, options?: BindingCompilerOptions): BindingRules;
  validate(source: string, options?: BindingCompilerOptions): BindingCompileResult;
  /** Present from binding 0.7. */
  deserialize?(data: Uint8Array): BindingRules;
}

interface LoadedBinding {
  readonly binding: YaraBinding;
  /** The npm package the native code came from, and its version. */
  readonly packageName: string;
  readonly version: string;
}

const PINNED_PLATFORM_PACKAGES: Readonly<Record<string, string>> = {
  "linux-x64": "@litko/yara-x-linux-x64-gnu",
};

let loaded: LoadedBinding | undefined;

/** The YARA-X binding, loaded once per process. Throws with a clear reason when it cannot be loaded. */
export function loadYaraBinding(): LoadedBinding {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  const platformPackage = PINNED_PLATFORM_PACKAGES[`${process.platform}-${process.arch}`];
  const candidates = [platformPackage, "@litko/yara-x"].filter((name): name is string => name !== undefined);
  const failures: string[] = [];
  for (const packageName of candidates) {
    try {
      const binding = require(packageName) as unknown;
      assertBinding(binding, packageName);
      const version = (require(`${packageName}/package.json`) as { version: string }).version;
      loaded = { binding, packageName, version };
      return loaded;
    } catch (error) {
      failures.push(`${packageName}: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`);
    }
  }
  throw new Error(`cannot load the YARA-X binding (${failures.join("; ")})`);
}

function assertBinding(value: unknown, packageName: string): asserts value is YaraBinding {
  const candidate = value as Partial<YaraBinding> | null;
  if (typeof candidate?.compile !== "function" || typeof candidate.validate !== "function") {
    throw new Error(`${packageName} does not export compile() and validate()`);
  }
}
