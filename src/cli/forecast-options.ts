import { DEFAULT_EPOCHS, SAMPLED_EPOCHS } from '../forecast/forecaster.ts';
import { CPU_OPTION, usage, type OptionSpec, type OptionTable } from './options.ts';

/**
 * The options of `webrnn forecast | fit | predict | backtest` and which command takes which: the
 * parser (forecast.ts) and the help are both made from these tables.
 */
export type ForecastCommand = 'forecast' | 'fit' | 'predict' | 'backtest';

/**
 * Most training epochs without `--epochs`: the forecaster's own defaults (30; 10 where each epoch
 * is a new sample of the windows), which the help states.
 */
export { DEFAULT_EPOCHS, SAMPLED_EPOCHS };

/** Every option of the forecasting commands, in the order the help lists them. */
export const FORECAST_OPTIONS = {
  horizon: { type: 'string', value: 'N', default: null, about: 'points to forecast' },
  season: { type: 'string', value: 'S', default: '1', about: 'seasonal period: calendar inputs, deseasonalising, the baselines and MASE' },
  'input-size': { type: 'string', value: 'L', default: 'max(2S, 2N, 8)', about: 'past points the network reads' },
  cell: { type: 'string', value: 'rnn|gru|lstm', default: 'lstm', about: 'recurrent cell' },
  hidden: { type: 'string', value: 'H', default: '32', about: 'hidden size' },
  layers: { type: 'string', value: 'L', default: '1', about: 'stacked layers' },
  strategy: { type: 'string', value: 'recursive|direct', default: 'direct', about: 'one step fed back, or all N at once' },
  scaling: {
    type: 'string',
    value: 'window|standard|minmax|robust|none',
    default: 'window',
    about: 'each window by its level and the series by its scale, or one scaler per series',
  },
  transform: { type: 'string', value: 'none|log', default: 'none', about: 'log for multiplicative series' },
  'no-calendar': {
    type: 'boolean',
    default: 'season-position inputs where the stamps have a season',
    about: 'no season-position inputs from the time stamps (month of year, day of week…)',
  },
  'per-series': { type: 'boolean', default: 'one model for all series', about: 'one model per series' },
  ensemble: {
    type: 'string',
    value: 'N',
    default: '5',
    about: 'networks trained side by side from different seeds, combined by the median',
  },
  combine: {
    type: 'string',
    value: 'ets,theta|none',
    default: 'ets,theta,naive2',
    about: 'baselines (snaive, naive2, ets, theta) combined with the networks by a median weighted by their held-out errors, or none',
  },
  levels: { type: 'string', value: 'L,…', default: '80,95', about: 'prediction interval levels in percent, each in (0, 100)' },
  epochs: {
    type: 'string',
    value: 'E',
    default: `${DEFAULT_EPOCHS}; ${SAMPLED_EPOCHS} at large data, where each epoch is a new sample of the windows`,
    about: 'most training epochs; early stopping on the held-out last N points usually ends sooner',
  },
  lr: {
    type: 'string',
    value: 'X',
    default: '0.01 at 64 windows a step, grown as the square root of the batch',
    about: 'Adam learning rate',
  },
  batch: {
    type: 'string',
    value: 'B',
    default: 'sized to the data and the device, 64 for small data',
    about: 'windows per training step and model',
  },
  seed: { type: 'string', value: 'S', default: '0', about: 'initialisation and shuffles' },
  folds: { type: 'string', value: 'K', default: '1', about: 'rolling origins of the backtest' },
  id: { type: 'string', value: 'COL', default: 'unique_id', about: 'series id column of a long CSV' },
  ds: { type: 'string', value: 'COL', default: 'ds; wide CSV: the first column', about: 'time stamp column' },
  y: { type: 'string', value: 'COL', default: 'y', about: 'value column of a long CSV' },
  'ds-format': {
    type: 'string',
    value: 'FMT',
    default: 'the one format that reads every stamp',
    about: 'how time stamps are written when it is ambiguous: M/D/YYYY, D/M/YYYY, YYYY-MM-DD…',
  },
  out: { type: 'string', value: 'PATH', default: 'standard output', about: 'the forecasts CSV' },
  metrics: { type: 'string', value: 'PATH', default: 'not written', about: 'the backtest per series and fold, as JSON' },
  model: { type: 'string', value: 'PATH', default: 'not saved', about: 'the models as safetensors' },
  cpu: CPU_OPTION,
  quiet: {
    type: 'boolean',
    short: 'q',
    default: 'progress on standard error',
    about: 'no progress, series count or adapter lines; results, notes and errors still go out',
  },
} as const satisfies Record<string, OptionSpec>;

