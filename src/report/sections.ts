// The report page's sections after the tables, in page order: one list for the bench's
// report and the browser test that checks the page.
import { costModelSection } from './cost-model.js';
import { groundTruthSection } from './ground-truth.js';
import type { ExtraSection } from './html.js';
import { recommendationSection } from './recommend.js';
import type { Results } from './results.js';
import { sensitivitySection } from './sensitivity.js';

/** The recommendation, cost model, sensitivity and ground-truth sections a run's results
 * have (a section whose data the run lacks is left out). Cheap: renders specs, runs nothing. */
export function reportSections(results: Results): ExtraSection[] {
  return [
    recommendationSection(results),
    costModelSection(results),
    sensitivitySection(results.sensitivity),
    groundTruthSection(results.groundTruth),
  ].filter((x): x is ExtraSection => x !== undefined);
}
