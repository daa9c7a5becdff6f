/** Text safe to print: terminal escaping, JSON lines, password redaction, first-line errors. @module */

/** Replaces the password of `redis://user:password@host` URLs in `text` with `***`. */
export function redact(text: string, url: string | undefined): string {
  let result = text.replace(/(rediss?:\/\/[^:@/\s]*:)[^@\s]*@/gi, "$1***@");
  if (url !== undefined) {
    try {
      const password = decodeURIComponent(new URL(url).password);
      if (password !== "") result = result.split(password).join("***");
    } catch {
      // not a URL: nothing more to hide
    }
  }
  return result;
}

/**
 * `text` safe to print on a terminal: control characters (C0, DEL, C1), line
 * and paragraph separators and bidirectional overrides, which job data may
 * hold, become visible escapes (`\n`, `\x1b`, `\u202e`).
 */
export function escapeText(text: string): string {
  return text.replace(
    // deno-lint-ignore no-control-regex
    /[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g,
    (c) => {
      if (c === "\n") return "\\n";
      if (c === "\r") return "\\r";
      if (c === "\t") return "\\t";
      const code = c.charCodeAt(0);
      return code <= 0xff
        ? `\\x${code.toString(16).padStart(2, "0")}`
        : `\\u${code.toString(16).padStart(4, "0")}`;
    },
  );
}

/**
 * `value` as one line of JSON that is also safe on a terminal: JSON already
 * escapes C0 controls, and this escapes DEL, C1 and the other characters
 * {@linkcode escapeText} hides, as `\uXXXX` (they can occur only in strings).
 */
export function toJsonLine(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

export function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split("\n")[0];
}
