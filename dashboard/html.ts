/**
 * The one way the dashboard writes HTML: the `html` tagged template escapes
 * every interpolation unless it is already {@linkcode SafeHtml} (made by
 * `html` itself or by `raw()` for trusted fragments).
 *
 * @module
 */

/**
 * A fragment of HTML that is safe to insert as is.
 *
 * @example
 * ```ts
 * import { html, SafeHtml } from "./html.ts";
 *
 * console.log(html`<b>${"<i>"}</b>` instanceof SafeHtml); // true
 * ```
 */
export class SafeHtml {
  /** The markup. */
  readonly value: string;
  /** Wraps `value` unchanged: use through `html` or `raw`. */
  constructor(value: string) {
    this.value = value;
  }
  /** The markup. */
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/**
 * `text` with `& < > " '` escaped: safe in element content and in quoted attributes.
 *
 * @example
 * ```ts
 * import { escapeHtml } from "./html.ts";
 *
 * console.log(escapeHtml("<b>")); // "&lt;b&gt;"
 * ```
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

function render(value: unknown): string {
  if (value instanceof SafeHtml) return value.value;
  if (value === undefined || value === null || value === false) return "";
  if (Array.isArray(value)) return value.map(render).join("");
  return escapeHtml(String(value));
}

/**
 * A template whose every interpolation is escaped (arrays are joined, each
 * item escaped; null, undefined and false render as nothing).
 *
 * @example
 * ```ts
 * import { html } from "./html.ts";
 *
 * const name = "<script>alert(1)</script>";
 * console.log(html`<td>${name}</td>`.value); // "<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>"
 * ```
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1];
  return new SafeHtml(out);
}

/**
 * Marks trusted markup (made by this package, never from a job) as safe.
 *
 * @example
 * ```ts
 * import { html, raw } from "./html.ts";
 *
 * console.log(html`<p>${raw("<br>")}</p>`.value); // "<p><br></p>"
 * ```
 */
export function raw(markup: string): SafeHtml {
  return new SafeHtml(markup);
}

/**
 * `value` as JSON for a `<script type="application/json">` element: every
 * `<` becomes `\u003c`, so no `</script>` can end the element early.
 *
 * @example
 * ```ts
 * import { jsonForScript } from "./html.ts";
 *
 * console.log(jsonForScript({ a: "</script>" }).value); // '{"a":"\u003c/script>"}'
 * ```
 */
export function jsonForScript(value: unknown): SafeHtml {
  return new SafeHtml((JSON.stringify(value) ?? "null").replace(/</g, "\\u003c"));
}
