"""Whole-database generation: rowsmith `generate --all` against SDV's HMA.

For each dataset (the demo database and the public Chinook database) we make a
second copy of every table:

* rowsmith: `rowsmith generate <copy> --all --scale 2 --seed 1 --provider
  offline --json` on a copy of the database; its rows are the rows whose key
  (rowid, or primary key for WITHOUT ROWID tables) was not there before;
* the same with `--gate constraints` (SQLite alone judges the rows);
* SDV's HMASynthesizer, fitted on the same real tables with the same metadata
  (on Chinook: 9 of the 11 tables, see README.md), sampled with scale 1.0.

Both are scored with the same code: referential integrity, SDMetrics'
multi-table Quality Report, and the share of parent–child dependencies
(discovered in the real data, see dependencies.py) that the synthetic rows
keep. The time of `--scale 10` on the demo database is measured too.

Run it through run.sh, which prepares the virtual environment and the binary.
"""

import argparse
import json
import math
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

# SDV, SDMetrics and RDT talk a lot (deprecations, "we recommend" notes); the
# numbers are what matters here.
warnings.filterwarnings('ignore')

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chinook  # noqa: E402
import dependencies as deps  # noqa: E402
from sdmetrics.reports import QualityReport  # noqa: E402
from sdv.metadata import Metadata  # noqa: E402
from sdv.multi_table import HMASynthesizer  # noqa: E402

SEED = 1
SCALE = 2
TIMED_SCALE = 10
TIMED_RUNS = 5
DATE = '%Y-%m-%d'
DATETIME = '%Y-%m-%d %H:%M:%S'
PROPERTIES = ['Column Shapes', 'Column Pair Trends', 'Cardinality', 'Intertable Trends']


# --- column descriptions (SDV metadata; the same for SDV and SDMetrics) -------------


def col(sdtype, **extra):
    return {'sdtype': sdtype, **extra}


def id_col():
    return col('id')


def pii(sdtype):
    """Personal data: SDV fakes it, SDMetrics does not score it."""
    return col(sdtype, pii=True)


def text():
    """Free text (names of things, titles): neither faked nor scored."""
    return col('unknown', pii=True)


DEMO_COLUMNS = {
    'customers': {
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
    },
    'products': {
        'id': id_col(),
        'sku': id_col(),
        'name': text(),
        'category': col('categorical'),
        'price': col('numerical'),
        'stock': col('numerical'),
        'weight_kg': col('numerical'),
        'discontinued': col('categorical'),
    },
    'orders': {
        'id': id_col(),
        'order_number': id_col(),
        'customer_id': id_col(),
        'status': col('categorical'),
        'ordered_at': col('datetime', datetime_format=DATETIME),
        'shipped_at': col('datetime', datetime_format=DATETIME),
        'total': col('numerical'),
        'notes': text(),
    },
    'order_items': {
        'order_id': id_col(),
        'product_id': id_col(),
        'quantity': col('numerical'),
        'unit_price': col('numerical'),
        'line_total': col('numerical'),
    },
}


def names(*cols):
    return {c: text() for c in cols}


def address(prefix=''):
    return {
        f'{prefix}Address': pii('street_address'),
        f'{prefix}City': col('categorical'),
        f'{prefix}State': col('categorical'),
        f'{prefix}Country': col('categorical'),
        f'{prefix}PostalCode': pii('postcode'),
    }


CHINOOK_COLUMNS = {
    'Artist': {'ArtistId': id_col(), **names('Name')},
    'Album': {'AlbumId': id_col(), **names('Title'), 'ArtistId': id_col()},
    'Employee': {
        'EmployeeId': id_col(),
        'LastName': pii('last_name'),
        'FirstName': pii('first_name'),
        'Title': col('categorical'),
        'ReportsTo': id_col(),
        'BirthDate': col('datetime', datetime_format=DATETIME),
        'HireDate': col('datetime', datetime_format=DATETIME),
        **address(),
        'Phone': pii('phone_number'),
        'Fax': pii('phone_number'),
        'Email': pii('email'),
    },
    'Customer': {
        'CustomerId': id_col(),
        'FirstName': pii('first_name'),
        'LastName': pii('last_name'),
        'Company': text(),
        **address(),
        'Phone': pii('phone_number'),
        'Fax': pii('phone_number'),
        'Email': pii('email'),
        'SupportRepId': id_col(),
    },
    'Genre': {'GenreId': id_col(), **names('Name')},
    'MediaType': {'MediaTypeId': id_col(), **names('Name')},
    'Playlist': {'PlaylistId': id_col(), **names('Name')},
    'Track': {
        'TrackId': id_col(),
        **names('Name'),
        'AlbumId': id_col(),
        'MediaTypeId': id_col(),
        'GenreId': id_col(),
        **names('Composer'),
        'Milliseconds': col('numerical'),
        'Bytes': col('numerical'),
        'UnitPrice': col('numerical'),
    },
    'Invoice': {
        'InvoiceId': id_col(),
        'CustomerId': id_col(),
        'InvoiceDate': col('datetime', datetime_format=DATETIME),
        **address('Billing'),
        'Total': col('numerical'),
    },
    'InvoiceLine': {
        'InvoiceLineId': id_col(),
        'InvoiceId': id_col(),
        'TrackId': id_col(),
        'UnitPrice': col('numerical'),
        'Quantity': col('numerical'),
    },
    'PlaylistTrack': {'PlaylistId': id_col(), 'TrackId': id_col()},
}


