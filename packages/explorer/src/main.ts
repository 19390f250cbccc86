import './style.css';
import { find } from './controls.js';
import { KinkPanel } from './kink.js';
import { LandscapePanel } from './landscape.js';
import type { BackendChoice } from './messages.js';

const badge = find(document, '#backend', HTMLElement);
// `?backend=cpu` or `?backend=webgl` overrides the choice, for comparing the two.
const requested = new URLSearchParams(location.search).get('backend') ?? 'auto';
const choices: readonly string[] = ['auto', 'webgl', 'cpu'] satisfies BackendChoice[];
const backend = {
  choice: (choices.includes(requested) ? requested : 'auto') as BackendChoice,
  /** Every worker reports its tfjs backend; they all choose alike, so the last word stands. */
  show(name: string): void {
    badge.textContent = `tfjs backend: ${name}`;
    badge.dataset.backend = name;
  },
};
if (!choices.includes(requested)) console.warn(`?backend=${requested} is not one of ${choices.join(', ')}; using auto`);

new LandscapePanel(find(document, '#landscape', HTMLElement), backend);
new KinkPanel(find(document, '#kink', HTMLElement), backend);
