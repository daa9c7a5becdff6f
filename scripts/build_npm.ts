/**
 * Builds the npm package into `npm/` (what `npm publish npm/` ships) and the
 * test suite, compiled against that package, into `npm_test/`.
 *
 * dnt, the usual tool for this, lives only on JSR, which this project's
 * machines cannot reach; this script does the same job with the TypeScript
 * compiler from npm:
 *
 * - `mod.ts`, `testing.ts`, `core/`, `adapters/`, `cli/`, `dashboard/` and `runners/` become ESM
 *   JavaScript plus `.d.ts` files (ES2022; Node 22.5+, as `engines` says). Relative `.ts` import
 *   specifiers are rewritten to `.js` (`rewriteRelativeImportExtensions` for
 *   the JavaScript, a rewrite of the emitted text for the declarations).
 * - `npm/package.json` mirrors `deno.json`: name `taskmill`, the same version
 *   and the same `exports` map (each entry with `types`, `import`, and
 *   `require`: a CommonJS shim, as the package is ESM only), the CLI
 *   as `bin`, `ioredis` as an optional peer dependency and nothing else.
 * - `tests/*.ts` are compiled into `npm_test/` with their imports of the
 *   sources (`../mod.ts`, `../adapters/redis/mod.ts`, `../core/*.ts` ...) rewritten
 *   to the package (`taskmill`, `taskmill/redis` ...), which
 *   `npm_test/node_modules/taskmill` links to `npm/`: the Node run of the
 *   suite (`scripts/test_node.sh`) exercises the built package, type-checked
 *   against its shipped `.d.ts`.
 *
 * Usage: `npm run build` (= `deno run -A scripts/build_npm.ts`).
 *
 * @module
 */

import ts from "typescript";
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const OUT = join(ROOT, "npm");
const TEST_OUT = join(ROOT, "npm_test");

/** The npm package's name (JSR's is `@taskmill/taskmill`). */
export const NPM_NAME = "taskmill";

interface DenoJson {
  name: string;
  version: string;
  license?: string;
  exports: Record<string, string>;
}

/** One `exports` entry of the npm package. */
export interface NpmExport {
  /** The `.d.ts` file. */
  types: string;
  /** The ESM file. */
  import: string;
  /** What `require()` finds: a CommonJS file that loads the ESM one, or says why it cannot. */
  require: string;
}

/**
 * The npm `exports` map derived from deno.json's: the same subpaths, each
 * source `./x.ts` becoming `./x.js` with `./x.d.ts` types, and `./x.cjs`
 * for `require()` (see {@linkcode requireShim}).
 */
export function npmExports(denoExports: Record<string, string>): Record<string, NpmExport> {
  const out: Record<string, NpmExport> = {};
  for (const [subpath, file] of Object.entries(denoExports)) {
    if (!file.endsWith(".ts")) throw new Error(`deno.json export ${subpath} is not a .ts file`);
    const base = file.slice(0, -3);
    out[subpath] = { types: `${base}.d.ts`, import: `${base}.js`, require: `${base}.cjs` };
  }
  return out;
}

/**
 * The package is ESM only: there is no CommonJS build. What the "require"
 * condition points to is this small CommonJS file, which hands over the ES
 * module itself where Node's require() can load ES modules (Node 22.12+,
 * 24, 26, and Bun: the same module instance `import` gets, so nothing is
 * loaded twice), and elsewhere (older Node, or --no-experimental-require-module)
 * throws an error that says the package is ESM only and what to do, instead
 * of Node's ERR_PACKAGE_PATH_NOT_EXPORTED or ERR_REQUIRE_ESM about an inner file.
 */
export function requireShim(specifier: string, esmFile: string): string {
  const message = `${specifier} is ESM only (an ES module package, no CommonJS build), and ` +
    "this runtime's require() cannot load ES modules. Use import instead: " +
    `\`import { ... } from "${specifier}"\` in an ES module, or ` +
    `\`const { ... } = await import("${specifier}")\` in CommonJS; ` +
    "or run Node 22.12+ without --no-experimental-require-module, " +
    "whose require() loads ES modules.";
  return `"use strict";
// ${specifier} is ESM only. require("${specifier}") lands here: where require()
// can load ES modules this returns the ES module itself; elsewhere it says why not.
try {
  module.exports = require(${JSON.stringify(esmFile)});
} catch (error) {
  const code = error && error.code;
  if (code === "ERR_REQUIRE_ESM" || code === "ERR_REQUIRE_ASYNC_MODULE") {
    const esmOnly = new Error(${JSON.stringify(message)}, { cause: error });
    esmOnly.code = "ERR_REQUIRE_ESM";
    throw esmOnly;
  }
  throw error;
}
`;
}