@dataclass
class Dataset:
    name: str
    columns: dict  # table -> column -> SDV column metadata
    note: str = ''
    # Tables left out of the comparison with HMA (and their foreign keys):
    # SDV cannot model them in reasonable time (see README.md).
    leave_out: list = field(default_factory=list)
    path: str = ''
    schema: 'Schema' = None
    real_raw: dict = field(default_factory=dict)  # as read from SQLite
    real: dict = field(default_factory=dict)  # normalised for scoring
    found: list = field(default_factory=list)  # dependencies
    results: dict = field(default_factory=dict)  # generator -> result dict


# --- building the databases -----------------------------------------------------------


def make_demo_db(binary, workdir):
    """A fresh demo database, built by rowsmith itself in a private data dir."""
    data_dir = os.path.join(workdir, 'demo-data')
    os.makedirs(data_dir)
    out = subprocess.run([binary, 'demo', '--reset'],
                         env={**os.environ, 'ROWSMITH_DATA_DIR': data_dir},
                         check=True, capture_output=True, text=True)
    return out.stdout.strip().splitlines()[-1]


def make_chinook_db(workdir):
    path = os.path.join(workdir, 'chinook.sqlite')
    chinook.build(path)
    return path


# --- the schema, as SQLite declares it ---------------------------------------------------


@dataclass
class Schema:
    tables: list  # in the file's order
    primary_keys: dict  # table -> [columns]
    without_rowid: set
    fks: list  # [deps.ForeignKey]

    def self_references(self):
        return [fk for fk in self.fks if fk.child == fk.parent]

    def key_columns(self, table):
        """What identifies a row for the before/after diff."""
        return self.primary_keys[table] if table in self.without_rowid else ['__rowid']


def read_schema(path):
    with sqlite3.connect(path) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' "
            "AND name NOT LIKE 'sqlite_%' ORDER BY rowid")]
        pks, without, fks = {}, set(), []
        for t in tables:
            sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (t,)).fetchone()[0]
            if 'WITHOUT ROWID' in sql.upper():
                without.add(t)
            info = conn.execute(f'PRAGMA table_info("{t}")').fetchall()
            pks[t] = [r[1] for r in sorted(info, key=lambda r: r[5]) if r[5] > 0]
        for t in tables:
            groups = {}
            for r in conn.execute(f'PRAGMA foreign_key_list("{t}")').fetchall():
                groups.setdefault(r[0], []).append(r)
            for rows in groups.values():
                rows.sort(key=lambda r: r[1])
                parent = rows[0][2]
                parent_cols = [r[4] for r in rows]
                if any(c is None for c in parent_cols):
                    parent_cols = pks[parent]
                fks.append(deps.ForeignKey(t, [r[3] for r in rows], parent, parent_cols))
    return Schema(tables, pks, without, fks)


def read_tables(path, schema):
    """Every table; rowid tables carry their rowid as `__rowid`."""
    out = {}
    with sqlite3.connect(path) as conn:
        for t in schema.tables:
            if t in schema.without_rowid:
                out[t] = pd.read_sql(f'SELECT * FROM "{t}"', conn)
            else:
                out[t] = pd.read_sql(f'SELECT rowid AS __rowid, * FROM "{t}"', conn)
    return out


def keys(frame, columns):
    return list(map(tuple, frame[columns].itertuples(index=False)))


def new_rows(before, after, schema):
    """Per table: the rows whose key was not there before; and how many old
    rows are gone or changed (should be 0: generation only adds)."""
    added, touched = {}, {}
    for t in schema.tables:
        kc = schema.key_columns(t)
        old = set(keys(before[t], kc))
        fresh = [k not in old for k in keys(after[t], kc)]
        added[t] = after[t][fresh].reset_index(drop=True)
        kept = after[t][[not f for f in fresh]]
        a = kept.sort_values(kc).reset_index(drop=True).astype(object)
        b = before[t].sort_values(kc).reset_index(drop=True).astype(object)
        if len(a) != len(b):
            touched[t] = len(b) - len(a)
        else:
            same = (a == b) | (a.isna() & b.isna())
            touched[t] = int((~same.all(axis=1)).sum())
    return added, touched


