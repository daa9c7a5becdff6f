/**
 * The error a malformed cron expression (or an unknown time zone) throws.
 *
 * @module
 */

/**
 * A cron expression that cannot be used: bad syntax, a value out of range,
 * an expression that never matches, or an unknown time zone. The message
 * says what was wrong and where, e.g. `cron field 2 (hour) 25 is out of
 * range 0-23`; for a field's error, `field` is its 1-based position in the
 * expression and `fieldName` its name (`second`, `minute`, `hour`,
 * `day-of-month`, `month`, `day-of-week`).
 *
 * @example
 * ```ts
 * import { Cron, CronSyntaxError } from "./cron.ts";
 *
 * try {
 *   Cron.parse("0 25 * * *");
 * } catch (error) {
 *   if (!(error instanceof CronSyntaxError)) throw error;
 *   console.log(error.message); // cron field 2 (hour) 25 is out of range 0-23
 *   console.log(error.field, error.fieldName); // 2 "hour"
 * }
 * ```
 */
export class CronSyntaxError extends RangeError {
  /** The 1-based position of the field at fault, when one is. */
  readonly field?: number;
  /** The name of the field at fault, when one is. */
  readonly fieldName?: string;

  /** An error with `message`, naming the field at fault if there is one. */
  constructor(message: string, field?: { position: number; name: string }) {
    super(message);
    this.name = "CronSyntaxError";
    if (field !== undefined) {
      this.field = field.position;
      this.fieldName = field.name;
    }
  }
}
