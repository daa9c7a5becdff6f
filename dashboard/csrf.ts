/**
 * Cross-site request protection of the dashboard's actions: a same-origin
 * check (Sec-Fetch-Site, else Origin, else Referer; a POST with none of
 * them is refused) plus a random token made when the handler is created and
 * embedded in every form.
 *
 * @module
 */

/**
 * A fresh random token (32 bytes, hex).
 *
 * @example
 * ```ts
 * import { newToken } from "./csrf.ts";
 *
 * console.log(newToken().length); // 64
 * ```
 */
export function newToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Whether `request` comes from a page of its own origin. Behind a proxy that
 * rewrites the Host, the request URL's origin must still be what the browser sees.
 *
 * @example
 * ```ts
 * import { isSameOrigin } from "./csrf.ts";
 *
 * const request = new Request("http://a.test/x", {
 *   method: "POST",
 *   headers: { origin: "http://evil.test" },
 * });
 * console.log(isSameOrigin(request)); // false
 * ```
 */
export function isSameOrigin(request: Request): boolean {
  const site = request.headers.get("sec-fetch-site");
  if (site !== null) return site === "same-origin";
  const own = new URL(request.url).origin;
  const origin = request.headers.get("origin");
  if (origin !== null) return origin === own;
  const referer = request.headers.get("referer");
  if (referer === null) return false;
  try {
    return new URL(referer).origin === own;
  } catch {
    return false;
  }
}

/**
 * Compares two tokens in time that does not depend on where they differ.
 *
 * @example
 * ```ts
 * import { tokensMatch } from "./csrf.ts";
 *
 * console.log(tokensMatch("abc", "abc"), tokensMatch("abc", "abd")); // true false
 * ```
 */
export function tokensMatch(given: string, expected: string): boolean {
  if (given.length !== expected.length) return false;
  let difference = 0;
  for (let i = 0; i < given.length; i++) {
    difference |= given.charCodeAt(i) ^ expected.charCodeAt(i);
  }
  return difference === 0;
}