def drop_rowid(frames):
    return {t: f.drop(columns='__rowid', errors='ignore') for t, f in frames.items()}


# --- normalising frames ------------------------------------------------------------------


def category_label(value):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return np.nan
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        value = int(value)
    return str(value)


def normalise(frame, columns):
    """Same dtypes for real and synthetic before scoring: numbers float,
    categories and keys strings (so 4, 4.0 and '4' are one value, and keys
    join across tables whatever their storage class)."""
    out = pd.DataFrame(index=frame.index)
    for name, meta in columns.items():
        v = frame[name]
        if meta['sdtype'] == 'numerical':
            out[name] = pd.to_numeric(v, errors='coerce').astype(float)
        elif meta['sdtype'] in ('categorical', 'id'):
            out[name] = v.map(category_label).astype(object)
        else:
            out[name] = v.astype(object).where(v.notna(), np.nan)
    return out.reset_index(drop=True)


def normalise_all(frames, columns):
    return {t: normalise(f, columns[t]) for t, f in frames.items()}


# --- metadata ----------------------------------------------------------------------------


def modelled_fks(dataset, leave_out=()):
    """The foreign keys SDV's metadata holds: not a table's reference to itself
    (SDV's metadata cannot hold a cycle), none to or from a left-out table."""
    return [fk for fk in dataset.schema.fks
            if fk.child != fk.parent and len(fk.columns) == 1
            and fk.child not in leave_out and fk.parent not in leave_out]


def sdv_metadata(dataset, leave_out=()):
    """SDV's metadata: every table (but the left-out ones) with its
    single-column primary key (composite keys are left out: SDV has none), its
    columns less the foreign keys into left-out tables, and the foreign keys of
    `modelled_fks`."""
    schema = dataset.schema
    tables = {}
    for t in schema.tables:
        if t in leave_out:
            continue
        dangling = {c for fk in schema.fks if fk.child == t and fk.parent in leave_out
                    for c in fk.columns}
        entry = {'columns': {c: m for c, m in dataset.columns[t].items() if c not in dangling}}
        pk = schema.primary_keys[t]
        if len(pk) == 1:
            entry['primary_key'] = pk[0]
        tables[t] = entry
    relationships = [
        {'parent_table_name': fk.parent, 'parent_primary_key': fk.parent_columns[0],
         'child_table_name': fk.child, 'child_foreign_key': fk.columns[0]}
        for fk in modelled_fks(dataset, leave_out)
    ]
    return {'tables': tables, 'relationships': relationships, 'METADATA_SPEC_VERSION': 'V1'}


def restrict(frames, metadata_dict):
    """The tables and columns of `metadata_dict` only."""
    return {t: frames[t][list(m['columns'])] for t, m in metadata_dict['tables'].items()}


# --- the generators ------------------------------------------------------------------------


@dataclass
class Run:
    new: dict  # table -> new rows (raw)
    lookup: dict  # table -> every row the new rows can refer to (raw)
    seconds: float
    fk_check: int = None  # PRAGMA foreign_key_check rows (SQLite copies only)
    touched: dict = field(default_factory=dict)
    summary: object = None
    note: str = ''


def private_env(workdir, tag):
    data_dir = os.path.join(workdir, f'{tag}-data')
    os.makedirs(data_dir, exist_ok=True)
    config = os.path.join(data_dir, 'config.toml')
    open(config, 'w').close()  # empty: built-in defaults, not the user's config
    return {**os.environ, 'ROWSMITH_DATA_DIR': data_dir, 'ROWSMITH_CONFIG': config}


def rowsmith_command(binary, db, scale, seed=SEED, extra=()):
    return [binary, 'generate', db, '--all', '--scale', str(scale), '--seed', str(seed),
            '--provider', 'offline', '--json', *extra]


# rowsmith's exit status when a table got fewer rows than planned: the rows
# it did add are written, and are scored.
SHORTFALL_EXIT = 3


def fk_check(path):
    with sqlite3.connect(path) as conn:
        return len(conn.execute('PRAGMA foreign_key_check').fetchall())


