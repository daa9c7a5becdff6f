/**
 * The dashboard's icon (a mill wheel in the accent colour), served as
 * `/assets/icon.svg` and linked from every page, so browsers do not ask for
 * a `/favicon.ico` outside the mount.
 *
 * @example
 * ```ts
 * import { ICON_SVG } from "./icon_svg.ts";
 * console.log(ICON_SVG.startsWith("<svg")); // true
 * ```
 */
export const ICON_SVG: string =
  `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><circle cx="16" cy="16" r="13" fill="none" stroke="#3b82f6" stroke-width="3"/><path d="M16 3v26M3 16h26M7 7l18 18M25 7L7 25" stroke="#3b82f6" stroke-width="2"/></svg>`;
