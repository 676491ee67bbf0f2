import type { RunOptions } from './protocol.ts';

/**
 * The options form: every forecaster and training option with a default that works on the
 * built-in data. The input size follows the horizon and season (max(2·season, 2·horizon, 8), the
 * forecaster's own default) until the person types one of their own.
 */
export class OptionsForm {
  constructor(private readonly form: HTMLFormElement) {
    const inputSize = this.field('inputSize');
    inputSize.addEventListener('input', () => (inputSize.dataset.auto = 'false'));
    for (const name of ['horizon', 'season']) this.field(name).addEventListener('input', () => this.followInputSize());
    this.followInputSize();
  }

  private field(name: string): HTMLInputElement | HTMLSelectElement {
    const el = this.form.elements.namedItem(name);
    if (!(el instanceof HTMLInputElement || el instanceof HTMLSelectElement)) throw new Error(`the options form has no field ${name}`);
    return el;
  }

  private followInputSize(): void {
    const inputSize = this.field('inputSize');
    if (inputSize.dataset.auto === 'false') return;
    const horizon = Number(this.field('horizon').value) || 1;
    const season = Number(this.field('season').value) || 1;
    inputSize.value = String(Math.max(2 * season, 2 * horizon, 8));
  }

  /** Sets the season the loaded data suggests (12 for monthly data). */
  suggestSeason(season: number): void {
    this.field('season').value = String(season);
    this.followInputSize();
  }

  /** The options, or null after showing the browser's message on the first invalid field. */
  read(): RunOptions | null {
    if (!this.form.reportValidity()) return null;
    const f = new FormData(this.form);
    const int = (name: string) => Number.parseInt(String(f.get(name)), 10);
    return {
      horizon: int('horizon'),
      season: int('season'),
      inputSize: int('inputSize'),
      cell: f.get('cell') as RunOptions['cell'],
      hiddenSize: int('hiddenSize'),
      numLayers: int('numLayers'),
      epochs: int('epochs'),
      lr: Number(f.get('lr')),
      batchSize: int('batchSize'),
      strategy: f.get('strategy') as RunOptions['strategy'],
      scaling: f.get('scaling') as RunOptions['scaling'],
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