def run_rowsmith(binary, dataset, workdir, extra=()):
    tag = f'{dataset.name}.rowsmith{"".join(extra)}'
    copy = os.path.join(workdir, f'{tag}.sqlite')
    shutil.copyfile(dataset.path, copy)
    before = read_tables(copy, dataset.schema)
    cmd = rowsmith_command(binary, copy, SCALE, extra=extra)
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=private_env(workdir, tag))
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, SHORTFALL_EXIT):
        raise RuntimeError(f'rowsmith failed ({done.returncode}): {done.stderr.strip()[-800:]}')
    summary = None
    for line in reversed(done.stdout.strip().splitlines()):
        try:
            summary = json.loads(line)
            break
        except ValueError:
            continue
    after = read_tables(copy, dataset.schema)
    added, touched = new_rows(before, after, dataset.schema)
    note = ''
    if done.returncode == SHORTFALL_EXIT:
        short = [f"{t['table']} ({t.get('added')} of {t.get('requested')} rows): {t['shortfall']}"
                 for t in (summary or {}).get('tables', []) if t.get('shortfall')]
        note = (f'exit status {SHORTFALL_EXIT} (fewer rows than planned); '
                + ('; '.join(short) or done.stderr.strip()[-800:]))
    return Run(drop_rowid(added), drop_rowid(after), elapsed, fk_check(copy), touched, summary,
               note)


def run_copy(dataset, workdir):
    """Stand-in generator for testing the pipeline without rowsmith: writes a
    copy of every real row back into a copy of the database, with the keys
    moved past the old ones (and the foreign keys moved with them) and unique
    text suffixed. Every score should come out at (about) 100%."""
    copy = os.path.join(workdir, f'{dataset.name}.copy.sqlite')
    shutil.copyfile(dataset.path, copy)
    schema = dataset.schema
    before = read_tables(copy, schema)
    start = time.perf_counter()
    offsets = {t: int(before[t]['__rowid'].max()) for t in schema.tables
               if t not in schema.without_rowid and len(before[t])}
    with sqlite3.connect(copy) as conn:
        unique = {}
        for t in schema.tables:
            for idx in conn.execute(f'PRAGMA index_list("{t}")').fetchall():
                if idx[2] and idx[3] == 'u':
                    unique.setdefault(t, set()).update(
                        r[2] for r in conn.execute(f'PRAGMA index_info("{idx[1]}")'))
        for t in schema.tables:
            frame = before[t].copy()
            pk = schema.primary_keys[t]
            if t not in schema.without_rowid:
                frame['__rowid'] += offsets[t]
                if len(pk) == 1 and pk[0] in frame.columns:
                    frame[pk[0]] = frame['__rowid']
            for fk in schema.fks:
                if fk.child == t:
                    for c in fk.columns:
                        frame[c] = frame[c] + offsets.get(fk.parent, 0)
            for c in unique.get(t, ()):
                frame[c] = frame[c].astype(str) + '~2'
            cols = [c for c in frame.columns if c != '__rowid']
            rows = frame[cols].astype(object).where(frame[cols].notna(), None)
            if t in schema.without_rowid:
                conn.executemany(
                    f'INSERT INTO "{t}" ({", ".join(cols)}) VALUES ({", ".join("?" * len(cols))})',
                    rows.values.tolist())
            else:
                conn.executemany(
                    f'INSERT INTO "{t}" (rowid, {", ".join(cols)}) '
                    f'VALUES ({", ".join("?" * (len(cols) + 1))})',
                    [[r] + v for r, v in zip(frame['__rowid'].tolist(), rows.values.tolist())])
    elapsed = time.perf_counter() - start
    after = read_tables(copy, schema)
    added, touched = new_rows(before, after, schema)
    return Run(drop_rowid(added), drop_rowid(after), elapsed, fk_check(copy), touched)


def run_hma(dataset, metadata_dict):
    """Fit SDV's HMASynthesizer on the real tables and sample scale=1.0.

    SDV seeds its own samplers with fixed numbers; the global seeds cover
    anything else that draws from numpy's or Python's generator.
    """
    random.seed(SEED)
    np.random.seed(SEED)
    real = restrict(dataset.real, metadata_dict)
    start = time.perf_counter()
    synth = HMASynthesizer(Metadata.load_from_dict(metadata_dict), verbose=False)
    synth.fit(real)
    rows = synth.sample(scale=1.0)
    elapsed = time.perf_counter() - start
    return Run(rows, rows, elapsed)


# --- scoring -----------------------------------------------------------------------------


def integrity(run, dataset):
    """Per foreign key: how the synthetic child rows' keys resolve (None for a
    foreign key whose tables or column the generator did not make)."""
    out = []
    for fk in dataset.schema.fks:
        if (fk.child not in run.new or fk.parent not in run.new
                or not set(fk.columns) <= set(run.new[fk.child].columns)):
            out.append(None)
            continue
        child = run.new[fk.child]
        ck = [deps.as_text(child[c]) for c in fk.columns]
        null = pd.concat(ck, axis=1).isna().any(axis=1).to_numpy() if ck else np.array([])
        child_keys = list(zip(*ck))
        new_parent = set(zip(*[deps.as_text(run.new[fk.parent][c]) for c in fk.parent_columns]))
        all_parent = set(zip(*[deps.as_text(run.lookup[fk.parent][c])
                               for c in fk.parent_columns]))
        to_new = to_old = dangling = 0
        for k, is_null in zip(child_keys, null):
            if is_null:
                continue
            if k in new_parent:
                to_new += 1
            elif k in all_parent:
                to_old += 1
            else:
                dangling += 1
        out.append({'fk': fk, 'rows': len(child), 'null': int(null.sum()),
                    'new': to_new, 'old': to_old, 'dangling': dangling})
    return out


