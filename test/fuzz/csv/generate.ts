import fc from 'fast-check';
import { mulberry32 } from '../../../src/util/rng.ts';
import { dayMonthAmbiguity, formatPattern, FREQS, instantAt, invalidStamps, stampText, type StampKind, type StampStyle } from './stamps.ts';
import { decimalText, NOT_DECIMAL } from './values.ts';

/**
 * CSV files of many series with known contents. A plan (what fast-check draws and shrinks) says
 * which series hold which values on which grid of time stamps, which defects to put in, and how to
 * write the file (long or wide, stamp format, row order, quoting, BOM, line ends, blank lines, extra
 * columns). Rendering it gives the text, the options to parse it with and the truth: each series'
 * points in time order, and whether the file must parse, may parse or must be refused.
 */

export interface SeriesPlan {
  id: string;
  /** Grid index of the first point (series may start and end at different times). */
  offset: number;
  /** Value texts, one per point (all finite decimals). */
  values: string[];
  /** An exogenous column's texts (long format only, when the plan has one). */
  exog: string[];
}

/** A fault put into the file on purpose: each one must make the parser refuse the file. */
export type Defect =
  | { kind: 'value'; series: number; index: number; text: string; column: 'y' | 'exog' }
  | { kind: 'duplicate'; series: number; index: number; sameValue: boolean }
  | { kind: 'gap'; series: number; index: number }
  | { kind: 'ragged'; row: number; extra: boolean }
  | { kind: 'empty-id'; series: number; index: number }
  | { kind: 'bad-stamp'; series: number; index: number; text: number };

export interface CsvPlan {
  layout: 'long' | 'wide';
  style: StampStyle;
  series: SeriesPlan[];
  defects: Defect[];
  /** Parse with `dsFormat` stating the stamps' format. */
  stateFormat: boolean;
  /** Seed of a row shuffle, or null to write rows in time order. */
  shuffle: number | null;
  /** Long format: column names other than the defaults, read with `columns`. */
  customNames: boolean;
  /** Seed of the column order. */
  columnOrder: number;
  /** Long format: an extra column the parser is not asked to read. */
  note: boolean;
  bom: boolean;
  crlf: boolean;
  /** 0: quote only where needed, 1: some cells, 2: every cell. */
  quoting: 0 | 1 | 2;
  /** Spaces around cells and header names (the parser trims them). */
  spaces: boolean;
  blankLines: boolean;
  trailingNewline: boolean;
}

/** One truth point: its instant and the text of its value (and exogenous value). */
export interface TruthPoint {
  instant: number;
  y: string;
  exog: string | null;
}

export type Verdict = 'must-parse' | 'may-parse' | 'must-reject';

export interface CsvCase {
  text: string;
  layout: 'long' | 'wide';
  /** Long format: the `columns` argument of parseLong; wide: `{ ds, dsFormat }` of parseWide. */
  options: { id?: string; ds?: string; y?: string; exog?: string[]; dsFormat?: string };
  style: StampStyle;
  /** Each series' points in time order (what a clean parse must give). */
  truth: Map<string, TruthPoint[]>;
  /** Every stamp text written, with its instant. */
  written: Map<string, number>;
  verdict: Verdict;
  /** Why the file must be refused (defects, ambiguity), or why it may be. */
  reasons: string[];
}

const ID_BASES = ['s', 'store ', 'A,B', 'say "hi"', 'ü', '日本', '1', '-', '0x1A', 'x y', "it's"];

const styleArb: fc.Arbitrary<StampStyle> = fc
  .record({
    kind: fc.constantFrom<StampKind>('int', 'iso-date', 'iso-datetime', 'mdy', 'dmy', 'dmy-dot', 'dmy-dash', 'ymd-slash', 'mon-year'),
    freqPick: fc.nat(2),
    step: fc.oneof({ weight: 5, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.constantFrom(2, 7, 10) }),
    pad: fc.boolean(),
    variant: fc.constantFrom<0 | 1 | 2 | 3>(0, 1, 2, 3),
    origin: fc.record({
      int: fc.integer({ min: -30, max: 3000 }),
      year: fc.integer({ min: 1995, max: 2030 }),
      month: fc.integer({ min: 0, max: 11 }),
      // Days 1–12 often, so day/month columns are often ambiguous.
      day: fc.oneof(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 28 })),
      hour: fc.integer({ min: 0, max: 23 }),
    }),
  })
  .map(({ kind, freqPick, ...rest }) => ({ kind, freq: FREQS[kind][freqPick % FREQS[kind].length]!, ...rest }));

