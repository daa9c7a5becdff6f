/**
 * Plain-text tables: the first column left-aligned, the others right-aligned.
 *
 * @example
 * ```ts
 * import { table } from "./table.ts";
 *
 * table([["queue", "waiting"], ["default", "3"]]).forEach((line) => console.log(line));
 * // queue    waiting
 * // default        3
 * ```
 *
 * @module
 */

const FIRST: ReadonlySet<number> = new Set([0]);

/**
 * The lines of a table of `rows` (the first is the header), columns two
 * spaces apart; the columns in `left` are left-aligned, the others
 * right-aligned. Cells must be escaped already.
 *
 * @example
 * ```ts
 * table([["a", "b"], ["long", "1"]]); // ["a     b", "long  1"]
 * ```
 */
export function table(rows: string[][], left: ReadonlySet<number> = FIRST): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) =>
    r.map((cell, i) => (left.has(i) ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join("  ")
      .trimEnd()
  );
}
