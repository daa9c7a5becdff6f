/**
 * Lua sequence numbers: the slot's counter, zero padded, and the `<seq><id>` members built from it.
 *
 * @example
 * ```ts ignore
 * const lua = script([SEQ], body);
 * ```
 *
 * @module
 */

import { SEQ_WIDTH } from "../codec.ts";
import { type Snippet, snippet } from "./snippet.ts";

/**
 * `allocSeq(n)`, `nextSeq()`: numbers from the slot's counter.
 *
 * @example
 * ```ts ignore
 * const lua = script([SEQ], body);
 * ```
 */
export const SEQ: Snippet = snippet(
  ["allocSeq", "nextSeq"],
  [],
  `
-- Sequence numbers: where a script knows how many it needs, it takes them
-- in one INCRBY (allocSeq) instead of one INCR each. Scripts run one at a
-- time, so numbers only grow; a few unused ones are harmless gaps. At 15
-- digits the counter lasts centuries at any realistic rate.
local seqNext, seqLast = 1, 0
local function allocSeq(n)
  if n > 0 then
    seqLast = redis.call('INCRBY', seqKey, n)
    seqNext = seqLast - n + 1
  end
end
local function nextSeq()
  if seqNext > seqLast then allocSeq(1) end
  seqNext = seqNext + 1
  return seqNext - 1
end
`,
);

/**
 * `padSeq(seq)`, `nextPadded()`: zero-padded sequence numbers.
 *
 * @example
 * ```ts ignore
 * const lua = script([PADDED], body);
 * ```
 */
export const PADDED: Snippet = snippet(
  ["padSeq", "nextPadded", "LO"],
  [SEQ],
  `
local function padSeq(seq) return string.format('%0${SEQ_WIDTH}d', seq) end
-- The next sequence number, zero padded: built from its last two digits (a
-- table of constants) and the rest, formatted once per hundred numbers, since
-- formatting numbers is slow and hot loops take consecutive numbers.
local LO = {${Array.from({ length: 100 }, (_, i) => `'${String(i).padStart(2, "0")}'`).join(",")}}
local padHi, padHiText = -1, ''
local function nextPadded()
  local seq = nextSeq()
  local lo = seq % 100
  if seq - lo ~= padHi then
    padHi = seq - lo
    padHiText = string.format('%0${SEQ_WIDTH - 2}d', padHi / 100)
  end
  return padHiText .. LO[lo + 1]
end
`,
);

/**
 * `member(seq, id)`, `memberId(m)`: set members `<seq><id>`.
 *
 * @example
 * ```ts ignore
 * const lua = script([MEMBER], body);
 * ```
 */
export const MEMBER: Snippet = snippet(
  ["member", "memberId"],
  [PADDED],
  `
-- Members of every set are "<seq><id>" with a zero-padded sequence, so equal
-- scores (same priority, runAt or finishedAt) keep the order in which jobs
-- entered the set. The job hash keeps 'seq' (padded, or d's) to rebuild it. In 'active' the
-- sequence is the lease's: its token is "<queue>:<seq>", so the member
-- "<seq><id>" exists exactly while that lease is held, and one ZREM both
-- checks a token and ends its lease.
local function member(seq, id) return padSeq(seq) .. id end
local function memberId(m) return string.sub(m, ${SEQ_WIDTH + 1}) end
`,
);
