// Counts leaf test cases in a Deno JUnit report (Deno lists each describe()
// block as a test case too; only the tests inside it are counted here).
// Skipped tests count as neither. Prints "<passed> <failed> <skipped>".
import { readFileSync } from "node:fs";

const xml = readFileSync(process.argv[2], "utf8");
const cases = [...xml.matchAll(/<testcase name="([^"]*)"[^>]*?(\/>|>([\s\S]*?)<\/testcase>)/g)]
  .map((m) => ({
    name: m[1],
    failed: /<(failure|error)\b/.test(m[3] ?? ""),
    skipped: /<skipped\b/.test(m[3] ?? ""),
  }));
const names = cases.map((c) => c.name);
const leaves = cases.filter((c) => !names.some((n) => n.startsWith(`${c.name} &gt; `)));
const failed = leaves.filter((c) => c.failed).length;
const skipped = leaves.filter((c) => c.skipped).length;
console.log(`${leaves.length - failed - skipped} ${failed} ${skipped}`);
