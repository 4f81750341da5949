/**
 * Prints the README's budget block from a run's results.json (default
 * reports/latest/results.json): `node --import tsx bench/budgets-md.ts [results.json]`.
 */

import { readFileSync } from 'node:fs';
import type { Results } from '../src/report/results.js';
import { budgetsMarkdown } from './budgets.js';

const file = process.argv[2] ?? 'reports/latest/results.json';
console.log(budgetsMarkdown(JSON.parse(readFileSync(file, 'utf8')) as Results));