/** The generated npm/package.json, from deno.json. */
export function npmPackageJson(deno: DenoJson): Record<string, unknown> {
  const exports = npmExports(deno.exports);
  const cli = exports["./cli"];
  return {
    name: NPM_NAME,
    version: deno.version,
    description:
      "A zero-dependency background job queue for TypeScript: the same on Deno, Bun and Node. " +
      "Retries, delays, timeouts, concurrency, leases and a dead-letter set; memory or Redis storage.",
    keywords: ["queue", "job", "jobs", "background", "worker", "redis", "task", "deno", "bun"],
    license: deno.license ?? "MIT",
    type: "module",
    main: exports["."].import,
    types: exports["."].types,
    exports,
    ...(cli ? { bin: { taskmill: cli.import } } : {}),
    files: [
      "*.js",
      "*.cjs",
      "*.d.ts",
      "core/",
      "adapters/",
      "cli/",
      "dashboard/",
      "runners/",
      "README.md",
      "LICENSE",
    ],
    sideEffects: false,
    // 22.5: node:sqlite, which SqliteStorage uses; Node 20 is end-of-life.
    engines: { node: ">=22.5" },
    peerDependencies: { ioredis: "^6.0.0" },
    peerDependenciesMeta: { ioredis: { optional: true } },
  };
}

const COMPILER_OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  declaration: true,
  strict: true,
  rewriteRelativeImportExtensions: true,
  skipLibCheck: true,
  lib: ["lib.es2022.d.ts"],
  types: ["node"],
  typeRoots: [join(ROOT, "node_modules", "@types")],
  newLine: ts.NewLineKind.LineFeed,
  removeComments: false,
  verbatimModuleSyntax: false,
  isolatedModules: true,
};

/** `from "./x.ts"` / `import("../y.ts")` in emitted declarations become `.js`. */
function rewriteDeclarationSpecifiers(text: string): string {
  return text.replace(
    /((?:from\s+|import\s*\(\s*|import\s+)["'])(\.{1,2}\/[^"']*?)\.ts(["'])/g,
    "$1$2.js$3",
  );
}

/** JSDoc examples name the JSR package; npm users import `taskmill`. */
function npmNames(text: string): string {
  return text.replace(/(?<!jsr:)@taskmill\/taskmill/g, NPM_NAME);
}

function compile(
  rootNames: string[],
  options: ts.CompilerOptions,
  transformText: (file: string, text: string) => string,
): void {
  const host = ts.createCompilerHost(options);
  const program = ts.createProgram({ rootNames, options, host });
  const diagnostics = [
    ...ts.getPreEmitDiagnostics(program),
    ...program.emit(undefined, (file, text, bom) => {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, transformText(file, text), { encoding: "utf8" });
      void bom;
    }).diagnostics,
  ];
  if (diagnostics.length > 0) {
    const text = ts.formatDiagnosticsWithColorAndContext(diagnostics, {
      getCanonicalFileName: (f) => f,
      getCurrentDirectory: () => ROOT,
      getNewLine: () => "\n",
    });
    console.error(text);
    throw new Error(`TypeScript reported ${diagnostics.length} problem(s); nothing was built`);
  }
}

