/**
 * Assembling a Lua script from its body and the shared snippets it includes.
 *
 * Every script gets KEYS[1] = the slot's sequence counter ("{tag}:seq"),
 * which routes the call in Redis Cluster, and ARGV[1] = the key base
 * "{tag}:" (followed by a newline and the event backlog when the script
 * writes events: see events.ts). Every other key a script touches is built from that base, so it
 * lives in the same hash slot. Times come only from ARGV (the core's clock);
 * scripts never call TIME. Numbers that leave Lua as strings go through
 * string.format("%.0f"), because tostring() keeps only 14 significant digits.
 *
 * @example
 * ```ts ignore
 * export const COUNTS: string = script([QKEY], `return redis.call('ZCARD', qkey(ARGV[2], 'wait'))`);
 * ```
 *
 * @module
 */

/**
 * A piece of Lua shared by scripts: local definitions, and the snippets they call.
 *
 * @example
 * ```ts ignore
 * const { defines, needs } = TO_WAITING; // ["toWaiting"], [PADDED, QKEY, WAIT_SCORE, MARKS]
 * ```
 */
export interface Snippet {
  /** The Lua names it defines (checked: a script that mentions one must include it). */
  readonly defines: readonly string[];
  /** The snippets its Lua calls, defined before it in every script. */
  readonly needs: readonly Snippet[];
  readonly lua: string;
}

/**
 * A snippet: `lua` defines `defines` and calls what `needs` defines.
 *
 * @example
 * ```ts ignore
 * export const FMT = snippet(["fmt"], [], `local function fmt(n) return string.format('%.0f', n) end`);
 * ```
 */
export function snippet(defines: string[], needs: Snippet[], lua: string): Snippet {
  const made = { defines, needs, lua: lua.endsWith("\n") ? lua : `${lua}\n` };
  SNIPPETS.push(made);
  return made;
}

/**
 * Every snippet made so far: the Lua scripts test checks with them that each
 * script includes every helper it calls, defined before its callers.
 *
 * @example
 * ```ts ignore
 * for (const s of SNIPPETS) console.log(s.defines);
 * ```
 */
export const SNIPPETS: Snippet[] = [];

/** What every script starts with (see the module doc). */
const HEAD = `
local base, eventBacklog = ARGV[1], 0
local seqKey = KEYS[1]
do
  local cut = string.find(base, '\\n', 1, true)
  if cut then
    eventBacklog = tonumber(string.sub(base, cut + 1))
    base = string.sub(base, 1, cut - 1)
  end
end
`;

/**
 * A script: HEAD, the snippets of `includes` and what they need (each once,
 * each after what it needs), then `body`. Running a helper's definition costs
 * time on every call (a few µs for them all), so a script includes only the
 * helpers it uses.
 *
 * @example
 * ```ts ignore
 * export const PROGRESS: string = script([JKEY], `local k = jkey(ARGV[2]) ...`);
 * ```
 */
export function script(includes: readonly Snippet[], body: string): string {
  const ordered: Snippet[] = [];
  const visit = (s: Snippet) => {
    if (ordered.includes(s)) return;
    for (const need of s.needs) visit(need);
    ordered.push(s);
  };
  for (const s of includes) visit(s);
  return HEAD + ordered.map((s) => s.lua).join("") + body;
}

/**
 * Throws when script `name` calls a helper of a snippet it does not include,
 * or before the snippet that defines it: such a script would fail on the
 * server, so it fails at load instead. One pass over the script's code
 * (comments blanked), against every snippet made so far.
 *
 * @example
 * ```ts ignore
 * checkIncludes("COUNTS", COUNTS);
 * ```
 */
export function checkIncludes(name: string, text: string): void {
  const code = text.replace(/--[^\n]*/g, (c) => " ".repeat(c.length));
  const definer = new Map<string, { start: number; end: number }>();
  for (const s of SNIPPETS) {
    const start = text.indexOf(s.lua);
    for (const n of s.defines) definer.set(n, { start, end: start + s.lua.length });
  }
  for (const match of code.matchAll(/[A-Za-z_][A-Za-z0-9_]*/g)) {
    const at = definer.get(match[0]);
    if (at === undefined) continue;
    if (at.start < 0) {
      throw new Error(`Lua script ${name} uses ${match[0]} but does not include it`);
    }
    if (match.index >= at.start && match.index < at.end) continue; // its own definition
    if (match.index < at.start) {
      throw new Error(`Lua script ${name} uses ${match[0]} before it is defined`);
    }
  }
}