function seriesArb(exog: boolean): fc.Arbitrary<Omit<SeriesPlan, 'id'>> {
  return fc.integer({ min: 3, max: 14 }).chain((n) =>
    fc.record({
      offset: fc.integer({ min: 0, max: 6 }),
      values: fc.array(decimalText, { minLength: n, maxLength: n }),
      exog: exog ? fc.array(decimalText, { minLength: n, maxLength: n }) : fc.constant([]),
    }),
  );
}

const defectArb: fc.Arbitrary<Defect> = fc.oneof(
  fc.record({
    kind: fc.constant('value' as const),
    series: fc.nat(),
    index: fc.nat(),
    text: fc.constantFrom(...NOT_DECIMAL),
    column: fc.constantFrom('y' as const, 'exog' as const),
  }),
  fc.record({ kind: fc.constant('duplicate' as const), series: fc.nat(), index: fc.nat(), sameValue: fc.boolean() }),
  fc.record({ kind: fc.constant('gap' as const), series: fc.nat(), index: fc.nat() }),
  fc.record({ kind: fc.constant('ragged' as const), row: fc.nat(), extra: fc.boolean() }),
  fc.record({ kind: fc.constant('empty-id' as const), series: fc.nat(), index: fc.nat() }),
  fc.record({ kind: fc.constant('bad-stamp' as const), series: fc.nat(), index: fc.nat(), text: fc.nat() }),
);

/** A duplicate and a gap could cancel out (the copy removed again): keep only the first of them. */
function oneShift(defects: Defect[]): Defect[] {
  const shift = defects.findIndex((d) => d.kind === 'duplicate' || d.kind === 'gap');
  return defects.filter((d, i) => i <= shift || (d.kind !== 'duplicate' && d.kind !== 'gap'));
}

/** The plan arbitrary: half the files clean, the rest with one or two defects. */
export const csvPlan: fc.Arbitrary<CsvPlan> = fc
  .record({ layout: fc.constantFrom('long' as const, 'wide' as const), exog: fc.boolean() })
  .chain(({ layout, exog }) =>
    fc.record({
      layout: fc.constant(layout),
      style: styleArb,
      series: fc.uniqueArray(fc.nat(ID_BASES.length * 3 - 1), { minLength: 1, maxLength: 4 }).chain((ids) =>
        fc.tuple(
          ...ids.map((n) =>
            seriesArb(exog && layout === 'long').map((s) => ({
              ...s,
              id: `${ID_BASES[n % ID_BASES.length]!}${Math.floor(n / ID_BASES.length)}`,
            })),
          ),
        ),
      ),
      defects: fc
        .oneof(
          { weight: 1, arbitrary: fc.constant<Defect[]>([]) },
          { weight: 1, arbitrary: fc.array(defectArb, { minLength: 1, maxLength: 2 }) },
        )
        .map(oneShift),
      stateFormat: fc.boolean(),
      shuffle: fc.option(fc.nat(), { freq: 2 }),
      customNames: fc.boolean(),
      columnOrder: fc.nat(),
      note: fc.boolean(),
      bom: fc.boolean(),
      crlf: fc.boolean(),
      quoting: fc.constantFrom<0 | 1 | 2>(0, 1, 2),
      spaces: fc.boolean(),
      blankLines: fc.boolean(),
      trailingNewline: fc.boolean(),
    }),
  );

function quote(cell: string): string {
  return `"${cell.replace(/"/g, '""')}"`;
}

