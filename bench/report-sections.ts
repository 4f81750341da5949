/**
 * The report's sections beyond the suite's own (recommendation, cost model, sensitivity,
 * ground truth), in page order: one list for `npm run bench` and the report's browser test.
 */

import type { ExtraSection } from '../src/report/html.js';
import { groundTruthSection } from '../src/report/ground-truth.js';
import { costModelSection } from '../src/report/cost-model.js';
import { recommendationSection } from '../src/report/recommend.js';
import type { Results } from '../src/report/results.js';
import { sensitivitySection } from '../src/report/sensitivity.js';

/** The extra sections a suite's results fill (those with nothing to show are left out). */
export function reportSections(results: Results): ExtraSection[] {
  return [
    recommendationSection(results),
    costModelSection(results),
    sensitivitySection(results.sensitivity),
    groundTruthSection(results.groundTruth),
  ].filter((x): x is ExtraSection => x !== undefined);
}
