// Argument checks shared by the core. Messages name the option and the value,
// in the "Cannot enqueue job: payload.at is a function" style.

const NAME_RULES = {
  task: { pattern: /^[A-Za-z0-9_.:/@-]+$/, max: 200, chars: "A-Z a-z 0-9 _ . : / @ -" },
  queue: { pattern: /^[A-Za-z0-9_.-]+$/, max: 100, chars: "A-Z a-z 0-9 _ . -" },
} as const;

/** Throws unless `value` is a valid task or queue name. */
export function validateName(value: unknown, what: string, kind: "task" | "queue"): void {
  const rule = NAME_RULES[kind];
  if (typeof value !== "string") {
    throw new TypeError(`${what} must be a string, got ${describe(value)}`);
  }
  if (value.length === 0) throw new RangeError(`${what} must not be empty`);
  if (value.length > rule.max) {
    throw new RangeError(`${what} is ${value.length} characters long; the limit is ${rule.max}`);
  }
  if (!rule.pattern.test(value)) {
    throw new RangeError(`${what} "${value}" may only contain ${rule.chars}`);
  }
}

/** Throws unless `value` is a valid caller-chosen job id. */
export function validateJobId(value: unknown, what: string): void {
  if (typeof value !== "string") {
    throw new TypeError(`${what} must be a string, got ${describe(value)}`);
  }
  if (value.length === 0) throw new RangeError(`${what} must not be empty`);
  if (value.length > 256) {
    throw new RangeError(`${what} is ${value.length} characters long; the limit is 256`);
  }
  // deno-lint-ignore no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) {
    throw new RangeError(`${what} must not contain control characters`);
  }
  checkWellFormed(value, what);
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
// `String.prototype.isWellFormed` (ES2024: Node 20, Deno, Bun), else a regex.
const isWellFormed: (s: string) => boolean =
  typeof (String.prototype as { isWellFormed?: unknown }).isWellFormed === "function"
    ? (s) => (s as unknown as { isWellFormed(): boolean }).isWellFormed()
    : (s) => !LONE_SURROGATE.test(s);

/**
 * Throws unless `value` is well-formed UTF-16 (no lone surrogate). Ids become
 * UTF-8 bytes in Redis, where every lone surrogate turns into U+FFFD: two
 * different ids would name one job.
 */
export function checkWellFormed(value: string, what: string): void {
  if (typeof value !== "string" || isWellFormed(value)) return; // the type is checked elsewhere
  const at = value.search(LONE_SURROGATE);
  const unit = value.charCodeAt(at).toString(16).toUpperCase();
  throw new RangeError(
    `${what} is not well-formed Unicode: a lone surrogate \\u${unit} at index ${at}`,
  );
}

/**
 * Throws a TypeError naming the first key of `options` that is not in
 * `known`: "<where>: <path>.delya is not an option (did you mean delay?)",
 * or the known names when none is close. Symbol keys are ignored. A `for
 * in` over a small object and a short list: cheap enough for every call.
 */
export function checkKeys(
  options: object,
  known: readonly string[],
  where: string,
  path = "options",
): void {
  for (const key in options) {
    // Own keys only: an enumerable key someone added to Object.prototype is not the caller's.
    if (!known.includes(key) && Object.hasOwn(options, key)) {
      throw unknownKey(key, known, where, path);
    }
  }
}

function unknownKey(key: string, known: readonly string[], where: string, path: string) {
  const near = closest(key, known);
  const hint = near === undefined ? `options are ${known.join(", ")}` : `did you mean ${near}?`;
  return new TypeError(`${where}: ${keyPath(path, key)} is not an option (${hint})`);
}

/**
 * The known name nearest to `key` (case-insensitive edit distance, a swap
 * of neighbours counting as one edit), if near enough to be a misspelling.
 */
function closest(key: string, known: readonly string[]): string | undefined {
  const a = key.toLowerCase();
  if (a.length > MAX_KEY_SHOWN) return undefined;
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(a.length / 3)) + 1;
  for (const name of known) {
    const d = editDistance(a, name.toLowerCase());
    if (d < bestDistance) {
      best = name;
      bestDistance = d;
    }
  }
  return best;
}

/** Optimal string alignment distance (Levenshtein plus adjacent transpositions). */
function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    rows.push([i]);
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        rows[0][j] = j;
        continue;
      }
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, rows[i - 2][j - 2] + 1);
      }
      rows[i][j] = d;
    }
  }
  return rows[a.length][b.length];
}

