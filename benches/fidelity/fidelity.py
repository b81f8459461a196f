"""Score rowsmith's offline generator against the rows already in a table.

For every benchmark table we make N synthetic rows twice, where N is the table's
own row count:

* rowsmith: `rowsmith generate <copy> <table> -n N --seed 1 --provider offline`
  on a copy of the database, reading back only the rows it inserted;
* SDV's GaussianCopulaSynthesizer, fitted on the same original rows.

Both are scored against the original rows with SDMetrics' Quality Report
(Column Shapes and Column Pair Trends) and with a new-row check. Every table is
described once (TABLES below) and that one description is the metadata for
both SDV and SDMetrics, so both generators are judged by the same rules.

Run it through run.sh, which prepares the virtual environment and the binary.
"""

import argparse
import csv
import json
import math
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

# SDV, SDMetrics and RDT talk a lot (deprecations, "we recommend" notes); the
# numbers are what matters here.
warnings.filterwarnings('ignore')

from sdmetrics.reports import QualityReport  # noqa: E402
from sdv.metadata import Metadata  # noqa: E402
from sdv.single_table import GaussianCopulaSynthesizer  # noqa: E402

SEED = 1
SCORED_SDTYPES = {'numerical', 'datetime', 'categorical', 'boolean'}
DATE = '%Y-%m-%d'
DATETIME = '%Y-%m-%d %H:%M:%S'


# --- table descriptions -----------------------------------------------------


def col(sdtype, **extra):
    """One column's metadata, in SDV's metadata format."""
    return {'sdtype': sdtype, **extra}


def id_col():
    return col('id')


def pii(sdtype):
    """Personal or free-text data: SDV fakes it, SDMetrics does not score it."""
    return col(sdtype, pii=True)


def text(identity=False):
    """Free text (product names, notes): neither faked nor scored by SDMetrics.

    `identity`: the values mostly differ from row to row (titles, names of
    things), so a generator should write new ones rather than copy them; the
    free-text scores below (copied share, shape agreement) cover these columns.
    Free text that repeats (delivery notes) is left out of them.
    """
    return col('unknown', pii=True, identity=identity)


def sdv_columns(columns):
    """The metadata SDV and SDMetrics see: our own keys taken out."""
    return {name: {k: v for k, v in meta.items() if k != 'identity'}
            for name, meta in columns.items()}


def identity_columns(columns):
    return [name for name, meta in columns.items() if meta.get('identity')]


@dataclass
class Table:
    name: str
    source: str  # 'demo' or 'public'
    columns: dict  # column name -> SDV column metadata
    note: str = ''
    rows: int = 0
    results: dict = field(default_factory=dict)


TABLES = [
    Table('customers', 'demo', {
        'id': id_col(),
        'first_name': pii('first_name'),
        'last_name': pii('last_name'),
        'email': pii('email'),
        'phone': pii('phone_number'),
        'street': pii('street_address'),
        'city': col('categorical'),
        'state': col('categorical'),
        'zip': col('categorical'),
        'loyalty_tier': col('categorical'),
        'birth_date': col('datetime', datetime_format=DATE),
        'created_at': col('datetime', datetime_format=DATETIME),
    }),
    Table('products', 'demo', {
        'id': id_col(),
        'sku': id_col(),
        'name': text(identity=True),
        'category': col('categorical'),
        'price': col('numerical'),
        'stock': col('numerical'),
        'weight_kg': col('numerical'),
        'discontinued': col('categorical'),
    }),
    Table('orders', 'demo', {
        'id': id_col(),
        'order_number': id_col(),
        'customer_id': id_col(),
        'status': col('categorical'),
        'ordered_at': col('datetime', datetime_format=DATETIME),
        'shipped_at': col('datetime', datetime_format=DATETIME),
        'total': col('numerical'),
        'notes': text(),
    }),
    Table('order_items', 'demo', {
        'order_id': id_col(),
        'product_id': id_col(),
        'quantity': col('numerical'),
        'unit_price': col('numerical'),
        'line_total': col('numerical'),
    }),
    Table('cars', 'public', {
        'Name': text(identity=True),
        'Miles_per_Gallon': col('numerical'),
        'Cylinders': col('categorical'),
        'Displacement': col('numerical'),
        'Horsepower': col('numerical'),
        'Weight_in_lbs': col('numerical'),
        'Acceleration': col('numerical'),
        'Year': col('datetime', datetime_format=DATE),
        'Origin': col('categorical'),
    }, note='vega_datasets cars'),
    Table('seattle_weather', 'public', {
        'date': col('datetime', datetime_format=DATE),
        'precipitation': col('numerical'),
        'temp_max': col('numerical'),
        'temp_min': col('numerical'),
        'wind': col('numerical'),
        'weather': col('categorical'),
    }, note='vega_datasets seattle-weather'),
    Table('wine', 'public', {
        **{c: col('numerical') for c in [
            'alcohol', 'malic_acid', 'ash', 'alcalinity_of_ash', 'magnesium',
            'total_phenols', 'flavanoids', 'nonflavanoid_phenols',
            'proanthocyanins', 'color_intensity', 'hue',
            'od280/od315_of_diluted_wines', 'proline',
        ]},
        'class': col('categorical'),
    }, note='scikit-learn load_wine'),
    Table('tracks', 'fixture', {
        'name': text(identity=True),
        'genre': col('categorical'),
        'milliseconds': col('numerical'),
        'unit_price': col('categorical'),
    }, note='invented song titles, tests/fixtures/tracks.csv'),
    Table('albums', 'fixture', {
        'title': text(identity=True),
        'released': col('numerical'),
    }, note='invented album titles, tests/fixtures/albums.csv'),
]

