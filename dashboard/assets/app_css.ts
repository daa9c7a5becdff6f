/**
 * The dashboard's stylesheet, served at `${basePath}/assets/app.css`: light
 * and dark themes from `prefers-color-scheme`; tables scroll inside their
 * own container so a 390 px screen never scrolls sideways.
 *
 * @example
 * ```ts
 * import { APP_CSS } from "./app_css.ts";
 *
 * console.log(APP_CSS.includes("prefers-color-scheme")); // true
 * ```
 *
 * @module
 */

/** The stylesheet's text. */
export const APP_CSS: string = `:root {
  --bg: #ffffff; --fg: #1b1f24; --muted: #5b636e; --line: #d8dde3; --panel: #f5f7f9;
  --accent: #0b62c4; --danger: #b42318; --ok: #1a7f37; --warn: #9a6700;
  color-scheme: light dark;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0f1216; --fg: #e6e9ed; --muted: #9aa4af; --line: #2b323b; --panel: #171b21;
    --accent: #5aa2ff; --danger: #ff6b5e; --ok: #4cc46a; --warn: #e3b341;
  }
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif;
  background: var(--bg); color: var(--fg); overflow-wrap: anywhere; }
a { color: var(--accent); }
header { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: center;
  padding: .75rem 1rem; border-bottom: 1px solid var(--line); background: var(--panel); }
header .brand { font-weight: 700; color: var(--fg); text-decoration: none; }
nav { display: flex; flex-wrap: wrap; gap: .75rem; }
main { padding: 1rem; max-width: 1200px; margin: 0 auto; }
h1 { font-size: 1.35rem; margin: 0 0 .75rem; }
h2 { font-size: 1.1rem; margin: 1.25rem 0 .5rem; }
.table-wrap { overflow-x: auto; border: 1px solid var(--line); border-radius: 6px; }
table { border-collapse: collapse; width: 100%; }
th, td { padding: .4rem .6rem; text-align: left; border-bottom: 1px solid var(--line);
  white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr:last-child td { border-bottom: 0; }
.tabs { display: flex; flex-wrap: wrap; gap: .25rem; margin: .5rem 0; }
.tabs a { padding: .25rem .6rem; border: 1px solid var(--line); border-radius: 999px;
  text-decoration: none; }
.tabs a[aria-current="page"] { background: var(--accent); color: var(--bg); }
.actions { display: flex; flex-wrap: wrap; gap: .5rem; margin: .5rem 0; }
form.inline { display: inline; margin: 0; }
button { font: inherit; padding: .3rem .7rem; border: 1px solid var(--line); border-radius: 6px;
  background: var(--panel); color: var(--fg); cursor: pointer; }
button.danger { color: var(--danger); }
input[type=search], input[type=text] { font: inherit; padding: .3rem .5rem; max-width: 100%;
  border: 1px solid var(--line); border-radius: 6px; background: var(--bg); color: var(--fg); }
pre { background: var(--panel); border: 1px solid var(--line); border-radius: 6px;
  padding: .6rem; overflow: auto; max-height: 30rem; white-space: pre-wrap; }
.badge { display: inline-block; padding: 0 .45rem; border-radius: 999px; font-size: .85em;
  border: 1px solid var(--line); }
.state-failed { color: var(--danger); } .state-completed { color: var(--ok); }
.state-active { color: var(--accent); } .state-delayed { color: var(--warn); }
.muted { color: var(--muted); }
.spark { vertical-align: middle; }
.spark .completed { stroke: var(--ok); } .spark .failed { stroke: var(--danger); }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; }
dl.facts dt { color: var(--muted); } dl.facts dd { margin: 0; }
.pager { display: flex; gap: 1rem; margin: .75rem 0; }
`;
