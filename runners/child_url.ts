/**
 * Where the child entry is: `child.ts` next to this file from source, or
 * `child.js` in the npm build.
 *
 * @module
 */

import "./child.ts"; // so that every build includes it (it does nothing unless started by a pool)

/**
 * The URL of the module a pool's thread or process starts with.
 *
 * @example
 * ```ts
 * import { CHILD_URL } from "./child_url.ts";
 * console.log(CHILD_URL.pathname.includes("child.")); // true
 * ```
 */
export const CHILD_URL: URL = new URL(
  import.meta.url.endsWith(".ts") ? "./child.ts" : "./child.js",
  import.meta.url,
);