/**
 * For {@linkcode checkKeys}: the names of every option of `T`. A name left
 * out is a compile error ("missing"), so an option added to an interface
 * cannot end up refused.
 */
export function optionNames<T>(): <const K extends readonly (keyof T & string)[]>(
  names:
    & K
    & ([Exclude<keyof T, K[number]>] extends [never] ? unknown
      : { missing: Exclude<keyof T, K[number]> }),
) => readonly string[] {
  return (names) => names;
}

const RETENTION_KEYS = ["completed", "failed"];
const POLICY_KEYS = ["count", "age"];

/** {@linkcode checkKeys} for a retention (`{ completed: { count, age }, failed: ... }`). */
export function checkRetentionKeys(retention: unknown, where: string): void {
  if (typeof retention !== "object" || retention === null) return; // its checks say what is wrong
  checkKeys(retention, RETENTION_KEYS, where, "retention");
  for (const state of RETENTION_KEYS) {
    const policy = (retention as Record<string, unknown>)[state];
    if (typeof policy === "object" && policy !== null) {
      checkKeys(policy, POLICY_KEYS, where, `retention.${state}`);
    }
  }
}

/** Throws unless `value` is an integer in [min, max]. */
export function checkInt(value: unknown, min: number, max: number, what: string): void {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new TypeError(`${what} must be an integer, got ${describe(value)}`);
  }
  if (value < min || value > max) {
    throw new RangeError(`${what} must be between ${min} and ${max}, got ${value}`);
  }
}

/** Throws unless `value` is a finite number in [min, max]. */
export function checkNumber(value: unknown, min: number, max: number, what: string): void {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new TypeError(`${what} must be a finite number, got ${describe(value)}`);
  }
  if (value < min || value > max) {
    throw new RangeError(`${what} must be between ${min} and ${max}, got ${value}`);
  }
}

/** A short, safe rendering of a value for an error message. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  switch (typeof value) {
    case "string":
      return JSON.stringify(value.length > 40 ? value.slice(0, 40) + "…" : value);
    case "number":
    case "boolean":
      return String(value);
    case "bigint":
      return `${value}n (a BigInt)`;
    case "undefined":
      return "undefined";
    case "function":
      return "a function";
    case "symbol":
      return "a symbol";
    default:
      return "an object";
  }
}

/**
 * Checks that `value` is plain JSON: throws a TypeError naming the path of the
 * first value JSON cannot carry faithfully (functions, symbols, BigInt,
 * cycles, non-finite numbers, class instances other than Date, undefined at
 * the top or in arrays), and a RangeError when its JSON text is over
 * `maxBytes` bytes of UTF-8. `pathOf(key)` names the root in messages; it is
 * only called on error, so the common case builds no strings.
 */
export function checkJson<K>(
  value: unknown,
  key: K,
  pathOf: (key: K) => string,
  where: string,
  maxBytes = Infinity,
): void {
  const bound = jsonSizeBound(value, 0);
  if (bound < 0) {
    explainJson(value, pathOf(key), where, new Set(), 0);
    // Valid after all (only deeper than the fast walk goes): measure exactly.
  } else if (bound <= maxBytes) {
    return;
  }
  if (maxBytes === Infinity) return;
  const bytes = encoder.encode(JSON.stringify(value)).length;
  if (bytes > maxBytes) {
    throw new RangeError(
      `${where}: ${pathOf(key)} is ${bytes} bytes as JSON; the limit is ${maxBytes}`,
    );
  }
}

/**
 * Checks `value` like {@linkcode checkJson} and returns its JSON text.
 */
export function toJson(value: unknown, root: string, where: string): string {
  checkJson(value, root, (r) => r, where);
  return JSON.stringify(value);
}

const encoder = new TextEncoder();
const MAX_FAST_DEPTH = 64;
/**
 * Most levels of nested arrays and objects a JSON value may have. Lua's cjson
 * decodes no deeper (by default) and Node 20's JSON.stringify fails near
 * 4 000, so anything deeper could be stored and then fail to read back; the
 * recursive walks (this check, MemoryStorage's copy) stay far from any stack
 * limit.
 */
export const MAX_JSON_DEPTH = 1000;

/**
 * An upper bound on the UTF-8 size of `JSON.stringify(value)`, or -1 when the
 * value is not plain JSON or is nested deeper than the fast walk goes (the
 * caller then runs the slow walk, which explains what is wrong). No strings
 * are built: this is the hot path of every enqueue.
 */
