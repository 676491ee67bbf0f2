import { BASELINES, type BaselineName } from '../src/forecast/baselines/index.ts';
import type { RunOptions } from './protocol.ts';

/**
 * The options form: every forecaster and training option, with the forecaster's defaults. A
 * number field left empty ("auto") is left to the forecaster, as a flag left off the command line
 * is: the input size from the horizon and season (its placeholder shows the value), the batch size
 * and learning rate from the data and the device, the epochs by early stopping, the hidden size
 * and the ensemble's size from the recipe.
 */
export class OptionsForm {
  constructor(private readonly form: HTMLFormElement) {
    for (const name of ['horizon', 'season']) this.field(name).addEventListener('input', () => this.showInputSize());
    this.field('levels').addEventListener('input', () => this.checkLevels());
    this.showInputSize();
  }

  private field(name: string): HTMLInputElement | HTMLSelectElement {
    const el = this.form.elements.namedItem(name);
    if (!(el instanceof HTMLInputElement || el instanceof HTMLSelectElement)) throw new Error(`the options form has no field ${name}`);
    return el;
  }

  /** The input size the forecaster picks when the field is empty: max(2·season, 2·horizon, 8). */
  private showInputSize(): void {
    const horizon = Number(this.field('horizon').value) || 1;
    const season = Number(this.field('season').value) || 1;
    (this.field('inputSize') as HTMLInputElement).placeholder = `auto (${Math.max(2 * season, 2 * horizon, 8)})`;
  }

  /** Sets the season the loaded data suggests (12 for monthly data). */
  suggestSeason(season: number): void {
    this.field('season').value = String(season);
    this.showInputSize();
  }

  /**
   * The interval levels typed (`80, 95`), ascending, or a message saying what is wrong: each a
   * number strictly between 0 and 100, none twice, at least one.
   */
  static parseLevels(text: string): number[] | string {
    const parts = text.split(',').map((p) => p.trim());
    const levels = parts.map(Number);
    if (parts.some((p) => !/^(\d+\.?\d*|\.\d+)$/.test(p)) || levels.some((l) => !(l > 0 && l < 100))) {
      return 'levels are percentages between 0 and 100, comma-separated (e.g. 80, 95)';
    }
    const twice = levels.find((l, i) => levels.indexOf(l) !== i);
    if (twice !== undefined) return `the level ${twice} is there twice`;
    return levels.sort((a, b) => a - b);
  }

  private checkLevels(): void {
    const input = this.field('levels') as HTMLInputElement;
    const parsed = OptionsForm.parseLevels(input.value);
    input.setCustomValidity(typeof parsed === 'string' ? parsed : '');
  }

  /** The options, or null after showing the browser's message on the first invalid field. */
  read(): RunOptions | null {
    this.checkLevels();
    if (!this.form.reportValidity()) return null;
    const f = new FormData(this.form);
    const int = (name: string) => Number.parseInt(String(f.get(name)), 10);
    /** A number field's value, or nothing when it is left empty (the forecaster's default). */
    const auto = <K extends keyof RunOptions>(key: K, name: string, read: (text: string) => number) => {
      const text = String(f.get(name) ?? '').trim();
      return (text === '' ? {} : { [key]: read(text) }) as Partial<Pick<RunOptions, K>>;
    };
    const combine = f
      .getAll('combine')
      .map(String)
      .filter((n): n is BaselineName => (BASELINES as readonly string[]).includes(n));
    return {
      horizon: int('horizon'),
      season: int('season'),
      ...auto('inputSize', 'inputSize', Number),
      cell: f.get('cell') as RunOptions['cell'],
      ...auto('hiddenSize', 'hiddenSize', Number),
      numLayers: int('numLayers'),
      ...auto('epochs', 'epochs', Number),
      ...auto('lr', 'lr', Number),
      ...auto('batchSize', 'batchSize', Number),
      strategy: f.get('strategy') as RunOptions['strategy'],
      scaling: f.get('scaling') as RunOptions['scaling'],
      transform: f.get('transform') as RunOptions['transform'],
      calendar: f.get('calendar') === 'on',
      ...auto('ensemble', 'ensemble', Number),
      combine,
      levels: OptionsForm.parseLevels(String(f.get('levels'))) as number[],
      perSeries: f.get('mode') === 'per-series',
      seed: int('seed'),
      device: f.get('device') as RunOptions['device'],
    };
  }

  /** Enables or disables the fields (their fieldset) while a run trains. */
  set disabled(value: boolean) {
    this.form.querySelector('fieldset')!.disabled = value;
  }
}