/** Seeded Fisher–Yates. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  const r = mulberry32(seed);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** The file's text from rows of cells (header first), written as the plan says. */
function writeRows(plan: CsvPlan, rows: string[][], raggedRows: Map<number, boolean>): string {
  const r = mulberry32(plan.columnOrder ^ 0x5bd1e995);
  const lines = rows.map((cells, k) => {
    let out = cells.map((c) => {
      const padded = plan.spaces && r() < 0.3 ? ` ${c} ` : c;
      const must = /[",\r\n]/.test(padded) || (padded !== padded.trim() && plan.quoting > 0);
      const want = plan.quoting === 2 || (plan.quoting === 1 && r() < 0.4);
      return must || want ? quote(padded) : padded;
    });
    // Row k ≥ 1 is data row k − 1.
    const extra = k > 0 ? raggedRows.get(k - 1) : undefined;
    if (extra === true) out = [...out, 'x'];
    if (extra === false) {
      // Drop an empty field where there is one: a row left with empty fields only is a blank line
      // (papaparse's skipEmptyLines: 'greedy'), which is no defect.
      const empty = cells.map((c) => c.trim() === '').lastIndexOf(true);
      out = out.filter((_, j) => j !== (empty >= 0 ? empty : out.length - 1));
    }
    return out.join(',');
  });
  const withBlanks = plan.blankLines ? lines.flatMap((l, k) => (k > 0 && k % 3 === 0 ? ['', l] : [l])) : lines;
  const eol = plan.crlf ? '\r\n' : '\n';
  return `${plan.bom ? '\uFEFF' : ''}${withBlanks.join(eol)}${plan.trailingNewline ? eol : ''}`;
}

/** A long-format row before it is written: the cells by column, plus its truth. */
interface LongRow {
  id: string;
  stamp: string;
  y: string;
  exog: string;
  note: string;
}

/** Renders a plan: the text, the parse options, the truth and the verdict. */
export function renderCsv(plan: CsvPlan): CsvCase {
  const style = plan.style;
  const reasons: string[] = [];
  const written = new Map<string, number>();
  const stampOf = (k: number) => {
    const t = instantAt(style, k);
    const text = stampText(style, t);
    written.set(text, t);
    return text;
  };
  const S = plan.series.length;
  const pick = (n: number) => plan.series[n % S]!;
  // Each series' points before defects.
  const points = plan.series.map((s) => s.values.map((y, i) => ({ k: s.offset + i, y, exog: s.exog[i] ?? null })));
  const exogColumn = plan.layout === 'long' && plan.series[0]!.exog.length > 0;
  const raggedRows = new Map<number, boolean>();
  const instants = new Set<number>();
  const verdict = (): Verdict => {
    if (reasons.length > 0) return 'must-reject';
    const ambiguity = dayMonthAmbiguity(style, [...instants]);
    if (plan.stateFormat || ambiguity === 'none') return 'must-parse';
    if (ambiguity === 'same') {
      reasons.push('a day/month column whose days all equal their months (both readings agree; refusing it is allowed)');
      return 'may-parse';
    }
    // D.M.YYYY is read day-first by convention; a parser may still ask for the format.
    if (style.kind === 'dmy-dot') {
      reasons.push('a D.M.YYYY column whose days are all ≤ 12 (day-first by convention; refusing it is allowed)');
      return 'may-parse';
    }
    reasons.push(
      `an ambiguous ${{ mdy: 'M/D/YYYY', dmy: 'D/M/YYYY', 'dmy-dash': 'D-M-YYYY' }[style.kind as 'mdy']} column (every day ≤ 12, no format stated)`,
    );
    return 'must-reject';
  };

  const stated = plan.stateFormat ? { dsFormat: formatPattern(style) } : {};
  const truth = new Map<string, TruthPoint[]>();
  const textCase = (text: string, options: CsvCase['options']): CsvCase => ({
    text,
    layout: plan.layout,
    options,
    style,
    truth,
    written,
    verdict: verdict(),
    reasons,
  });

  if (plan.layout === 'long') {
    const names = plan.customNames ? { id: 'store', ds: 'date', y: 'sales' } : { id: 'unique_id', ds: 'ds', y: 'y' };
    const rows: LongRow[] = [];
    plan.series.forEach((s, n) => {
      const list = points[n]!;
      truth.set(
        s.id,
        list.map((p) => ({ instant: instantAt(style, p.k), y: p.y, exog: p.exog })),
      );
      list.forEach((p) => {
        instants.add(instantAt(style, p.k));
        rows.push({ id: s.id, stamp: stampOf(p.k), y: p.y, exog: p.exog ?? '', note: `n${rows.length}, ok` });
      });
    });
    // Rows of series n in write order, to aim defects at.
    const rowsOf = (n: number) => rows.filter((r) => r.id === pick(n).id);
    for (const d of plan.defects) {
      if (d.kind === 'ragged') {
        raggedRows.set(d.row % rows.length, d.extra);
        reasons.push(`data row ${(d.row % rows.length) + 1} has ${d.extra ? 'an extra field' : 'a field missing'}`);
        continue;
      }
      const list = rowsOf(d.series);
      if (list.length === 0) continue;
      const row = list[d.index % list.length]!;
      switch (d.kind) {
        case 'value': {
          const column = d.column === 'exog' && exogColumn ? 'exog' : 'y';
          row[column] = d.text;
          reasons.push(`series ${row.id} holds ${JSON.stringify(d.text)} in ${column}`);
          break;
        }
        case 'duplicate': {
          rows.push({ ...row, y: d.sameValue ? row.y : '1' + row.y.replace(/^[+-]/, '') });
          reasons.push(`series ${row.id} has two rows at ${row.stamp}`);
          break;
        }
        case 'gap': {
          if (list.length < 4) break;
          const victim = list[1 + (d.index % (list.length - 2))]!;
          rows.splice(rows.indexOf(victim), 1);
          reasons.push(`series ${row.id} misses ${victim.stamp} (a gap)`);
          break;
        }
        case 'empty-id':
          row.id = '';
          reasons.push('a row with an empty series id');
          break;
        case 'bad-stamp': {
          const bad = invalidStamps(style.kind);
          row.stamp = bad[d.text % bad.length]!;
          reasons.push(`series ${row.id} has the time stamp ${JSON.stringify(row.stamp)}`);
          break;
        }
      }
    }
    const order = plan.shuffle === null ? rows : shuffled(rows, plan.shuffle);
    // The ragged rows were chosen by index in the final order.
    const columns: Array<[string, (r: LongRow) => string]> = [
      [names.id, (r) => r.id],
      [names.ds, (r) => r.stamp],
      [names.y, (r) => r.y],
      ...(exogColumn ? [['temp', (r: LongRow) => r.exog] as [string, (r: LongRow) => string]] : []),
      ...(plan.note ? [['note', (r: LongRow) => r.note] as [string, (r: LongRow) => string]] : []),
    ];
    const cols = shuffled(columns, plan.columnOrder);
    const table = [cols.map(([h]) => h), ...order.map((r) => cols.map(([, get]) => get(r)))];
    const options = { ...(plan.customNames ? names : {}), ...(exogColumn ? { exog: ['temp'] } : {}), ...stated };
    return textCase(writeRows(plan, table, raggedRows), options);
  }

  // Wide: one row per grid point of the union of the series' spans, one column per series.
  const first = Math.min(...plan.series.map((s) => s.offset));
  const last = Math.max(...plan.series.map((s) => s.offset + s.values.length - 1));
  const grid: Array<{ stamp: string; cells: string[] }> = [];
  for (let k = first; k <= last; k++) {
    grid.push({ stamp: stampOf(k), cells: plan.series.map((s) => s.values[k - s.offset] ?? '') });
  }
  plan.series.forEach((s, n) => {
    truth.set(
      s.id,
      points[n]!.map((p) => ({ instant: instantAt(style, p.k), y: p.y, exog: null })),
    );
    points[n]!.forEach((p) => instants.add(instantAt(style, p.k)));
  });
  // Cell defects first: a duplicated or removed row moves the rows after it.
  const cellsFirst = [...plan.defects].sort(
    (a, b) => Number(a.kind === 'duplicate' || a.kind === 'gap') - Number(b.kind === 'duplicate' || b.kind === 'gap'),
  );
  for (const d of cellsFirst) {
    if (d.kind === 'ragged') {
      raggedRows.set(d.row % grid.length, d.extra);
      reasons.push(`data row ${(d.row % grid.length) + 1} has ${d.extra ? 'an extra field' : 'a field missing'}`);
      continue;
    }
    const n = d.series % S;
    const s = plan.series[n]!;
    // The grid row of the series' point `index` (interior points only, where a blank is a gap).
    const interior = (index: number) => s.offset - first + 1 + (index % (s.values.length - 2));
    switch (d.kind) {
      case 'value': {
        const blank = d.text.trim() === '';
        const at = blank ? interior(d.index) : s.offset - first + (d.index % s.values.length);
        grid[at]!.cells[n] = d.text;
        reasons.push(
          blank
            ? `series ${s.id} has an empty cell between its first and last values (a gap)`
            : `series ${s.id} holds ${JSON.stringify(d.text)}`,
        );
        break;
      }
      case 'duplicate': {
        const at = s.offset - first + (d.index % s.values.length);
        const copy = grid[at]!;
        grid.splice(at + 1, 0, {
          stamp: copy.stamp,
          cells: copy.cells.map((c) => (d.sameValue || c === '' ? c : '1' + c.replace(/^[+-]/, ''))),
        });
        reasons.push(`two rows at ${copy.stamp}`);
        break;
      }
      case 'gap': {
        if (s.values.length < 4) break;
        const at = interior(d.index);
        reasons.push(`no row at ${grid[at]!.stamp} (a gap in series ${s.id})`);
        grid.splice(at, 1);
        break;
      }
      case 'empty-id':
        break;
      case 'bad-stamp': {
        const bad = invalidStamps(style.kind);
        const at = s.offset - first + (d.index % s.values.length);
        grid[at]!.stamp = bad[d.text % bad.length]!;
        reasons.push(`the time stamp ${JSON.stringify(grid[at]!.stamp)}`);
        break;
      }
    }
  }
  const rows = plan.shuffle === null ? grid : shuffled(grid, plan.shuffle);
  // The ds column first, or elsewhere (then named with { ds }).
  const dsAt = plan.columnOrder % (S + 1);
  const header = plan.series.map((s) => s.id);
  header.splice(dsAt, 0, 'ds');
  const table = [
    header,
    ...rows.map((r) => {
      const cells = [...r.cells];
      cells.splice(dsAt, 0, r.stamp);
      return cells;
    }),
  ];
  return textCase(writeRows(plan, table, raggedRows), { ...(dsAt === 0 ? {} : { ds: 'ds' }), ...stated });
}
