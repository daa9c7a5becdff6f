/**
 * Lua side of the job-hash codec (see `../codec.ts`): the field list, the packed field `d`, the error history.
 *
 * @example
 * ```ts ignore
 * const lua = script([FIELDS_LIST], body);
 * ```
 *
 * @module
 */

import { FIELDS } from "../codec.ts";
import { type Snippet, snippet } from "./snippet.ts";

/**
 * `FIELDS`: the fields read back as a record (HMGET order), from the codec.
 *
 * @example
 * ```ts ignore
 * const lua = script([FIELDS_LIST], body);
 * ```
 */
export const FIELDS_LIST: Snippet = snippet(
  ["FIELDS"],
  [],
  `
local FIELDS = {${FIELDS.map((f) => `'${f}'`).join(", ")}}
`,
);

/**
 * `unpackD(d)`, `prioOf(d)`, `seqQueueOf(d)`: parts of the packed field `d`.
 *
 * @example
 * ```ts ignore
 * const lua = script([D_PARTS], body);
 * ```
 */
export const D_PARTS: Snippet = snippet(
  ["unpackD", "prioOf", "seqQueueOf"],
  [],
  `
-- The packed field 'd' (see FIELDS) starts "priority|maxAttempts|maxStalls|".
local function unpackD(d)
  if not d then return nil, nil, nil end
  local p, ma, ms = string.match(d, '^([^|]*)|([^|]*)|([^|]*)|')
  return tonumber(p), tonumber(ma), tonumber(ms)
end
local function prioOf(d)
  if not d then return nil end
  return tonumber(string.match(d, '^([^|]*)|'))
end
-- The enqueue's seq and the queue, from d (nil when d does not parse).
local function seqQueueOf(d)
  if not d then return nil, nil end
  local q = string.match(d, '^[^|]*|[^|]*|[^|]*|[^|]*|[^|]*|[^|]*|([^|]+)|')
  return tonumber(string.match(d, '|([^|]*)$')), q
end
`,
);

/**
 * `appendError(errors, err)`: the `errors` field with one more, the last 10 kept.
 *
 * @example
 * ```ts ignore
 * const lua = script([APPEND_ERROR], body);
 * ```
 */
export const APPEND_ERROR: Snippet = snippet(
  ["appendError"],
  [],
  `
-- Attempt errors are JSON objects joined by newlines: JSON text never holds a
-- raw newline, so appending and trimming to the last 10 needs no cjson.
local function appendError(errors, err)
  if errors == false or errors == nil or errors == '' then return err end
  errors = errors .. '\\n' .. err
  local _, count = string.gsub(errors, '\\n', '')
  while count >= 10 do
    errors = string.sub(errors, string.find(errors, '\\n', 1, true) + 1)
    count = count - 1
  end
  return errors
end
`,
);
