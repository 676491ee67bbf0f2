import type { Forecast } from './forecaster.ts';
import type { Series } from './frame.ts';

/**
 * The forecasts as the `webrnn forecast --out` command writes them (src/cli/forecast.ts), so a
 * download from the app and a file from the command line can be compared line by line:
 *
 *   unique_id,step,ds,yhat
 *   a,1,2024-01-01,12.5…
 *
 * `ds` is filled when the series' time stamps are evenly spaced integers, months or days.
 *
 * Browser-safe (no Node modules): the app's worker and the command line both write with it.
 */
export function forecastsCsv(series: readonly Series[], forecasts: readonly Forecast[]): string {
  const lines = ['unique_id,step,ds,yhat'];
  forecasts.forEach((fc, k) => {
    const stamps = nextStamps(series[k]!.ds, fc.values.length);
    fc.values.forEach((v, h) => lines.push(`${fc.id},${h + 1},${stamps?.[h] ?? ''},${v}`));
  });
  return `${lines.join('\n')}\n`;
}

const isoMonth = (d: string) => Number(d.slice(0, 4)) * 12 + Number(d.slice(5, 7)) - 1;

/** The next `h` stamps after `ds`: integers, or ISO dates a fixed number of months or days apart; else null. */
export function nextStamps(ds: readonly string[], h: number): string[] | null {
  if (ds.length < 2) return null;
  const last = ds.at(-1)!;
  if (ds.every((d) => /^-?\d+$/.test(d))) {
    const step = Number(last) - Number(ds.at(-2));
    return Array.from({ length: h }, (_, k) => String(Number(last) + (k + 1) * step));
  }
  if (!ds.every((d) => /^\d{4}-\d{2}-\d{2}$/.test(d))) return null;
  const months = ds.map(isoMonth);
  const day = ds[0]!.slice(8);
  const monthStep = months[1]! - months[0]!;
  const monthly = monthStep > 0 && ds.every((d, i) => d.slice(8) === day && (i === 0 || months[i]! - months[i - 1]! === monthStep));
  if (monthly) {
    return Array.from({ length: h }, (_, k) => {
      const m = months.at(-1)! + (k + 1) * monthStep;
      return `${Math.floor(m / 12)}-${String((m % 12) + 1).padStart(2, '0')}-${day}`;
    });
  }
  const times = ds.map((d) => Date.parse(`${d}T00:00:00Z`));
  const step = times[1]! - times[0]!;
  const daily = step > 0 && times.every((t, i) => i === 0 || t - times[i - 1]! === step);
  return daily ? Array.from({ length: h }, (_, k) => new Date(times.at(-1)! + (k + 1) * step).toISOString().slice(0, 10)) : null;
}