export type ForecastFlag = keyof typeof FORECAST_OPTIONS;

const READING: ForecastFlag[] = ['id', 'ds', 'y', 'ds-format'];
const TRAINING: ForecastFlag[] = [
  'horizon',
  'season',
  'input-size',
  'cell',
  'hidden',
  'layers',
  'strategy',
  'scaling',
  'transform',
  'no-calendar',
  'per-series',
  'ensemble',
  'combine',
  'levels',
  'epochs',
  'lr',
  'batch',
  'seed',
];

/** A forecasting command: its help, the options it takes (any other is a usage error) and those it requires. */
interface ForecastCommandSpec {
  synopsis: string;
  about: string;
  flags: ForecastFlag[];
  required: ForecastFlag[];
}

export const COMMANDS: Record<ForecastCommand, ForecastCommandSpec> = {
  forecast: {
    synopsis: 'forecast [FILE] --horizon N [options]',
    about: "backtest on the last N points of each series, then write the next N points with the backtest's networks",
    flags: [...TRAINING, 'folds', ...READING, 'out', 'metrics', 'model', 'cpu', 'quiet'],
    required: ['horizon'],
  },
  fit: {
    synopsis: 'fit FILE --horizon N --model PATH [options]',
    about: 'fit on all of each series and save the models (safetensors)',
    flags: [...TRAINING, ...READING, 'model', 'cpu', 'quiet'],
    required: ['horizon', 'model'],
  },
  predict: {
    synopsis: 'predict FILE --model PATH [--out PATH]',
    about: 'forecast with models saved by fit or forecast --model',
    flags: [...READING, 'model', 'out', 'cpu', 'quiet'],
    required: ['model'],
  },
  backtest: {
    synopsis: 'backtest [FILE] --horizon N [--folds K] [options]',
    about:
      "score the model against seasonal naive, Naive2, ETS and Theta on the last N points (K rolling origins), with its intervals' coverage",
    flags: [...TRAINING, 'folds', ...READING, 'metrics', 'cpu', 'quiet'],
    required: ['horizon'],
  },
};

/** The options `command` takes, from {@link FORECAST_OPTIONS}, in the table's order. */
export function commandOptions(command: ForecastCommand): OptionTable {
  const flags = COMMANDS[command].flags;
  return Object.fromEntries(Object.entries(FORECAST_OPTIONS).filter(([name]) => flags.includes(name as ForecastFlag)));
}

const FILE_HELP = 'FILE: a CSV in long format (unique_id,ds,y) or wide format (ds, then one column per series)';
/** FILE is optional for forecast and backtest. */
const FILE_DEFAULT = '; without FILE, the monthly CO2 series of vega-datasets';
const PROGRESS_HELP =
  'Progress goes to standard error: on a terminal one line redrawn in place, otherwise a line per epoch; both with the loss, the time elapsed and the time left (≤ while early stopping may end sooner).';

/** The forecasting commands' rows in `webrnn help`: the synopsis and what the command does. */
export const FORECAST_COMMAND_LIST = (Object.keys(COMMANDS) as ForecastCommand[]).map(
  (c) => [COMMANDS[c].synopsis, COMMANDS[c].about] as const,
);

/** `webrnn COMMAND --help`. */
export function forecastUsage(command: ForecastCommand): string {
  const { synopsis, about, required } = COMMANDS[command];
  const file = `${FILE_HELP}${command === 'forecast' || command === 'backtest' ? FILE_DEFAULT : ''}.`;
  const progress = command === 'predict' ? [] : [PROGRESS_HELP];
  return usage({ synopsis, about: [about, file, ...progress], options: commandOptions(command), required });
}