# The repository's own fixtures: invented titles written for the tests.
FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'tests', 'fixtures')


# --- building the databases ---------------------------------------------------


def make_demo_db(binary, workdir):
    """A fresh demo database, built by rowsmith itself in a private data dir."""
    data_dir = os.path.join(workdir, 'demo-data')
    os.makedirs(data_dir)
    out = subprocess.run(
        [binary, 'demo', '--reset'],
        env={**os.environ, 'ROWSMITH_DATA_DIR': data_dir},
        check=True, capture_output=True, text=True,
    )
    return out.stdout.strip().splitlines()[-1]


def public_frames():
    """The public tables, as shipped inside installed packages (no network).

    Dates become ISO `YYYY-MM-DD` text, the way they usually sit in SQLite.
    """
    from sklearn.datasets import load_wine
    from vega_datasets import local_data

    cars = local_data.cars()
    cars['Year'] = cars['Year'].dt.strftime(DATE)

    weather = local_data.seattle_weather()
    weather['date'] = weather['date'].dt.strftime(DATE)

    wine = load_wine(as_frame=True).frame.rename(columns={'target': 'class'})

    # SQLite column types: what a careful import would choose. Whole-number
    # measurements are INTEGER; the rest REAL; labels and dates TEXT.
    return {
        'cars': (cars, {
            'Name': 'TEXT', 'Miles_per_Gallon': 'REAL', 'Cylinders': 'INTEGER',
            'Displacement': 'REAL', 'Horsepower': 'INTEGER',
            'Weight_in_lbs': 'INTEGER', 'Acceleration': 'REAL',
            'Year': 'TEXT', 'Origin': 'TEXT',
        }),
        'seattle_weather': (weather, {
            'date': 'TEXT', 'precipitation': 'REAL', 'temp_max': 'REAL',
            'temp_min': 'REAL', 'wind': 'REAL', 'weather': 'TEXT',
        }),
        'wine': (wine, {
            **{c: 'REAL' for c in wine.columns},
            'magnesium': 'INTEGER', 'proline': 'INTEGER', 'class': 'INTEGER',
        }),
    }


def make_public_db(workdir):
    """One SQLite file holding every public table (plain rowid tables)."""
    path = os.path.join(workdir, 'public.sqlite')
    with sqlite3.connect(path) as conn:
        for name, (frame, types) in public_frames().items():
            cols = ', '.join(f'"{c}" {types[c]}' for c in frame.columns)
            conn.execute(f'CREATE TABLE "{name}" ({cols})')
            frame.to_sql(name, conn, if_exists='append', index=False)
    return path