def quality(real, synthetic, metadata_dict):
    report = QualityReport()
    report.generate(real, synthetic, metadata_dict, verbose=False)
    props = dict(report.get_properties()[['Property', 'Score']].values)
    return {
        'score': report.get_score(),
        'properties': {p: props.get(p, float('nan')) for p in PROPERTIES},
        'cardinality': report.get_details('Cardinality'),
        'intertable': report.get_details('Intertable Trends'),
        'shapes': report.get_details('Column Shapes'),
    }


def check_dependencies(run, dataset):
    out = []
    for d in dataset.found:
        tables = (d.fk.child, d.fk.parent)
        if not all(t in run.new for t in tables) or not set(
                d.fk.columns + d.child_columns) <= set(run.new[d.fk.child].columns):
            out.append(None)  # not made by this generator
            continue
        kinds = deps.column_kinds(dataset.columns[d.fk.child])
        kept, total = deps.check(d, run.new[d.fk.child], run.lookup[d.fk.parent],
                                 run.new[d.fk.parent], run.lookup[d.fk.child], kinds)
        out.append((kept, total))
    return out


def evaluate(dataset, generator, binary, workdir):
    """One generator on one dataset. The quality report covers the tables
    compared with HMA (all but `leave_out`), the same for every generator; a
    generator that made every table is also scored on all of them."""
    compared = sdv_metadata(dataset, dataset.leave_out)
    if generator == 'rowsmith':
        run = run_rowsmith(binary, dataset, workdir)
    elif generator == 'rowsmith-constraints':
        run = run_rowsmith(binary, dataset, workdir, extra=('--gate', 'constraints'))
    elif generator == 'copy':
        run = run_copy(dataset, workdir)
    else:
        run = run_hma(dataset, compared)
    made = [t for t in dataset.schema.tables if t in run.new]
    synthetic = {t: normalise(run.new[t], {c: m for c, m in dataset.columns[t].items()
                                           if c in run.new[t].columns}) for t in made}
    result = {
        'run': run,
        'rows': {t: len(run.new[t]) for t in made},
        'integrity': integrity(run, dataset),
        'quality': quality(restrict(dataset.real, compared), restrict(synthetic, compared),
                           compared),
        'dependencies': check_dependencies(run, dataset),
    }
    if dataset.leave_out and len(made) == len(dataset.schema.tables):
        full = sdv_metadata(dataset)
        result['quality_all'] = quality(dataset.real, synthetic, full)
    return result


def time_scale(binary, demo_path, workdir, scale=TIMED_SCALE, runs=TIMED_RUNS):
    """Wall time of `generate --all --scale 10` on fresh copies of the demo."""
    schema = read_schema(demo_path)
    with sqlite3.connect(demo_path) as conn:
        before = {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]
                  for t in schema.tables}
    times, after, notes = [], {}, []
    for i in range(runs):
        copy = os.path.join(workdir, f'scale{scale}-{i}.sqlite')
        shutil.copyfile(demo_path, copy)
        cmd = rowsmith_command(binary, copy, scale)
        env = private_env(workdir, f'scale{scale}-{i}')
        start = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True, env=env)
        times.append(time.perf_counter() - start)
        if done.returncode not in (0, SHORTFALL_EXIT):
            raise RuntimeError(f'rowsmith --scale {scale} failed ({done.returncode}): '
                               f'{done.stderr.strip()[-800:]}')
        if done.returncode == SHORTFALL_EXIT:
            notes.append(f'run {i + 1}: exit status {SHORTFALL_EXIT}: {done.stderr.strip()[-400:]}')
        with sqlite3.connect(copy) as conn:
            after = {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]
                     for t in schema.tables}
            problems = len(conn.execute('PRAGMA foreign_key_check').fetchall())
        os.remove(copy)
    return {'times': times, 'median': statistics.median(times), 'before': before,
            'after': after, 'fk_check': problems, 'scale': scale, 'notes': notes}


# --- reporting ----------------------------------------------------------------------------


NAMES = {'rowsmith': 'rowsmith', 'rowsmith-constraints': 'rowsmith, `--gate constraints`',
         'hma': 'HMA', 'copy': 'copy (stand-in)'}


def pct(x):
    return '—' if x is None or (isinstance(x, float) and math.isnan(x)) else f'{100 * x:.1f}'


