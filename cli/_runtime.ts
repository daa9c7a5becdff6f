// The command line's runtime shim: the only code in taskmill that touches the
// host runtime (arguments, environment, exit, signals, standard streams,
// importing a module by path). It speaks `node:` builtins, which Deno, Bun and
// Node all provide, so the CLI runs unchanged on the three.

import process from "node:process";
import { realpathSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** The signals the CLI stops on. */
export type StopSignal = "SIGTERM" | "SIGINT";

/** Which runtime runs the CLI, with its version. */
export function runtimeName(): string {
  const g = globalThis as { Deno?: { version: { deno: string } }; Bun?: { version: string } };
  if (g.Deno !== undefined) return `deno ${g.Deno.version.deno}`;
  if (g.Bun !== undefined) return `bun ${g.Bun.version}`;
  return `node ${process.versions.node}`;
}

/** The command line arguments after the script. */
export function args(): string[] {
  return process.argv.slice(2);
}

/** An environment variable, or undefined. */
export function env(name: string): string | undefined {
  const value = process.env[name];
  return value === undefined || value === "" ? undefined : value;
}

/** Writes one line to standard output. */
export function out(line: string): void {
  process.stdout.write(line + "\n");
}

/** Writes one line to standard error. */
export function err(line: string): void {
  process.stderr.write(line + "\n");
}

/** Ends the process with `code`. */
export function exit(code: number): never {
  process.exit(code);
}

/** Calls `handler` on SIGTERM and SIGINT; returns a function that stops listening. */
export function onStopSignal(handler: (signal: StopSignal) => void): () => void {
  const signals: StopSignal[] = ["SIGTERM", "SIGINT"];
  const deno = (globalThis as {
    Deno?: {
      addSignalListener(signal: StopSignal, listener: () => void): void;
      removeSignalListener(signal: StopSignal, listener: () => void): void;
    };
  }).Deno;
  const listeners = signals.map((signal) => {
    const listener = () => handler(signal);
    // Deno's node:process does not deliver signals to process.on listeners.
    if (deno !== undefined) deno.addSignalListener(signal, listener);
    else process.on(signal, listener);
    return [signal, listener] as const;
  });
  return () => {
    for (const [signal, listener] of listeners) {
      if (deno !== undefined) deno.removeSignalListener(signal, listener);
      else process.off(signal, listener);
    }
  };
}

/** Calls `handler` once standard input ends (a supervisor that went away closes it). */
export function onStdinEnd(handler: () => void): void {
  process.stdin.on("end", handler);
  process.stdin.resume();
}

/** The path of the runtime's executable. */
export function execPath(): string {
  return process.execPath;
}

/** Node's version as [major, minor] (on Deno and Bun: the Node version they emulate). */
export function nodeVersion(): [number, number] {
  const [major, minor] = process.versions.node.split(".").map(Number);
  return [major, minor];
}

/** This process's environment, to pass on to a child. */
export function environment(): Record<string, string | undefined> {
  return { ...process.env };
}

/** The absolute path of `path`, resolved against the working directory. */
export function absolutePath(path: string): string {
  return isAbsolute(path) ? path : resolve(process.cwd(), path);
}

/** Imports the module at `path` (absolute, or relative to the working directory). */
export async function importModule(path: string): Promise<Record<string, unknown>> {
  return await import(pathToFileURL(absolutePath(path)).href);
}

/** Whether the module with this `import.meta` is the program's entry point. */
export function isMain(meta: ImportMeta): boolean {
  const main = (meta as { main?: boolean }).main;
  if (typeof main === "boolean") return main; // Deno, Bun, Node 24.2+
  const script = process.argv[1];
  if (script === undefined || !meta.url.startsWith("file:")) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(meta.url));
  } catch {
    return false;
  }
}

/**
 * Whether `bunx` started this process on another runtime than Bun: it runs a
 * bin by its shebang (`#!/usr/bin/env node`) unless given `--bun`. It always
 * sets `npm_lifecycle_event=bunx`; `npm_config_user_agent` ("bun/1.x ...")
 * it leaves as it was when set already (bunx run from an npm script).
 */
export function startedByBunx(): boolean {
  if ((globalThis as { Bun?: unknown }).Bun !== undefined) return false;
  const env = process.env;
  return env.npm_lifecycle_event === "bunx" || /^bun\//.test(env.npm_config_user_agent ?? "");
}