def make_fixture_db(workdir):
    """The tests' fixtures of invented song and album titles, as plain rowid
    tables: `tracks` (its title column is `name`, as in Chinook) and `albums`
    (`title`)."""
    path = os.path.join(workdir, 'fixture.sqlite')

    def rows(name):
        with open(os.path.join(FIXTURES, name), newline='') as f:
            return list(csv.DictReader(f))

    with sqlite3.connect(path) as conn:
        conn.execute('CREATE TABLE tracks (name TEXT NOT NULL, genre TEXT, '
                     'milliseconds INTEGER, unit_price REAL)')
        conn.executemany(
            'INSERT INTO tracks VALUES (?, ?, ?, ?)',
            [(r['name'], r['genre'], int(r['milliseconds']), float(r['unit_price']))
             for r in rows('tracks.csv')])
        conn.execute('CREATE TABLE albums (title TEXT, released INTEGER)')
        conn.executemany('INSERT INTO albums VALUES (?, ?)',
                         [(r['title'], int(r['released'])) for r in rows('albums.csv')])
    return path


# --- reading rows ---------------------------------------------------------------


def is_without_rowid(conn, table):
    sql = conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).fetchone()[0]
    return 'WITHOUT ROWID' in sql.upper()


def primary_key(conn, table):
    info = conn.execute(f'PRAGMA table_info("{table}")').fetchall()
    return [row[1] for row in sorted(info, key=lambda r: r[5]) if row[5] > 0]


def read_table(path, table):
    """All rows, with the rowid alongside for rowid tables (as `__rowid`)."""
    with sqlite3.connect(path) as conn:
        if is_without_rowid(conn, table):
            return pd.read_sql(f'SELECT * FROM "{table}"', conn)
        return pd.read_sql(f'SELECT rowid AS __rowid, * FROM "{table}"', conn)


def added_rows(path, table, before):
    """The rows that are in the table now but were not in `before`.

    Rowid tables: rowid above the old maximum. WITHOUT ROWID tables have no
    rowid, so the rows whose primary key was not there before.
    """
    after = read_table(path, table)
    if '__rowid' in after.columns:
        old_max = before['__rowid'].max() if len(before) else 0
        return after[after['__rowid'] > old_max].drop(columns='__rowid')
    with sqlite3.connect(path) as conn:
        key = primary_key(conn, table)
    old_keys = set(map(tuple, before[key].itertuples(index=False)))
    fresh = [tuple(k) not in old_keys for k in after[key].itertuples(index=False)]
    return after[fresh]


# --- normalising frames -----------------------------------------------------------


def normalise(frame, columns):
    """Put real and synthetic rows into the same dtypes before scoring.

    SQLite is loosely typed: a category stored as INTEGER comes back as int64,
    or float64 once there is a NULL, and a generator could store a number as
    text. Scoring must compare values, not storage classes, so numbers become
    floats and categories become strings (NULL stays missing).
    """
    out = pd.DataFrame(index=frame.index)
    for name, meta in columns.items():
        values = frame[name]
        if meta['sdtype'] == 'numerical':
            out[name] = pd.to_numeric(values, errors='coerce').astype(float)
        elif meta['sdtype'] == 'categorical':
            out[name] = values.map(category_label).astype(object)
        else:
            out[name] = values.astype(object).where(values.notna(), np.nan)
    return out.reset_index(drop=True)


def category_label(value):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return np.nan
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def row_key(values):
    """A hashable row for the copy check; floats compared to 9 significant digits."""
    key = []
    for v in values:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            key.append(None)
        elif isinstance(v, (float, np.floating)):
            key.append(float(f'{v:.9g}'))
        else:
            key.append(str(v))
    return tuple(key)


def new_row_rate(real, synthetic, columns):
    """Share of synthetic rows (over `columns`) equal to no real row."""
    if len(synthetic) == 0 or not columns:
        return float('nan')
    seen = {row_key(r) for r in real[columns].itertuples(index=False)}
    fresh = sum(row_key(r) not in seen for r in synthetic[columns].itertuples(index=False))
    return fresh / len(synthetic)


# --- free text --------------------------------------------------------------------


def char_shape(value):
    """Character classes with runs collapsed: 'Let There Be Rock' -> 'Aa Aa Aa Aa',
    "(I Can't Get No) Satisfaction" -> "(A Aa'a Aa Aa) Aa", 'Part 12' -> 'Aa 9'.
    Upper-case letters are A, other letters a, digits 9, any space one space;
    punctuation stays itself."""
    out = []
    for ch in value:
        c = ('A' if ch.isupper() else 'a' if ch.isalpha() else '9' if ch.isdigit()
             else ' ' if ch.isspace() else ch)
        if not out or out[-1] != c:
            out.append(c)
    return ''.join(out)


