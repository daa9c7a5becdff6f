/**
 * Keeping Redis passwords out of messages.
 *
 * @module
 */

/**
 * Replaces the password of every `redis://user:password@host` URL in `text`
 * with `***`, and any occurrence of `secret` (the configured password).
 *
 * @example
 * ```ts
 * import { redactRedisUrl } from "@taskmill/taskmill/redis";
 *
 * console.log(redactRedisUrl("redis://app:s3cret@db:6379/0")); // "redis://app:***@db:6379/0"
 * ```
 */
export function redactRedisUrl(text: string, secret?: string): string {
  let out = text.replace(/(rediss?:\/\/[^:@/\s]*:)[^@\s]*@/gi, "$1***@");
  if (secret) out = out.split(secret).join("***");
  return out;
}

/**
 * The password in a connection URL (decoded), or undefined.
 *
 * @example
 * ```ts ignore
 * passwordOf("redis://app:s3cret@db:6379"); // "s3cret"
 * ```
 */
export function passwordOf(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  try {
    const password = decodeURIComponent(new URL(url).password);
    return password === "" ? undefined : password;
  } catch {
    return undefined;
  }
}
