/**
 * Long tables on the report page: collapsed by default behind a summary line that gives
 * the row count, with a filter box that hides rows not containing the typed text (the
 * page script `FILTER_SCRIPT` wires it; no request, no library).
 */

import { esc } from './escape.js';

/** A plain HTML table; cells are HTML (the caller escapes what came from a user). */
export function htmlTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  cls = '',
): string {
  return `<table class="${cls}"><thead><tr>${header.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

/**
 * A table collapsed behind "label (N rows)" with a filter box; `open` shows it expanded.
 * Cost: O(cells).
 */
export function longTable(
  label: string,
  header: readonly string[],
  rows: readonly (readonly string[])[],
  cls = '',
  open = false,
): string {
  const n = rows.length;
  return `<details class="long"${open ? ' open' : ''}><summary>${esc(label)} <span class="count">(${n.toLocaleString('en-US')} row${n === 1 ? '' : 's'})</span></summary><div class="filter"><input type="search" placeholder="filter rows" aria-label="filter rows of ${esc(label)}"> <span class="shown"></span></div>${htmlTable(header, rows, cls)}</details>`;
}

/** The page script that makes every filter box work (plain DOM, no dependency). */
export const FILTER_SCRIPT = `document.querySelectorAll('details.long').forEach(function(d){var input=d.querySelector('input[type=search]');var shown=d.querySelector('.shown');var rows=d.querySelectorAll('tbody tr');if(!input)return;
input.addEventListener('input',function(){var q=input.value.toLowerCase();var n=0;rows.forEach(function(tr){var hit=!q||tr.textContent.toLowerCase().indexOf(q)>=0;tr.style.display=hit?'':'none';if(hit)n++;});shown.textContent=q?n+' of '+rows.length+' rows':'';});});`;