def tv_complement(real, synthetic):
    """1 - total variation distance between two samples' distributions."""
    if not real or not synthetic:
        return float('nan')
    p, q = Counter(real), Counter(synthetic)
    tv = 0.5 * sum(abs(p[k] / len(real) - q[k] / len(synthetic)) for k in set(p) | set(q))
    return max(0.0, 1 - tv)  # not -0.0 from rounding


def free_text_scores(real, synthetic, columns):
    """Per identity-text column: the share of synthetic values equal to a real
    value of that column (character for character), and shape agreement:
    1 - TV distance of the word-count distributions and of the char_shape
    distributions. The table's numbers are the means over its columns."""
    per_column = {}
    for name in columns:
        r = [str(v) for v in real[name].dropna()]
        s = [str(v) for v in synthetic[name].dropna()]
        seen = set(r)
        per_column[name] = {
            'copied': sum(v in seen for v in s) / len(s) if s else float('nan'),
            'words': tv_complement([len(v.split()) for v in r], [len(v.split()) for v in s]),
            'shape': tv_complement([char_shape(v) for v in r], [char_shape(v) for v in s]),
        }
    means = {key: float(np.mean([c[key] for c in per_column.values()]))
             if per_column else float('nan') for key in ('copied', 'words', 'shape')}
    return {'columns': per_column, **means}


# --- the two generators ---------------------------------------------------------


def run_rowsmith(binary, db_path, table, n, workdir, seed=SEED):
    """Generate n rows on a copy of the database; return (new rows, seconds, share of
    the rows made that the realism gate or SQLite turned away on the way)."""
    copy = os.path.join(workdir, f'{table}.rowsmith.sqlite')
    shutil.copyfile(db_path, copy)
    data_dir = os.path.join(workdir, f'{table}.rowsmith-data')
    os.makedirs(data_dir, exist_ok=True)
    config = os.path.join(data_dir, 'config.toml')
    open(config, 'w').close()  # empty: built-in defaults, not the user's config
    before = read_table(copy, table)
    cmd = [binary, 'generate', copy, table, '-n', str(n), '--seed', str(seed),
           '--provider', 'offline', '--json']
    start = time.perf_counter()
    done = subprocess.run(
        cmd, capture_output=True, text=True,
        # A private data dir and config: the undo journal and settings never
        # touch the user's own files.
        env={**os.environ, 'ROWSMITH_DATA_DIR': data_dir, 'ROWSMITH_CONFIG': config},
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f'rowsmith failed ({done.returncode}): {done.stderr.strip()[-500:]}')
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    rows = added_rows(copy, table, before)
    if len(rows) != n:
        print(f'  note: rowsmith added {len(rows)} of {n} rows: {summary}', file=sys.stderr)
    turned = sum(summary.get('rejected', {}).values())
    made = summary.get('rows_added', 0) + turned
    return rows, elapsed, (turned / made if made else float('nan'))


def run_gaussian_copula(real, metadata, table, n):
    """Fit SDV's GaussianCopula on the real rows and sample n; (rows, seconds).

    SDV seeds its own sampler with a fixed number; the global seeds cover
    anything else that draws from numpy's or Python's generator.
    """
    random.seed(SEED)
    np.random.seed(SEED)
    start = time.perf_counter()
    synth = GaussianCopulaSynthesizer(metadata, enforce_min_max_values=True)
    synth.fit({table: real})
    rows = synth.sample(num_rows=n)[table]
    return rows, time.perf_counter() - start, synth


def gaussian_copula_resample(synth, table, n, seed):
    """n more rows from a fitted GaussianCopula, drawn with another seed.

    SDV has no public way to pick the sampling seed; `_set_random_state` is
    what it calls itself with its fixed default.
    """
    synth._set_random_state(seed)
    return synth.sample(num_rows=n)[table]


# --- scoring ----------------------------------------------------------------------


def quality_report(real, synthetic, metadata_dict, table, thresholds=True):
    report = QualityReport()
    if not thresholds:
        # Score every pair, as SDMetrics did before it added thresholds.
        report.real_correlation_threshold = 0
        report.real_association_threshold = 0
    report.generate({table: real}, {table: synthetic}, metadata_dict, verbose=False)
    return report


