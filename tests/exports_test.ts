// The JSR package (deno.json) and the npm package (npm/package.json, written
// by scripts/build_npm.ts) must offer the same entry points, and the npm
// manifest must keep its promises: ESM only (a require() gets the ES module
// where the runtime can load one that way, and a clear error elsewhere), types
// for every entry, the CLI as `bin`, ioredis as an optional peer and no other
// dependency.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const root = (path: string) => fileURLToPath(new URL(`../${path}`, import.meta.url));
const readJson = (path: string) => JSON.parse(readFileSync(root(path), "utf8"));

const deno = readJson("deno.json") as {
  name: string;
  version: string;
  exports: Record<string, string>;
};
const built = existsSync(root("npm/package.json"));
const isNode = !("Deno" in globalThis) && !("Bun" in globalThis);

describe("package exports", () => {
  test("deno.json exports every entry point, each with a @module doc", () => {
    assert.deepEqual(Object.keys(deno.exports), [
      ".",
      "./memory",
      "./redis",
      "./testing",
      "./cli",
      "./dashboard",
      "./runners",
      "./sqlite",
    ]);
    for (const file of Object.values(deno.exports)) {
      const text = readFileSync(root(file), "utf8");
      assert.match(text, /@module/, `${file} has no @module doc`);
    }
  });

  test(
    "npm/package.json mirrors deno.json's exports",
    { skip: !built && "run `npm run build`" },
    () => {
      const pkg = readJson("npm/package.json");
      assert.equal(pkg.name, "taskmill");
      assert.equal(pkg.version, deno.version);
      assert.equal(pkg.type, "module");
      assert.deepEqual(Object.keys(pkg.exports), Object.keys(deno.exports));
      for (const [subpath, file] of Object.entries(deno.exports)) {
        const base = file.replace(/\.ts$/, "");
        assert.deepEqual(pkg.exports[subpath], {
          types: `${base}.d.ts`,
          import: `${base}.js`,
          require: `${base}.cjs`,
        });
        assert.ok(existsSync(root(`npm/${base}.js`)), `npm/${base}.js is missing`);
        assert.ok(existsSync(root(`npm/${base}.d.ts`)), `npm/${base}.d.ts is missing`);
        const shim = readFileSync(root(`npm/${base}.cjs`), "utf8");
        assert.match(shim, /^"use strict";\n/);
        assert.match(shim, /is ESM only/);
      }
    },
  );

  test(
    "npm/package.json: bin, dependencies, engines",
    { skip: !built && "run `npm run build`" },
    () => {
      const pkg = readJson("npm/package.json");
      assert.deepEqual(pkg.bin, { taskmill: pkg.exports["./cli"].import });
      const bin = readFileSync(root(`npm/${pkg.bin.taskmill}`), "utf8");
      assert.ok(bin.startsWith("#!/usr/bin/env node\n"), "the bin has no node shebang");
      assert.equal(pkg.dependencies, undefined);
      assert.deepEqual(pkg.peerDependencies, { ioredis: "^6.0.0" });
      assert.deepEqual(pkg.peerDependenciesMeta, { ioredis: { optional: true } });
      assert.equal(pkg.sideEffects, false);
      assert.equal(pkg.engines.node, ">=22.5");
      assert.ok(existsSync(root("npm/README.md")) && existsSync(root("npm/LICENSE")));
      // The declarations import each other with .js specifiers, as Node resolves them.
      const dts = readFileSync(root("npm/mod.d.ts"), "utf8");
      assert.doesNotMatch(dts, /from "\.[^"]*\.ts"/);
      assert.match(dts, /from "\.\/core\/queue\.js"/);
    },
  );

  test("under Node, every entry resolves by package name", { skip: !isNode }, () => {
    for (const subpath of Object.keys(deno.exports)) {
      const name = subpath === "." ? "taskmill" : `taskmill/${subpath.slice(2)}`;
      const resolved = fileURLToPath(import.meta.resolve(name));
      assert.ok(
        resolved.endsWith(deno.exports[subpath].slice(1).replace(/\.ts$/, ".js")),
        resolved,
      );
    }
    assert.ok(Number(process.versions.node.split(".")[0]) >= 20);
  });

  test(
    "under Node, require() of each entry gives the ES module itself (require(esm))",
    { skip: !isNode },
    async () => {
      const require = createRequire(import.meta.url);
      for (const subpath of Object.keys(deno.exports)) {
        const name = subpath === "." ? "taskmill" : `taskmill/${subpath.slice(2)}`;
        assert.ok(require.resolve(name).endsWith(".cjs"), require.resolve(name));
        const required = require(name);
        const imported = await import(name);
        for (const key of Object.keys(imported)) {
          assert.equal(required[key], imported[key], `${name}: ${key} is the same binding`);
        }
      }
    },
  );

  test(
    "under Node without require(esm), require('taskmill') says it is ESM only and what to do",
    { skip: !isNode },
    () => {
      let failure: { status: number; stderr: string } | undefined;
      try {
        execFileSync(process.execPath, [
          "--no-experimental-require-module",
          "-e",
          'require("taskmill/redis")',
        ], { cwd: dirname(fileURLToPath(import.meta.url)), encoding: "utf8", stdio: "pipe" });
      } catch (error) {
        failure = error as { status: number; stderr: string };
      }
      assert.ok(failure !== undefined, "require() succeeded without require(esm)");
      assert.equal(failure.status, 1);
      assert.match(
        failure.stderr,
        /Error: taskmill\/redis is ESM only \(an ES module package, no CommonJS build\).*Use import instead: `import \{ \.\.\. \} from "taskmill\/redis"`.*await import\("taskmill\/redis"\)/,
      );
      assert.doesNotMatch(failure.stderr, /ERR_PACKAGE_PATH_NOT_EXPORTED/);
    },
  );
});
