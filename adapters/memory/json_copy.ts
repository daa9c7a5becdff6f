// MemoryStorage's copies of JSON values: what it stores and what each read returns.

/**
 * Copies a JSON value the way a `JSON.stringify` / `JSON.parse` round trip
 * would, only faster: plain objects and arrays are copied recursively, and
 * anything else that is an object (a `Date`, an object with `toJSON`) takes
 * the real round trip, so it reads back exactly as from `RedisStorage` (a
 * `Date` as its ISO string). Values are stored as such a private copy and
 * copied again on every read: two small recursive copies cost far less than
 * serializing (or `structuredClone`), and every caller gets its own copy.
 * A `__proto__` key is defined as an own property, never assigned, so
 * nothing can pollute prototypes (as with `JSON.parse`).
 *
 * @example
 * ```ts
 * import { copyJson } from "./json_copy.ts";
 *
 * const copy = copyJson({ at: new Date(0), skipped: undefined, list: [undefined] });
 * console.log(copy); // { at: "1970-01-01T00:00:00.000Z", list: [null] }
 * ```
 */
export function copyJson(value: unknown): unknown {
  if (typeof value !== "object" || value === null) {
    return typeof value === "number" && !Number.isFinite(value) ? null : value;
  }
  if (Array.isArray(value)) {
    const copy = new Array(value.length);
    for (let i = 0; i < value.length; i++) {
      const item = value[i];
      copy[i] = item === undefined || typeof item === "function" || typeof item === "symbol"
        ? null
        : copyJson(item);
    }
    return copy;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return JSON.parse(JSON.stringify(value));
  const source = value as Record<string, unknown>;
  if (typeof source.toJSON === "function") return JSON.parse(JSON.stringify(value));
  const copy: Record<string, unknown> = {};
  // `for in` + own check visits what `Object.keys` lists, in the same order,
  // without allocating the key array (this runs for every payload, twice).
  for (const key in source) {
    if (!Object.hasOwn(source, key)) continue;
    const item = source[key];
    if (item === undefined || typeof item === "function" || typeof item === "symbol") continue;
    if (key === "__proto__") {
      Object.defineProperty(copy, key, {
        value: copyJson(item),
        writable: true,
        enumerable: true,
        configurable: true,
      });
    } else {
      copy[key] = copyJson(item);
    }
  }
  return copy;
}
