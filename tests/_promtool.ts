// Runs `promtool check metrics` on a text: the one judge of the exposition
// format the tests trust. A missing promtool fails the test (never skips it):
// scripts/ensure_promtool.sh installs it.
import { spawn } from "node:child_process";
import process from "node:process";

/** What promtool said: its exit code and its output (stdout and stderr). */
export interface PromtoolResult {
  code: number;
  output: string;
}

/** The promtool to run: $PROMTOOL, or `promtool` on PATH. */
function promtoolPath(): string {
  return process.env.PROMTOOL || "promtool";
}

/** Feeds `text` to `promtool check metrics` on stdin. */
export function promtoolCheck(text: string): Promise<PromtoolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(promtoolPath(), ["check", "metrics"], { stdio: ["pipe", "pipe", "pipe"] });
    let output = "";
    child.stdout!.on("data", (chunk) => output += chunk);
    child.stderr!.on("data", (chunk) => output += chunk);
    child.on("error", (error: Error & { code?: string }) => {
      reject(
        error.code === "ENOENT"
          ? new Error(
            `promtool not found (${promtoolPath()}): install Debian's prometheus package ` +
              "(bash scripts/ensure_promtool.sh) or set PROMTOOL to its path",
          )
          : error,
      );
    });
    child.on("close", (code) => resolve({ code: code ?? -1, output }));
    child.stdin!.on("error", () => {}); // a promtool that exits early: its code tells
    child.stdin!.end(text);
  });
}
