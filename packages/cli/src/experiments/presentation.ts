import { renderReport } from '../report/report.js';
import type { Results } from '../report/results-schema.js';
import { experiments } from './registry.js';

/** The experiment of a results file and its details as that experiment's schema reads them; a note where it cannot. */
function ownDetails(results: Results) {
  const experiment = experiments[results.experiment];
  if (!experiment) return { note: `"${results.experiment}" is no known experiment: its own figures are left out.` };
  const parsed = experiment.details.safeParse(results.details);
  if (!parsed.success) {
    const where = ['details', ...parsed.error.issues[0].path].join('.');
    return {
      experiment,
      note: `The details do not match what ${experiment.name} writes (first at ${where}): its own figures are left out.`,
    };
  }
  return { experiment, details: parsed.data };
}

/** A run's whole report: the generic parts and the figures its experiment draws from its details. */
export async function runReport(results: Results): Promise<string> {
  const { experiment, details, note } = ownDetails(results);
  const figures = details === undefined ? [] : (experiment?.figures?.(details, results) ?? []);
  return renderReport(results, { figures, explorerPanel: experiment?.explorerPanel, note });
}

/** The lines the experiment prints under a run's summary table. */
export function summaryLines(results: Results): string[] {
  const { experiment, details } = ownDetails(results);
  return details === undefined ? [] : (experiment?.summary?.(details, results) ?? []);
}