def score(real, synthetic, metadata_dict, table, columns):
    # The headline: the report as the pinned SDMetrics computes it by default.
    # Its Column Pair Trends averages only the pairs that are related in the
    # real data (|correlation| > 0.5, or association > 0.3); the others get no
    # score.
    report = quality_report(real, synthetic, metadata_dict, table)
    props = dict(report.get_properties()[['Property', 'Score']].values)
    counted = report.get_details('Column Pair Trends').dropna(subset=['Score'])
    counted = set(zip(counted['Column 1'], counted['Column 2']))
    # The same report over every pair: shows whether unrelated columns are
    # kept unrelated, and gives a score for every pair to look at.
    every = quality_report(real, synthetic, metadata_dict, table, thresholds=False)
    pairs = every.get_details('Column Pair Trends')
    pairs['Counted'] = [(a, b) in counted for a, b in zip(pairs['Column 1'], pairs['Column 2'])]
    keyless = [c for c, m in columns.items() if m['sdtype'] != 'id']
    scored = [c for c, m in columns.items() if m['sdtype'] in SCORED_SDTYPES]
    return {
        'quality': report.get_score(),
        'shapes': props.get('Column Shapes', float('nan')),
        'pairs': props.get('Column Pair Trends', float('nan')),
        'quality_all': every.get_score(),
        'pairs_all': pairs['Score'].mean() if len(pairs) else float('nan'),
        'new_rows': new_row_rate(real, synthetic, keyless),
        'new_rows_scored': new_row_rate(real, synthetic, scored),
        'shape_details': report.get_details('Column Shapes'),
        'pair_details': pairs,
        'text': free_text_scores(real, synthetic, identity_columns(columns)),
    }


def evaluate(spec, db_path, binary, workdir, generators, dump=None, seeds=1):
    real_raw = read_table(db_path, spec.name)
    real_raw = real_raw.drop(columns='__rowid', errors='ignore')
    missing = set(spec.columns) ^ set(real_raw.columns)
    if missing:
        raise RuntimeError(f'columns differ from the description: {sorted(missing)}')
    spec.rows = n = len(real_raw)
    real = normalise(real_raw, spec.columns)
    if dump:
        real.to_csv(os.path.join(dump, f'{spec.name}.real.csv'), index=False)

    metadata = Metadata.load_from_dict({
        'tables': {spec.name: {'columns': sdv_columns(spec.columns)}},
        'relationships': [],
        'METADATA_SPEC_VERSION': 'V1',
    })
    metadata_dict = metadata.to_dict()

    for gen in generators:
        try:
            if gen == 'rowsmith':
                rows, secs, turned = run_rowsmith(binary, db_path, spec.name, n, workdir)
            else:
                rows, secs, fitted = run_gaussian_copula(real, metadata, spec.name, n)
                turned = None
            synthetic = normalise(rows, spec.columns)
            if dump:
                synthetic.to_csv(os.path.join(dump, f'{spec.name}.{gen}.csv'), index=False)
            result = score(real, synthetic, metadata_dict, spec.name, spec.columns)
            result['seconds'] = secs
            result['rows'] = len(synthetic)
            result['turned_away'] = turned
            # Small tables make the score depend on the draw: with --seeds K,
            # score seeds 1..K too (the headline stays seed 1).
            if seeds > 1:
                result['by_seed'] = []
                for seed in range(1, seeds + 1):
                    if gen == 'rowsmith':
                        rows = run_rowsmith(binary, db_path, spec.name, n, workdir, seed)[0]
                    else:
                        rows = gaussian_copula_resample(fitted, spec.name, n, seed)
                    again = score(real, normalise(rows, spec.columns), metadata_dict,
                                  spec.name, spec.columns)
                    result['by_seed'].append(again['quality'])
        except Exception as exc:  # one failing table must not hide the others
            result = {'error': f'{type(exc).__name__}: {exc}'}
        spec.results[gen] = result


# --- reporting --------------------------------------------------------------------


def pct(x):
    return '—' if x is None or (isinstance(x, float) and math.isnan(x)) else f'{100 * x:.1f}'