/** Builds `npm/`. */
export function buildPackage(): void {
  const deno = JSON.parse(readFileSync(join(ROOT, "deno.json"), "utf8")) as DenoJson;
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  const entries = Object.values(deno.exports).map((f) => join(ROOT, f));
  compile(entries, { ...COMPILER_OPTIONS, rootDir: ROOT, outDir: OUT }, (file, text) => {
    let out = npmNames(text);
    if (file.endsWith(".d.ts")) out = rewriteDeclarationSpecifiers(out);
    return out;
  });
  const pkg = npmPackageJson(deno);
  const bin = (pkg.bin as Record<string, string> | undefined)?.[NPM_NAME];
  if (bin !== undefined) {
    const binFile = join(OUT, bin);
    const text = readFileSync(binFile, "utf8").replace(/^#!.*\n/, "");
    writeFileSync(binFile, `#!/usr/bin/env node\n${text}`);
    chmodSync(binFile, 0o755);
  }
  for (const [subpath, entry] of Object.entries(pkg.exports as Record<string, NpmExport>)) {
    const specifier = subpath === "." ? NPM_NAME : `${NPM_NAME}/${subpath.slice(2)}`;
    const esm = "./" + relative(dirname(join(OUT, entry.require)), join(OUT, entry.import));
    writeFileSync(join(OUT, entry.require), requireShim(specifier, esm));
  }
  writeFileSync(join(OUT, "package.json"), JSON.stringify(pkg, null, 2) + "\n");
  for (const file of ["README.md", "LICENSE"]) copyFileSync(join(ROOT, file), join(OUT, file));
  console.log(`built ${NPM_NAME}@${deno.version} into ${relative(ROOT, OUT)}/`);
}

/**
 * The package import that replaces an import of a source file by a test file
 * (`tests/x.ts` or `tests/_fixtures/y.ts`), or undefined for imports left
 * alone (builtins, npm packages, other test files). Core modules map to the
 * main entry, which re-exports the public core API; a test importing
 * something the package does not export fails the type check of the build.
 */
export function packageSpecifier(
  specifier: string,
  fromFile: string,
  denoExports: Record<string, string>,
): string | undefined {
  if (!specifier.startsWith("./") && !specifier.startsWith("../")) return undefined;
  const target = resolve(dirname(fromFile), specifier);
  if (target.startsWith(join(ROOT, "tests") + "/")) return undefined;
  const file = "./" + relative(ROOT, target).replaceAll("\\", "/");
  for (const [subpath, entry] of Object.entries(denoExports)) {
    if (entry === file) return subpath === "." ? NPM_NAME : `${NPM_NAME}/${subpath.slice(2)}`;
  }
  if (/^\.\/core\/[a-z_]+\.ts$/.test(file)) return NPM_NAME;
  // An adapter's inner module (the SQLite tests check its driver and schema
  // layers), which the package's `exports` do not offer: the built file
  // itself, by its path in npm_test/node_modules (the tests sit at the same
  // depth in npm_test/ as in tests/, and the staging folder links it too).
  const inner = /^\.\/(adapters\/[a-z_]+\/[a-z_]+)\.ts$/.exec(file);
  if (inner !== null) {
    const up = relative(dirname(fromFile), join(ROOT, "tests")).replaceAll("\\", "/");
    return `${up === "" ? "." : up}/node_modules/${NPM_NAME}/${inner[1]}.js`;
  }
  throw new Error(
    `${relative(ROOT, fromFile)} imports ${specifier}, which the npm package does not export`,
  );
}

function testSources(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...testSources(path));
    else if (entry.name.endsWith(".ts")) files.push(path);
  }
  return files.sort();
}

/** Builds `npm_test/`: the tests (and their fixtures), importing the built package. */
export function buildTests(): void {
  const deno = JSON.parse(readFileSync(join(ROOT, "deno.json"), "utf8")) as DenoJson;
  rmSync(TEST_OUT, { recursive: true, force: true });
  const staging = join(TEST_OUT, "_src");
  mkdirSync(staging, { recursive: true });
  mkdirSync(join(TEST_OUT, "node_modules"), { recursive: true });
  symlinkSync(
    relative(join(TEST_OUT, "node_modules"), OUT),
    join(TEST_OUT, "node_modules", NPM_NAME),
  );
  const testsDir = join(ROOT, "tests");
  const rootNames: string[] = [];
  for (const file of testSources(testsDir)) {
    const source = readFileSync(file, "utf8");
    const rewritten = source.replace(
      /((?:from\s+|import\s*\(\s*)["'])(\.{1,2}\/[^"']+)(["'])/g,
      (whole, head: string, specifier: string, tail: string) => {
        const mapped = packageSpecifier(specifier, file, deno.exports);
        return mapped === undefined ? whole : `${head}${mapped}${tail}`;
      },
    );
    const staged = join(staging, relative(testsDir, file));
    mkdirSync(dirname(staged), { recursive: true });
    writeFileSync(staged, rewritten);
    rootNames.push(staged);
  }
  writeFileSync(join(TEST_OUT, "package.json"), '{ "type": "module", "private": true }\n');
  symlinkSync("../node_modules", join(staging, "node_modules")); // for inner modules, above
  // Tests may use web APIs beyond Node's typings (PromiseRejectionEvent ...): add the DOM lib.
  const options: ts.CompilerOptions = {
    ...COMPILER_OPTIONS,
    lib: ["lib.es2022.d.ts", "lib.dom.d.ts"],
    declaration: false,
    rootDir: staging,
    outDir: TEST_OUT,
  };
  compile(rootNames, options, (_f, t) => t);
  rmSync(staging, { recursive: true, force: true });
  console.log(`built the tests against the package into ${relative(ROOT, TEST_OUT)}/`);
}

if (import.meta.main) {
  const args = new Set(Deno.args);
  buildPackage();
  if (!args.has("--no-tests")) buildTests();
}
