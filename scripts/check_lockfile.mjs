// Checks, offline and in well under a second, that package-lock.json agrees
// with package.json, as `npm ci` needs it to: the lockfile records the same
// dependency ranges, every direct dependency is locked at a version its range
// allows, and every dependency of every locked package (optional ones too:
// the platform binaries of deno, bun and msgpackr-extract) is in the lockfile,
// so `npm ci` on a fresh clone of any supported platform finds them all.
//   node scripts/check_lockfile.mjs        (run by scripts/test.sh)
// Exits 1 with what disagrees and how to fix it.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const lock = JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8"));
const problems = [];
const KINDS = ["dependencies", "devDependencies", "optionalDependencies", "peerDependencies"];

/** Whether a locked version satisfies a range of the forms this project uses. */
function satisfies(version, range) {
  const parse = (v) => v.split("-")[0].split(".").map(Number);
  const compare = (a, b) => {
    for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] - b[i];
    return 0;
  };
  const v = parse(version);
  const m = /^(\^|~|>=)?v?(\d+\.\d+\.\d+)$/.exec(range.trim());
  if (m === null) return true; // a range form this check does not read: npm ci judges it
  const [op, base] = [m[1] ?? "", parse(m[2])];
  if (op === "") return compare(v, base) === 0;
  if (compare(v, base) < 0) return false;
  if (op === ">=") return true;
  if (op === "~") return v[0] === base[0] && v[1] === base[1];
  // ^: the first non-zero part stays the same.
  if (base[0] !== 0) return v[0] === base[0];
  if (base[1] !== 0) return v[0] === 0 && v[1] === base[1];
  return compare(v, base) === 0;
}

if (!lock.packages || !lock.packages[""]) {
  problems.push(`lockfileVersion ${lock.lockfileVersion}: no "packages" map (npm 7+ writes one)`);
} else {
  const locked = lock.packages[""];
  for (const kind of ["dependencies", "devDependencies", "optionalDependencies"]) {
    const want = pkg[kind] ?? {};
    const have = locked[kind] ?? {};
    for (const name of new Set([...Object.keys(want), ...Object.keys(have)])) {
      if (want[name] !== have[name]) {
        problems.push(
          `${kind}.${name}: package.json says ${want[name] ?? "(absent)"}, ` +
            `the lockfile ${have[name] ?? "(absent)"}`,
        );
        continue;
      }
      const entry = lock.packages[`node_modules/${name}`];
      if (!entry) problems.push(`${name} is not locked (no node_modules/${name} entry)`);
      else if (!satisfies(entry.version, want[name])) {
        problems.push(
          `${name} is locked at ${entry.version}, outside package.json's ${want[name]}`,
        );
      }
    }
  }
  // Node's resolution: a dependency of node_modules/a/node_modules/b is looked
  // for in .../b/node_modules, then a's, then the top level.
  const resolves = (from, name) => {
    let dir = from;
    for (;;) {
      if (lock.packages[`${dir === "" ? "" : dir + "/"}node_modules/${name}`]) return true;
      if (dir === "") return false;
      const cut = dir.lastIndexOf("/node_modules/");
      dir = cut === -1 ? "" : dir.slice(0, cut);
    }
  };
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path === "" || entry.link) continue;
    for (const kind of KINDS) {
      for (const name of Object.keys(entry[kind] ?? {})) {
        const optionalPeer = kind === "peerDependencies" &&
          entry.peerDependenciesMeta?.[name]?.optional;
        if (!optionalPeer && !resolves(path, name)) {
          problems.push(`${path} needs ${name} (${kind}), which the lockfile lacks`);
        }
      }
    }
  }
}

if (problems.length > 0) {
  console.error("package-lock.json disagrees with package.json (npm ci would fail or miss files):");
  for (const problem of problems) console.error(`  - ${problem}`);
  console.error(
    "Fix: `npm install` (or `rm package-lock.json && npm install` to lock every platform " +
      "package afresh), then commit package-lock.json.",
  );
  process.exit(1);
}
console.log(
  `lockfile: agrees with package.json (${Object.keys(lock.packages).length - 1} packages)`,
);
