/**
 * The README quotes the budget table of a named run: its rows must be the bench's budgets,
 * by name and in order, or the README and the bench have drifted apart.
 */

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUDGETS, budgetsMarkdown, readmeBudgetNames } from '../bench/budgets.js';

const README = readFileSync(resolve(__dirname, '..', 'README.md'), 'utf8');

describe('the budget table', () => {
  it("README's quoted rows are the bench's budgets, in order", () => {
    expect(readmeBudgetNames(README)).toEqual(BUDGETS.map((b) => b.name));
  });

  it('names the run it quotes (date and commit)', () => {
    expect(README).toMatch(
      /From `npm run bench[^`]*` on \d{4}-\d\d-\d\d \d\d:\d\d UTC, commit [0-9a-f]{7}/,
    );
  });

  it('round-trips: the generated block parses back to the names', () => {
    const md = budgetsMarkdown({
      date: '2026-12-07T15:00:00.000Z',
      git: { commit: '0123456789abcdef', dirty: false },
      parameters: { quick: false },
      host: { cpu: 'x', cores: 2 },
      throughput: {
        budgets: BUDGETS.map((b) => ({
          name: b.name,
          target: b.target(false),
          measured: 'a | b',
          met: null,
        })),
      },
    });
    expect(readmeBudgetNames(md)).toEqual(BUDGETS.map((b) => b.name));
    expect(readmeBudgetNames('no block here')).toEqual([]);
  });
});