function jsonSizeBound(value: unknown, depth: number): number {
  switch (typeof value) {
    case "string":
      return value.length * 6 + 2; // worst case: every unit escaped as \uXXXX
    case "number":
      return Number.isFinite(value) ? 24 : -1;
    case "boolean":
      return 5;
    case "object":
      break;
    default:
      return -1;
  }
  if (value === null) return 4;
  if (depth >= MAX_FAST_DEPTH) return -1;
  if (Array.isArray(value)) {
    let size = 2;
    for (let i = 0; i < value.length; i++) {
      const item = jsonSizeBound(value[i], depth + 1);
      if (item < 0) return -1;
      size += item + 1;
    }
    return size;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value instanceof Date ? 26 : -1;
  let size = 2;
  for (const key in value) {
    if (!Object.prototype.hasOwnProperty.call(value, key)) continue;
    const child = (value as Record<string, unknown>)[key];
    if (child === undefined) continue;
    const item = jsonSizeBound(child, depth + 1);
    if (item < 0) return -1;
    size += key.length * 6 + 4 + item;
  }
  if (Object.getOwnPropertySymbols(value).length > 0) return -1;
  return size;
}

function explainJson(
  value: unknown,
  path: string,
  where: string,
  seen: Set<object>,
  depth: number,
): void {
  switch (typeof value) {
    case "string":
    case "boolean":
      return;
    case "number":
      if (!Number.isFinite(value)) {
        throw new TypeError(`${where}: ${path} is ${value}, which JSON cannot represent`);
      }
      return;
    case "undefined":
      throw new TypeError(`${where}: ${path} is undefined, which JSON cannot represent`);
    case "function":
      throw new TypeError(`${where}: ${path} is a function`);
    case "symbol":
      throw new TypeError(`${where}: ${path} is a symbol`);
    case "bigint":
      throw new TypeError(`${where}: ${path} is a BigInt, which JSON cannot represent`);
  }
  if (value === null) return;
  const object = value as object;
  if (seen.has(object)) throw new TypeError(`${where}: ${path} is a circular reference`);
  if (depth >= MAX_JSON_DEPTH && (Array.isArray(object) || !(object instanceof Date))) {
    throw new RangeError(
      `${where}: ${shortPath(path)} is nested too deep: more than ${MAX_JSON_DEPTH} levels of ` +
        "arrays and objects",
    );
  }
  if (Array.isArray(object)) {
    seen.add(object);
    for (let i = 0; i < object.length; i++) {
      explainJson(object[i], `${path}[${i}]`, where, seen, depth + 1);
    }
    seen.delete(object);
    return;
  }
  const proto = Object.getPrototypeOf(object);
  if (proto !== Object.prototype && proto !== null) {
    if (object instanceof Date) return; // serialized as an ISO string, which callers expect
    const kind = proto?.constructor?.name ?? "unknown";
    throw new TypeError(`${where}: ${path} is a ${kind} instance, not a plain object`);
  }
  seen.add(object);
  for (const key of Object.keys(object)) {
    const child = (object as Record<string, unknown>)[key];
    // JSON.stringify drops undefined properties; that is fine below the top level.
    if (child === undefined) continue;
    explainJson(child, keyPath(path, key), where, seen, depth + 1);
  }
  for (const symbol of Object.getOwnPropertySymbols(object)) {
    if (Object.prototype.propertyIsEnumerable.call(object, symbol)) {
      throw new TypeError(`${where}: ${path} has a symbol key ${String(symbol)}`);
    }
  }
  seen.delete(object);
}

/** A path a thousand levels long, cut to its start and end at step boundaries. */
function shortPath(path: string): string {
  if (path.length <= 120) return path;
  const steps = /[.[]/g;
  let head = 60;
  steps.lastIndex = 60;
  if (steps.exec(path) !== null) head = steps.lastIndex - 1;
  let tail = path.length - 30;
  while (tail > head && path[tail] !== "." && path[tail] !== "[") tail--;
  return `${path.slice(0, head)}…${path.slice(tail)}`;
}

/** Longest key shown whole in an error path; longer ones are cut (messages stay short). */
const MAX_KEY_SHOWN = 40;

/** `path.key`, or `path["odd key"]`, or for a huge key `path["start…" (N characters)]`. */
function keyPath(path: string, key: string): string {
  if (key.length > MAX_KEY_SHOWN) {
    const start = JSON.stringify(key.slice(0, MAX_KEY_SHOWN) + "…");
    return `${path}[${start} (${key.length} characters)]`;
  }
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}