def summary_table(tables, generators):
    names = {'rowsmith': 'rowsmith offline', 'gaussian_copula': 'GaussianCopula'}
    head = ['table', 'rows']
    for g in generators:
        head += [f'{names[g]}: quality', 'shapes', 'pair trends', 'new rows', 'time (s)']
    if set(generators) == {'rowsmith', 'gaussian_copula'}:
        head.append('rowsmith − GC (points)')
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for t in tables:
        cells = [f'`{t.name}`', str(t.rows)]
        for g in generators:
            r = t.results.get(g, {})
            if 'error' in r:
                cells += ['error', '', '', '', '']
                continue
            cells += [pct(r['quality']), pct(r['shapes']), pct(r['pairs']),
                      pct(r['new_rows']), f"{r['seconds']:.2f}"]
        if len(cells) < len(head):
            rs, gc = t.results['rowsmith'], t.results['gaussian_copula']
            if 'error' in rs or 'error' in gc:
                cells.append('—')
            else:
                delta = 100 * (rs['quality'] - gc['quality'])
                # A near tie gets a third decimal, so its sign is visible.
                shown = f'{delta:+.3f}' if abs(delta) < 0.01 else f'{delta:+.2f}'
                # Bold marks a miss of the target (rowsmith at least GC's score).
                cells.append(shown if delta >= 0 else f'**{shown}**')
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def text_table(tables, generators):
    """Identity-text columns: copied share and shape agreement, per table."""
    head = ['table', 'identity-text columns']
    for g in generators:
        name = 'rowsmith' if g == 'rowsmith' else 'GaussianCopula'
        head += [f'{name}: copied', 'word-count agreement', 'shape agreement']
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for t in tables:
        names = identity_columns(t.columns)
        if not names:
            continue
        cells = [f'`{t.name}`', ', '.join(f'`{n}`' for n in names)]
        for g in generators:
            r = t.results.get(g, {})
            if 'error' in r:
                cells += ['error', '', '']
                continue
            cells += [pct(r['text']['copied']), pct(r['text']['words']),
                      pct(r['text']['shape'])]
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def extra_table(tables, generators):
    """Numbers that are not in the headline but explain it."""
    head = ['table']
    for g in generators:
        head += [f'{g}: quality (all pairs)', 'pair trends (all pairs)',
                 'new rows (scored cols)', 'rows made', 'turned away']
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for t in tables:
        cells = [f'`{t.name}`']
        for g in generators:
            r = t.results.get(g, {})
            if 'error' in r:
                cells += ['error', '', '', '', '']
                continue
            cells += [pct(r['quality_all']), pct(r['pairs_all']),
                      pct(r['new_rows_scored']), str(r['rows']), pct(r.get('turned_away'))]
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def weakest(tables, generators, k=5):
    """The lowest-scoring columns and pairs per table, to see what goes wrong."""
    out = []
    for t in tables:
        out.append(f'### `{t.name}`\n')
        for g in generators:
            r = t.results.get(g, {})
            if 'error' in r:
                out.append(f'- {g}: error: {r["error"]}\n')
                continue
            shapes = r['shape_details'].sort_values('Score').head(k)
            shape_txt = ', '.join(
                f"{row['Column']} {pct(row['Score'])} ({row['Metric']})"
                for _, row in shapes.iterrows())
            pairs = r['pair_details'].dropna(subset=['Score']).sort_values('Score').head(k)
            pair_txt = ', '.join(
                f"{row['Column 1']}×{row['Column 2']} {pct(row['Score'])}"
                + ('' if row['Counted'] else ' (not counted)')
                for _, row in pairs.iterrows())
            out.append(f'- {g}: columns: {shape_txt or "none"}\n'
                       f'  - pairs: {pair_txt or "none"}\n')
        out.append('\n')
    return ''.join(out)


def seed_table(tables, generators):
    """Quality over seeds 1..K: mean, min and max, and the paired wins."""
    head = ['table']
    for g in generators:
        head += [f'{g}: mean', 'min', 'max']
    both = set(generators) == {'rowsmith', 'gaussian_copula'}
    if both:
        head.append('seeds where rowsmith ≥ GC')
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for t in tables:
        cells = [f'`{t.name}`']
        runs = {g: t.results.get(g, {}).get('by_seed') for g in generators}
        for g in generators:
            q = runs[g]
            cells += [pct(np.mean(q)), pct(min(q)), pct(max(q))] if q else ['—', '', '']
        if both:
            rs, gc = runs['rowsmith'], runs['gaussian_copula']
            wins = sum(a >= b for a, b in zip(rs, gc)) if rs and gc else None
            cells.append(f'{wins} of {len(rs)}' if wins is not None else '—')
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def errors(tables):
    return [f'- `{t.name}` {g}: {r["error"]}'
            for t in tables for g, r in t.results.items() if 'error' in r]


