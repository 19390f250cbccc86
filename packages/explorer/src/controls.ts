export type PanelState = 'loading' | 'idle' | 'running' | 'done' | 'stopped' | 'error';

type Field = HTMLInputElement | HTMLSelectElement;

/**
 * A panel's form and its Run and Stop buttons. The panel's state is kept in the section's
 * `data-state` (the page's tests wait on it); while loading or running the settings are locked.
 */
/** URL keys of earlier versions, by their current name: links made then still work. */
const RENAMED: Record<string, string> = { iterations: 'trajectories' };

export class Controls {
  private readonly form: HTMLFormElement;
  private readonly settings: HTMLFieldSetElement;
  private readonly statusLine: HTMLElement;

  constructor(
    readonly section: HTMLElement,
    actions: { run: () => Promise<'done' | 'stopped'>; stop: () => void },
  ) {
    this.form = find(section, 'form', HTMLFormElement);
    this.settings = find(this.form, 'fieldset.settings', HTMLFieldSetElement);
    this.statusLine = find(section, '.status', HTMLElement);
    this.form.addEventListener('submit', async (event) => {
      event.preventDefault();
      if (this.state === 'loading' || this.state === 'running') return;
      this.setState('running', 'training…');
      try {
        const outcome = await actions.run();
        this.setState(outcome, outcome === 'done' ? 'done' : 'stopped');
      } catch (error) {
        this.fail(error);
      }
    });
    find(this.form, 'button[name="stop"]', HTMLButtonElement).addEventListener('click', actions.stop);
  }

  get state(): PanelState {
    return this.section.dataset.state as PanelState;
  }

  setState(state: PanelState, status: string): void {
    this.section.dataset.state = state;
    this.settings.disabled = state === 'loading' || state === 'running';
    find(this.form, 'button[name="stop"]', HTMLButtonElement).disabled = state !== 'running';
    this.status(status);
  }

  status(text: string): void {
    this.statusLine.textContent = text;
  }

  fail(error: unknown): void {
    console.error(error);
    this.setState('error', error instanceof Error ? error.message : String(error));
  }

  /**
   * Sets the fields from `values`, then from the page's URL, which wins: `?landscape.trajectories=3`
   * sets the field `trajectories` of the panel whose id is `landscape`.
   */
  fill(values: Record<string, string | number>): void {
    const set = (name: string, value: string) => {
      const field = this.field(name);
      field.value = value;
      // A select without that option, or a number field given text, reads back empty.
      if (field.value !== value) throw new Error(`the ${this.section.id} panel's "${name}" cannot be "${value}"`);
    };
    for (const [name, value] of Object.entries(values)) set(name, String(value));
    const prefix = `${this.section.id}.`;
    for (const [key, value] of new URLSearchParams(location.search)) {
      if (!key.startsWith(prefix)) continue;
      const name = key.slice(prefix.length);
      set(RENAMED[name] ?? name, value);
    }
  }

  text(name: string): string {
    return this.field(name).value;
  }

  number(name: string): number {
    return Number(this.field(name).value);
  }

  private field(name: string): Field {
    const field = this.settings.elements.namedItem(name);
    if (!(field instanceof HTMLInputElement || field instanceof HTMLSelectElement))
      throw new Error(`the ${this.section.id} panel has no setting "${name}"`);
    return field;
  }
}

/** The first element under `root` matching `selector`, which must be a `type`: the page's structure is fixed. */
export function find<T extends Element>(root: ParentNode, selector: string, type: new () => T): T {
  const element = root.querySelector(selector);
  if (!(element instanceof type)) throw new Error(`the page has no ${selector}`);
  return element;
}