def share(kept, total):
    return kept / total if total else float('nan')


def integrity_totals(rows):
    rows = [r for r in rows if r is not None]
    set_ = sum(r['new'] + r['old'] + r['dangling'] for r in rows)
    return {
        'resolved': share(sum(r['new'] + r['old'] for r in rows), set_),
        'self_contained': share(sum(r['new'] for r in rows), set_),
        'old': sum(r['old'] for r in rows),
        'dangling': sum(r['dangling'] for r in rows),
        'set': set_,
    }


def deps_total(checks):
    """Mean over dependencies of the share kept (each rule weighs the same)."""
    shares = [share(k, n) for k, n in filter(None, checks) if n]
    return float(np.mean(shares)) if shares else float('nan'), len(shares)


def headline_table(datasets, generators):
    head = ['dataset', 'generator', 'tables scored', 'rows made', 'integrity', 'self-contained',
            'quality', *[p.lower() for p in PROPERTIES], 'dependencies kept', 'time (s)']
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for ds in datasets:
        n_all = len(ds.schema.tables)
        n_compared = n_all - len(ds.leave_out)
        for g in generators:
            r = ds.results.get(g)
            if r is None:
                continue
            if 'error' in r:
                lines.append(f'| {ds.name} | {NAMES[g]} | error |' + ' |' * (len(head) - 3))
                continue
            it = integrity_totals(r['integrity'])
            kept, n = deps_total(r['dependencies'])
            reports = [(n_compared, r['quality'])]
            if 'quality_all' in r:
                reports.append((n_all, r['quality_all']))
            for i, (tables, q) in enumerate(reports):
                first = i == 0
                cells = [ds.name, NAMES[g], f'{tables} of {n_all}',
                         str(sum(r['rows'].values())) if first else '″',
                         pct(it['resolved']) if first else '″',
                         pct(it['self_contained']) if first else '″', pct(q['score']),
                         *[pct(q['properties'][p]) for p in PROPERTIES],
                         f'{pct(kept)} ({n})' if first else '″',
                         f"{r['run'].seconds:.1f}" if first else '″']
                lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def rows_table(ds, generators):
    head = ['table', 'real rows'] + [f'{NAMES[g]} rows' for g in generators]
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for t in ds.schema.tables:
        cells = [f'`{t}`', str(len(ds.real[t]))]
        for g in generators:
            r = ds.results.get(g, {})
            cells.append(str(r['rows'][t]) if t in r.get('rows', {}) else '—')
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def integrity_table(ds, generators):
    head = ['foreign key'] + [x for g in generators
                              for x in (f'{NAMES[g]}: rows', 'NULL', '→ new', '→ old', 'dangling')]
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for i, fk in enumerate(ds.schema.fks):
        cells = [f'`{fk.label()}`']
        for g in generators:
            r = ds.results.get(g, {})
            if 'integrity' not in r:
                cells += ['—'] * 5
                continue
            x = r['integrity'][i]
            if x is None:
                cells += ['not made'] + [''] * 4
                continue
            cells += [str(x['rows']), str(x['null']), str(x['new']), str(x['old']),
                      str(x['dangling'])]
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def cardinality_table(ds, generators):
    rels = [(fk.parent, fk.child) for fk in ds.schema.fks if fk.child != fk.parent]
    head = ['parent → child'] + [NAMES[g] for g in generators]
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for p, c in rels:
        cells = [f'`{p}` → `{c}`']
        for g in generators:
            r = ds.results.get(g, {})
            if 'quality' not in r:
                cells.append('—')
                continue
            d = r.get('quality_all', r['quality'])['cardinality']
            row = d[(d['Parent Table'] == p) & (d['Child Table'] == c)]
            cells.append(pct(row['Score'].iloc[0]) if len(row) else 'not made')
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def intertable_table(ds, generators, k=5):
    out = []
    for g in generators:
        r = ds.results.get(g, {})
        if 'quality' not in r:
            continue
        d = r['quality']['intertable']
        if d is None or len(d) == 0:
            out.append(f'- {NAMES[g]}: no pairs\n')
            continue
        scored = d.dropna(subset=['Score'])
        worst = scored.sort_values('Score').head(k)
        txt = ', '.join(f"{row['Parent Table']}.{row['Column 1']}×{row['Child Table']}."
                        f"{row['Column 2']} {pct(row['Score'])}" for _, row in worst.iterrows())
        out.append(f'- {NAMES[g]}: {len(scored)} pairs scored; weakest: {txt or "none"}\n')
    return ''.join(out)