def render(tables, generators, meta):
    parts = [
        '# Fidelity results\n',
        'Scores in percent (SDMetrics Quality Report; higher is better). '
        'Made by `benches/fidelity/run.sh`; see README.md for what is measured.\n',
        meta + '\n',
        summary_table(tables, generators) + '\n',
        '## Free text\n',
        'Identity-text columns (titles, names of things: values that mostly differ from '
        'row to row). `copied`: share of synthetic values equal, character for character, '
        'to a real value of the same column (target 0). `word-count agreement` and '
        '`shape agreement`: 1 − total-variation distance between the real and synthetic '
        'distributions of the number of words and of the character-class shape (runs of '
        'upper-case A, lower-case a, digits 9, punctuation as is: "Let There Be Rock" → '
        '"Aa Aa Aa Aa"). Means over the table\'s identity-text columns.\n',
        text_table(tables, generators) + '\n',
        '## More numbers\n',
        '`all pairs`: the same report with its real-correlation and real-association '
        'thresholds set to 0, so every pair of scored columns counts, also the weakly '
        'related ones the default leaves out. `new rows (scored cols)`: the new-row '
        'check over the scored columns only (no names, emails, free text). '
        '`rows made`: synthetic rows read back. `turned away`: the share of the rows '
        'rowsmith made that its realism gate (or SQLite) rejected and made again: the '
        'gate should agree with rowsmith\'s own generator (target: near 0).\n',
        extra_table(tables, generators) + '\n',
    ]
    if any('by_seed' in r for t in tables for r in t.results.values()):
        k = max(len(r['by_seed']) for t in tables for r in t.results.values() if 'by_seed' in r)
        parts += [
            f'## Quality over seeds 1..{k}\n',
            'rowsmith: `--seed 1..k`; GaussianCopula: the same fitted model sampled '
            'with random states 1..k. The headline above is rowsmith\'s seed 1 and '
            'GaussianCopula\'s own fixed default state.\n',
            seed_table(tables, generators) + '\n',
        ]
    parts += [
        '## Weakest columns and pairs\n',
        weakest(tables, generators),
    ]
    errs = errors(tables)
    if errs:
        parts += ['## Errors\n', '\n'.join(errs) + '\n']
    return '\n'.join(parts)


# --- main -------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--binary', required=True, help='the rowsmith binary')
    ap.add_argument('--out', help='write the markdown results here')
    ap.add_argument('--tables', help='comma-separated subset of tables')
    ap.add_argument('--only', choices=['rowsmith', 'gaussian_copula'],
                    help='run one generator only')
    ap.add_argument('--seeds', type=int, default=1, metavar='K',
                    help='also score seeds 1..K and report the spread')
    ap.add_argument('--dump', metavar='DIR',
                    help='also write the real and synthetic rows as CSV files here')
    args = ap.parse_args()

    import sdmetrics
    import sdv

    tables = TABLES
    if args.tables:
        wanted = args.tables.split(',')
        tables = [t for t in TABLES if t.name in wanted]
    generators = [args.only] if args.only else ['rowsmith', 'gaussian_copula']

    if args.dump:
        os.makedirs(args.dump, exist_ok=True)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix='rowsmith-fidelity-') as workdir:
        dbs = {'demo': make_demo_db(args.binary, workdir), 'public': make_public_db(workdir),
               'fixture': make_fixture_db(workdir)}
        for spec in tables:
            print(f'{spec.name}: ', end='', flush=True)
            evaluate(spec, dbs[spec.source], args.binary, workdir, generators,
                     args.dump, args.seeds)
            print(', '.join(
                f"{g} {pct(r.get('quality'))}" if 'error' not in r else f'{g} ERROR'
                for g, r in spec.results.items()), flush=True)
    elapsed = time.perf_counter() - start

    meta = (f'sdmetrics {sdmetrics.__version__}, sdv {sdv.__version__}, '
            f'seed {SEED}, scoring run {elapsed:.1f} s.')
    text_out = render(tables, generators, meta)
    print()
    print(summary_table(tables, generators))
    print()
    print(text_table(tables, generators))
    for line in errors(tables):
        print(line)
    if args.out:
        with open(args.out, 'w') as f:
            f.write(text_out)
        print(f'\nwritten: {args.out}')
    return 1 if errors(tables) else 0


if __name__ == '__main__':
    sys.exit(main())