def dependency_table(ds, generators):
    head = ['dependency', 'kind', 'real', 'random pairing'] + [NAMES[g] for g in generators]
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for i, d in enumerate(ds.found):
        cells = [f'`{d.label()}`', d.kind, f'{pct(d.real_share)} of {d.support}',
                 pct(d.baseline)]
        for g in generators:
            r = ds.results.get(g, {})
            if 'dependencies' not in r:
                cells.append('—')
                continue
            if r['dependencies'][i] is None:
                cells.append('not made')
                continue
            kept, n = r['dependencies'][i]
            cells.append(f'{pct(share(kept, n))} ({kept}/{n})')
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def scale_section(timing):
    if not timing:
        return ''
    if 'error' in timing:
        return f'## `--scale {TIMED_SCALE}` on the demo\n\nerror: {timing["error"]}\n'
    times = ', '.join(f'{t:.2f}' for t in sorted(timing['times']))
    grown = ', '.join(f"{t} {timing['before'][t]} → {timing['after'][t]}"
                      for t in timing['before'])
    return (f'## `--scale {timing["scale"]}` on the demo\n\n'
            f'`rowsmith generate COPY --all --scale {timing["scale"]} --seed 1 --provider '
            f'offline --json`, each run on a fresh copy of the demo database: median '
            f'**{timing["median"]:.2f} s** of {len(timing["times"])} runs ({times} s). '
            f'Rows: {grown}. `PRAGMA foreign_key_check` after the last run: '
            f'{timing["fk_check"]} rows.\n'
            + ''.join(f'\n- {n}' for n in timing['notes']) + ('\n' if timing['notes'] else ''))


def render(datasets, generators, timing, meta):
    parts = [
        '# Multi-table results\n',
        'Made by `benches/multitable/run.sh`; see README.md for what each number means. '
        'Scores in percent, higher is better.\n',
        meta + '\n',
        headline_table(datasets, generators) + '\n',
        scale_section(timing),
    ]
    for ds in datasets:
        parts += [f'## {ds.name}\n', ds.note + '\n' if ds.note else '',
                  '### Rows\n', rows_table(ds, generators) + '\n',
                  '### Referential integrity\n',
                  'Synthetic child rows per foreign key, by where their key points: '
                  '`→ new` a synthetic parent row, `→ old` a row that was there before '
                  '(rowsmith only), `dangling` no row at all.\n',
                  integrity_table(ds, generators) + '\n']
        for g in generators:
            r = ds.results.get(g, {})
            run = r.get('run')
            if run is None:
                continue
            extra = []
            if run.fk_check is not None:
                extra.append(f'`PRAGMA foreign_key_check` on the copy: {run.fk_check} rows')
            if run.touched:
                extra.append('old rows changed or gone: '
                             f'{sum(run.touched.values())}')
            if run.note:
                extra.append(run.note)
            if extra:
                parts.append(f'- {NAMES[g]}: ' + '; '.join(extra) + '\n')
        parts += ['\n### Quality report properties\n',
                  quality_table(ds, generators) + '\n',
                  '### Cardinality per relationship\n',
                  cardinality_table(ds, generators) + '\n',
                  '### Intertable Trends\n', intertable_table(ds, generators) + '\n',
                  '### Parent–child dependencies\n',
                  'Found in the real tables (`real`: share of real rows or parents that keep '
                  'it, of how many; `random pairing`: the same with each child paired with a '
                  'random parent). Synthetic: share kept (kept/checked).\n',
                  dependency_table(ds, generators) + '\n']
    errs = [f'- {ds.name} {g}: {r["error"]}' for ds in datasets
            for g, r in ds.results.items() if 'error' in r]
    if timing and 'error' in timing:
        errs.append(f'- scale {TIMED_SCALE}: {timing["error"]}')
    if errs:
        parts += ['## Errors\n', '\n'.join(errs) + '\n']
    return '\n'.join(p for p in parts if p)


def quality_table(ds, generators):
    head = ['generator', 'tables', 'quality', *PROPERTIES]
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    n_all = len(ds.schema.tables)
    for g in generators:
        r = ds.results.get(g, {})
        for key, tables in (('quality', n_all - len(ds.leave_out)), ('quality_all', n_all)):
            if key not in r:
                continue
            q = r[key]
            lines.append('| ' + ' | '.join([NAMES[g], f'{tables} of {n_all}', pct(q['score'])] +
                                           [pct(q['properties'][p]) for p in PROPERTIES]) + ' |')
    return '\n'.join(lines)


# --- main ---------------------------------------------------------------------------------


def load(dataset):
    dataset.schema = read_schema(dataset.path)
    raw = drop_rowid(read_tables(dataset.path, dataset.schema))
    for t, f in raw.items():
        missing = set(dataset.columns[t]) ^ set(f.columns)
        if missing:
            raise RuntimeError(f'{t}: columns differ from the description: {sorted(missing)}')
    dataset.real_raw = raw
    dataset.real = normalise_all(raw, dataset.columns)
    dataset.found = deps.discover(raw, dataset.schema.fks, dataset.columns)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--binary', help='the rowsmith binary (needed for the demo and rowsmith)')
    ap.add_argument('--out', help='write the markdown results here')
    ap.add_argument('--datasets', default='demo,chinook', help='comma-separated: demo,chinook')
    ap.add_argument('--generators', default='rowsmith,rowsmith-constraints,hma',
                    help='comma-separated: rowsmith, rowsmith-constraints (the same with '
                         '--gate constraints: SQLite alone judges the rows), hma, copy (a '
                         'stand-in that writes the real rows back with new keys: tests the '
                         'pipeline; scores ~100%%)')
    ap.add_argument('--demo-db', help='use this demo database instead of `rowsmith demo`')
    ap.add_argument('--no-timing', action='store_true', help=f'skip the --scale {TIMED_SCALE} timing')
    args = ap.parse_args()

    import sdmetrics
    import sdv

    generators = args.generators.split(',')
    wanted = args.datasets.split(',')
    start = time.perf_counter()
    timing = None
    with tempfile.TemporaryDirectory(prefix='rowsmith-multitable-') as workdir:
        datasets = []
        if 'demo' in wanted:
            path = args.demo_db or make_demo_db(args.binary, workdir)
            datasets.append(Dataset('demo', DEMO_COLUMNS, path=path,
                                    note='`rowsmith demo --reset`: the demo shop database.'))
        if 'chinook' in wanted:
            datasets.append(Dataset(
                'chinook', CHINOOK_COLUMNS, path=make_chinook_db(workdir),
                leave_out=['Employee', 'Artist'],
                note=f'Chinook, imported from `{chinook.PACKAGE}` {chinook.version()}. '
                     'Compared with HMA on 9 of its 11 tables: Employee and Artist '
                     '(and the foreign keys Customer.SupportRepId, Album.ArtistId and '
                     'Employee.ReportsTo) are left out, as HMA cannot model them in '
                     'reasonable time (README.md); rowsmith is also scored on all 11.'))
        for ds in datasets:
            load(ds)
            print(f'{ds.name}: {len(ds.schema.tables)} tables, '
                  f'{sum(len(f) for f in ds.real.values())} rows, '
                  f'{len(ds.schema.fks)} foreign keys, {len(ds.found)} dependencies', flush=True)
            for d in ds.found:
                print(f'  {d.label()} ({pct(d.real_share)} of {d.support}; '
                      f'random {pct(d.baseline)})', flush=True)
            for g in generators:
                t0 = time.perf_counter()
                try:
                    ds.results[g] = evaluate(ds, g, args.binary, workdir)
                except Exception as exc:  # one failure must not hide the rest
                    ds.results[g] = {'error': f'{type(exc).__name__}: {exc}'}
                r = ds.results[g]
                if 'error' in r:
                    print(f'  {g}: ERROR {r["error"]}', flush=True)
                else:
                    kept, n = deps_total(r['dependencies'])
                    print(f'  {g}: integrity {pct(integrity_totals(r["integrity"])["resolved"])}, '
                          f'quality {pct(r["quality"]["score"])} ' + ', '.join(
                              f'{p} {pct(r["quality"]["properties"][p])}' for p in PROPERTIES)
                          + f', dependencies {pct(kept)} ({time.perf_counter() - t0:.1f} s)',
                          flush=True)
        demo = next((d for d in datasets if d.name == 'demo'), None)
        if demo and any(g.startswith('rowsmith') for g in generators) \
                and not args.no_timing:
            print(f'timing --scale {TIMED_SCALE} on the demo ({TIMED_RUNS} runs)', flush=True)
            try:
                timing = time_scale(args.binary, demo.path, workdir)
                print(f'  median {timing["median"]:.2f} s', flush=True)
            except Exception as exc:
                timing = {'error': f'{type(exc).__name__}: {exc}'}
                print(f'  ERROR {timing["error"]}', flush=True)
    elapsed = time.perf_counter() - start

    meta = (f'sdmetrics {sdmetrics.__version__}, sdv {sdv.__version__}, '
            f'{chinook.PACKAGE} {chinook.version()}, seed {SEED}, scale {SCALE}; '
            f'whole scoring run {elapsed:.0f} s.')
    text = render(datasets, generators, timing, meta)
    print()
    print(headline_table(datasets, generators))
    if args.out:
        with open(args.out, 'w') as f:
            f.write(text)
        print(f'\nwritten: {args.out}')
    failed = any('error' in r for ds in datasets for r in ds.results.values())
    return 1 if failed or (timing and 'error' in timing) else 0


if __name__ == '__main__':
    sys.exit(main())
