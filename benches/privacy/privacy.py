"""What the `privacy` setting keeps out of model requests, and what it costs in realism.

For each table and privacy (`samples`, `mask`, `schema`) rowsmith generates rows
with a real model (SmolLM2-135M behind llama.cpp's server, `local-llm`) through
a recording proxy (proxy.py) that keeps every request body. Then:

* leak share: of the table's real identity values (the columns that identify a
  person, chosen here by hand, not by rowsmith's detection), the share that
  occurs in any recorded request body;
* realism: the generated rows against the real rows with the fidelity bench's
  own scoring (benches/fidelity/fidelity.py: SDMetrics Quality Report with the
  same metadata conventions), and the run's rows asked / landed / turned away.

Run it through run.sh, which prepares the virtual environment, the binary and
the model server. See README.md.
"""

import argparse
import json
import math
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'fidelity'))

import fidelity  # noqa: E402  (also quiets SDV's warnings)
from fidelity import DATE, col, pii, read_table, added_rows, normalise, score, pct  # noqa: E402
from sdv.metadata import Metadata  # noqa: E402

from proxy import start_proxy  # noqa: E402

SEED = 1
# Values shorter than this are skipped by the leak check: "Ann" or "Lee" would be
# found inside other text by accident.
MIN_CHARS = 4
# Environment variables rowsmith reads for its provider and settings: cleared, so
# the user's own never steer a run (see src/config/mod.rs ENV_VARS).
ROWSMITH_ENV = ['ROWSMITH_CONFIG', 'ROWSMITH_PROVIDER', 'ROWSMITH_MODEL', 'ROWSMITH_BASE_URL',
                'OPENAI_API_KEY', 'OPENAI_BASE_URL', 'ANTHROPIC_API_KEY', 'ANTHROPIC_BASE_URL',
                'ROWSMITH_BUSY_TIMEOUT_MS', 'ROWSMITH_DATA_DIR']
# What runs by default (gate:privacy). `schema` is run with the constraints gate only:
# a realism-gated run takes 10-15 minutes with the small model on 2 cores.
DEFAULT_RUNS = ['realism:samples', 'realism:mask',
                'constraints:samples', 'constraints:mask', 'constraints:schema']
# Answer-level reasons in `--json`'s `rejected` (counted per request, not per row).
ANSWER_REASONS = ('the model\'s answer',)


# --- tables -------------------------------------------------------------------------


@dataclass
class Table:
    name: str
    source: str  # 'demo' or 'public'
    columns: dict  # SDV metadata, as fidelity.py writes it
    # Identity values: name -> the columns whose values, joined by a space, make one
    # value. A single column is a value of its own; two columns are a pair, which
    # counts as present when both values sit on one line of a request (a sample row
    # is one line of JSON).
    identity: dict
    # Columns that, with an identity value, tie a request's sample row to its real
    # row: a hit in a sample row whose link columns equal the real row's is the real
    # person's value shown with their row (a leak), not a made-up value that happens
    # to equal some real one.
    link: list
    # Values that are not identity values but place a person (printed, not counted).
    quasi: dict = field(default_factory=dict)
    note: str = ''


CUSTOMERS = Table(
    'customers', 'demo',
    next(t for t in fidelity.TABLES if t.name == 'customers').columns,
    identity={
        'first_name': ['first_name'],
        'last_name': ['last_name'],
        'full name (first + last)': ['first_name', 'last_name'],
        'email': ['email'],
        'phone': ['phone'],
        'street': ['street'],
    },
    link=['birth_date', 'created_at'],
    note='rowsmith demo (60 made-up customers)',
)

LA_RIOTS = Table(
    'la_riots', 'public', {
        'first_name': pii('first_name'),
        'last_name': pii('last_name'),
        'age': col('numerical'),
        'gender': col('categorical'),
        'race': col('categorical'),
        'death_date': col('datetime', datetime_format=DATE),
        'address': pii('street_address'),
        'neighborhood': col('categorical'),
        'type': col('categorical'),
        'longitude': col('numerical'),
        'latitude': col('numerical'),
    },
    identity={
        'first_name': ['first_name'],
        'last_name': ['last_name'],
        'name pair (first + last)': ['first_name', 'last_name'],
        'address': ['address'],
    },
    link=['death_date', 'longitude'],
    quasi={'coordinates (longitude, latitude)': ['longitude', 'latitude']},
    note='vega_datasets la-riots: the 63 people who died in the 1992 Los Angeles riots',
)

TABLES = [CUSTOMERS, LA_RIOTS]


def make_public_db(binary, workdir):
    """la-riots from vega_datasets' bundled copy, written to CSV and imported
    with `rowsmith import` (types as rowsmith infers them)."""
    from vega_datasets import local_data

    frame = local_data.la_riots()
    frame['death_date'] = frame['death_date'].dt.strftime(DATE)
    # Ages are whole years; pandas reads them as floats because some are missing.
    frame['age'] = frame['age'].astype('Int64')
    csv_path = os.path.join(workdir, 'la_riots.csv')
    frame.to_csv(csv_path, index=False)
    db = os.path.join(workdir, 'public.sqlite')
    subprocess.run([binary, 'import', '--create', db, csv_path, '--table', 'la_riots'],
                   env=private_env(os.path.join(workdir, 'import-data')),
                   check=True, capture_output=True, text=True)
    return db


def private_env(data_dir, config=None):
    """The environment for one rowsmith process: no provider settings of the user's,
    a private data dir (undo journal, profile cache), a private config dir."""
    os.makedirs(data_dir, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ROWSMITH_ENV}
    env['ROWSMITH_DATA_DIR'] = data_dir
    env['XDG_CONFIG_HOME'] = os.path.join(data_dir, 'xdg-config')
    if config:
        env['ROWSMITH_CONFIG'] = config
    return env


# --- identity values -------------------------------------------------------------


def as_text(v):
    """A value as it would be written into a request (JSON numbers as Python prints
    them: the shortest round-trip form, as serde_json does)."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def identity_values(raw, spec):
    """name -> {value: [row indexes]} over the real rows; and the values skipped as
    too short."""
    out, short = {}, {}
    groups = {**spec.identity, **spec.quasi}
    for name, cols in groups.items():
        values, skipped = {}, set()
        for i, row in raw[cols].iterrows():
            parts = [as_text(row[c]) for c in cols]
            if any(p is None for p in parts):
                continue
            if len(' '.join(parts)) < MIN_CHARS and name not in spec.quasi:
                skipped.add(tuple(parts))
                continue
            values.setdefault(tuple(parts), []).append(i)
        out[name], short[name] = values, skipped
    return out, short


# --- requests ---------------------------------------------------------------------


SECTIONS = [  # (how a line starts, the part of the request it opens)
    ('Table:', 'columns'),
    ('Columns to write:', 'columns'),
    ('What the existing values look like', 'profile'),
    ('No existing rows are shown', 'note'),
    ('The table is empty', 'note'),
    ('Random existing rows', 'anchor rows'),
    ('For privacy, the values of', 'privacy note'),
    ('More random existing rows', 'fresh rows'),
    ('Values of ', 'taken values'),
    ('Rows of earlier answers were rejected', 'gate feedback'),
    ('Write exactly', 'ask'),
]


def request_lines(entry):
    """(part, line) for every line of text a recorded request carries: its messages
    (system, the cacheable context, the user message, split into the parts rowsmith
    writes) and the rest of the body (answer schema, settings) as JSON text."""
    body = entry.get('body')
    if not isinstance(body, dict):
        if body:
            yield 'other', json.dumps(body, ensure_ascii=False)
        return
    for message in body.get('messages', []):
        content = message.get('content')
        if isinstance(content, list):  # content parts
            content = '\n'.join(p.get('text', '') for p in content if isinstance(p, dict))
        if not isinstance(content, str):
            continue
        # The system message carries the fixed instructions, and (as rowsmith's
        # compatible provider sends it) the table's context after them.
        part = 'instructions' if message.get('role') == 'system' else 'message'
        for line in content.splitlines():
            for start, name in SECTIONS:
                if line.startswith(start):
                    part = name
                    break
            yield part, line
    rest = {k: v for k, v in body.items() if k != 'messages'}
    yield 'answer schema / settings', json.dumps(rest, ensure_ascii=False)


def forms(value):
    """The ways a value can be written in request text: as is, and JSON-escaped
    (a sample row is a JSON object inside the message text)."""
    escaped = json.dumps(value, ensure_ascii=False)[1:-1]
    return {value, escaped}


def snippet(line, value, request, width=40):
    """The text around the first occurrence of a value, to show where it was."""
    at = max(line.find(value), 0)
    text = line[max(at - width, 0):at + len(value) + width]
    return f'request {request + 1}: …{text}…'


def find_leaks(requests, raw, spec):
    """Per identity group: distinct real values, those found in any request, those
    found linked to their own row, and where each was found."""
    values, short = identity_values(raw, spec)
    # Numbered as the model requests they are (GET /props and the like carry no body).
    bodies = [e for e in requests if e.get('body')]
    lines = [(i, part, line) for i, e in enumerate(bodies) for part, line in request_lines(e)]
    real_rows = raw.to_dict('records')
    out = {}
    for name, by_value in values.items():
        cols = {**spec.identity, **spec.quasi}[name]
        found, linked, where, snippets = set(), set(), {}, {}
        for parts, rows in by_value.items():
            part_forms = [forms(p) for p in parts]
            for req, part, line in lines:
                if not all(any(f in line for f in fs) for fs in part_forms):
                    continue
                found.add(parts)
                row_linked = False
                if part.endswith('rows') and line.startswith('{'):
                    try:
                        shown = json.loads(line)
                    except ValueError:
                        shown = {}
                    row_linked = any(
                        all(as_text(shown.get(c)) == as_text(real_rows[r][c]) for c in spec.link)
                        for r in rows)
                if row_linked:
                    linked.add(parts)
                key = (part, 'linked' if row_linked else 'not linked')
                where.setdefault(key, set()).add(parts)
                if parts not in snippets.setdefault(key, {}):
                    snippets[key][parts] = snippet(line, parts[0], req)
        # Plain JSON (results are kept with --json-out): counts, and per part of the
        # request ("fresh rows (linked)") how many values and a few examples.
        out[name] = {
            'values': len(by_value), 'short': len(short[name]),
            'found': len(found), 'linked': len(linked),
            'where': {f'{p} ({l})': len(v) for (p, l), v in sorted(where.items())},
            'examples': {f'{p} ({l})': [[list(parts), snippets[(p, l)][parts]]
                                        for parts in sorted(v)[:3]]
                         for (p, l), v in sorted(where.items())},
            'quasi': name in spec.quasi,
        }
    return out


# --- one run ----------------------------------------------------------------------


@dataclass
class Run:
    table: str
    privacy: str
    gate: str
    seed: int
    seconds: float = 0.0
    summary: dict = field(default_factory=dict)
    requests: int = 0
    leaks: dict = field(default_factory=dict)
    scores: dict = field(default_factory=dict)
    copied: dict = field(default_factory=dict)
    error: str = ''


def run_generate(binary, db_path, spec, privacy, gate, seed, n, upstream, workdir, keep):
    run = Run(spec.name, privacy, gate, seed)
    tag = f'{spec.name}.{privacy}.{gate}.seed{seed}'
    copy = os.path.join(workdir, f'{tag}.sqlite')
    shutil.copyfile(db_path, copy)
    data_dir = os.path.join(workdir, f'{tag}.data')
    config = os.path.join(workdir, f'{tag}.toml')
    with open(config, 'w') as f:
        f.write('[generate]\nbatch_size = 20\nconcurrency = 2\n')
    log = os.path.join(keep or workdir, f'{tag}.requests.jsonl')
    if os.path.exists(log):
        os.remove(log)
    proxy = start_proxy(upstream, log)
    port = proxy.server_address[1]
    before = read_table(copy, spec.name)
    cmd = [binary, 'generate', copy, spec.name, '-n', str(n), '--seed', str(seed),
           '--provider', 'compatible', '--base-url', f'http://127.0.0.1:{port}/v1',
           '--model', 'smollm2', '--privacy', privacy, '--gate', gate, '--yes', '--json']
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True,
                          env=private_env(data_dir, config))
    run.seconds = time.perf_counter() - start
    proxy.shutdown()
    proxy.server_close()
    try:
        run.summary = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        run.summary = {}
    if done.returncode != 0:
        run.error = f'rowsmith exited {done.returncode}: {done.stderr.strip()[-400:]}'
    requests = []
    if os.path.exists(log):
        with open(log, encoding='utf-8') as f:
            requests = [json.loads(line) for line in f if line.strip()]
    run.requests = sum(1 for r in requests if r['path'].endswith('/chat/completions'))
    raw = before.drop(columns='__rowid', errors='ignore')
    run.leaks = find_leaks(requests, raw, spec)
    new = added_rows(copy, spec.name, before)
    run.copied = copied_values(raw, new, spec)
    if len(new):
        metadata = Metadata.load_from_dict({
            'tables': {spec.name: {'columns': fidelity.sdv_columns(spec.columns)}},
            'relationships': [], 'METADATA_SPEC_VERSION': 'V1',
        }).to_dict()
        real = normalise(raw, spec.columns)
        synthetic = normalise(new, spec.columns)
        s = score(real, synthetic, metadata, spec.name, spec.columns)
        run.scores = {k: s[k] for k in ('quality', 'shapes', 'pairs', 'quality_all', 'new_rows')}
        run.scores['weakest'] = ', '.join(
            f"{r['Column']} {pct(r['Score'])}"
            for _, r in s['shape_details'].sort_values('Score').head(3).iterrows())
    run.scores['landed'] = len(new)
    return run


def copied_values(raw, new, spec):
    """Share of the generated rows' identity values equal to a real value of the same
    column: real people's values copied into the output (not a request leak)."""
    out = {}
    for name, cols in spec.identity.items():
        if len(cols) != 1 or not len(new):
            continue
        c = cols[0]
        real = {as_text(v) for v in raw[c]} - {None}
        made = [as_text(v) for v in new[c]]
        made = [v for v in made if v is not None]
        out[c] = (sum(v in real for v in made), len(made))
    return out


# --- reporting --------------------------------------------------------------------


def turned_away(summary):
    rejected = summary.get('rejected', {})
    rows = sum(v for k, v in rejected.items() if not k.startswith(ANSWER_REASONS))
    answers = sum(v for k, v in rejected.items() if k.startswith(ANSWER_REASONS))
    return rows, answers


def leak_share(leaks, linked=False):
    counted = [v for v in leaks.values() if not v['quasi']]
    total = sum(v['values'] for v in counted)
    hit = sum(v['linked' if linked else 'found'] for v in counted)
    return hit, total


def fmt_share(hit, total):
    return f'{100 * hit / total:.1f}% ({hit}/{total})' if total else '—'


def median(xs):
    xs = [x for x in xs if x is not None and not (isinstance(x, float) and math.isnan(x))]
    return statistics.median(xs) if xs else float('nan')


def summary_table(runs):
    head = ['table', 'privacy', 'gate', 'runs', 'requests', 'leak share (any)',
            'leak share (linked to own row)', 'asked', 'landed', 'rows turned away',
            'unusable answers', 'quality', 'shapes', 'pair trends', 'time (s)']
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    groups = {}
    for r in runs:
        groups.setdefault((r.table, r.privacy, r.gate), []).append(r)
    for (table, privacy, gate), rs in groups.items():
        # Leaks: the worst run (any leak is a leak); the rest: medians over seeds.
        leak = max((leak_share(r.leaks) for r in rs), key=lambda x: x[0] / max(x[1], 1))
        linked = max((leak_share(r.leaks, True) for r in rs), key=lambda x: x[0] / max(x[1], 1))
        cells = [f'`{table}`', privacy, gate, str(len(rs)),
                 f'{median([r.requests for r in rs]):g}',
                 fmt_share(*leak), fmt_share(*linked),
                 str(rs[0].summary.get('requested', '—')),
                 f"{median([r.scores.get('landed') for r in rs]):g}",
                 f'{median([turned_away(r.summary)[0] for r in rs]):g}',
                 f'{median([turned_away(r.summary)[1] for r in rs]):g}',
                 pct(median([r.scores.get('quality') for r in rs])),
                 pct(median([r.scores.get('shapes') for r in rs])),
                 pct(median([r.scores.get('pairs') for r in rs])),
                 f'{median([r.seconds for r in rs]):.0f}']
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def versus_table(runs):
    """Quality of mask (and schema) against samples, per table and gate: medians over
    the seeds whose run landed rows."""
    head = ['table', 'gate', 'quality: samples', 'mask', 'schema', 'mask − samples (points)',
            'shapes: samples', 'mask', 'pair trends: samples', 'mask']
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    keys = []
    for r in runs:
        if (r.table, r.gate) not in keys:
            keys.append((r.table, r.gate))
    for table, gate in keys:
        def med(privacy, key):
            return median([r.scores.get(key) for r in runs
                           if (r.table, r.gate, r.privacy) == (table, gate, privacy)])
        q = {p: med(p, 'quality') for p in ('samples', 'mask', 'schema')}
        delta = 100 * (q['mask'] - q['samples'])
        lines.append('| ' + ' | '.join([
            f'`{table}`', gate, pct(q['samples']), pct(q['mask']), pct(q['schema']),
            '—' if math.isnan(delta) else f'{delta:+.1f}',
            pct(med('samples', 'shapes')), pct(med('mask', 'shapes')),
            pct(med('samples', 'pairs')), pct(med('mask', 'pairs'))]) + ' |')
    return '\n'.join(lines)


def per_column_table(runs):
    head = ['table', 'privacy', 'gate', 'seed', 'identity value', 'distinct real values',
            'skipped (< 4 chars)', 'found in requests', 'linked to own row', 'where (part: values)']
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for r in runs:
        for name, v in r.leaks.items():
            where = '; '.join(f'{p}: {n}' for p, n in v['where'].items())
            label = f'{name} (quasi-identifier, not counted)' if v['quasi'] else name
            lines.append('| ' + ' | '.join([
                f'`{r.table}`', r.privacy, r.gate, str(r.seed), label, str(v['values']),
                str(v['short']), fmt_share(v['found'], v['values']),
                fmt_share(v['linked'], v['values']), where or '—']) + ' |')
    return '\n'.join(lines)


def mask_hits(runs):
    """Every identity value found in a `mask` request, with where: the list to read
    when the leak share under mask is not 0."""
    out = []
    for r in runs:
        if r.privacy != 'mask':
            continue
        for name, v in r.leaks.items():
            if v['quasi'] or not v['found']:
                continue
            for part, examples in v['examples'].items():
                shown = '; '.join(f'{" / ".join(parts)!r} in `{where}`'
                                  for parts, where in examples)
                out.append(f'- `{r.table}` seed {r.seed} gate {r.gate}: {name}: '
                           f'{v["where"][part]} value(s) in {part}, e.g. {shown}')
    return out


def run_table(runs):
    head = ['table', 'privacy', 'gate', 'seed', 'requests', 'landed', 'rejected (reason: count)',
            'quality', 'quality (all pairs)', 'new rows', 'weakest columns',
            'real identity values copied into new rows', 'time (s)', 'error']
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for r in runs:
        rejected = '; '.join(f'{k}: {v}' for k, v in r.summary.get('rejected', {}).items())
        copied = ', '.join(f'{c} {a}/{b}' for c, (a, b) in r.copied.items())
        lines.append('| ' + ' | '.join([
            f'`{r.table}`', r.privacy, r.gate, str(r.seed), str(r.requests),
            str(r.scores.get('landed', 0)), rejected or '—',
            pct(r.scores.get('quality')), pct(r.scores.get('quality_all')),
            pct(r.scores.get('new_rows')), r.scores.get('weakest', '—'), copied or '—',
            f'{r.seconds:.0f}', short_error(r.error)]) + ' |')
    return '\n'.join(lines)


def short_error(error):
    """rowsmith's exit status and its last sentence (why it stopped)."""
    if not error:
        return '—'
    head, _, rest = error.partition(': ')
    last = rest.strip().splitlines()[-1] if rest.strip() else ''
    return f'{head}: {last}'.replace('|', '/')


def render(runs, meta):
    hits = mask_hits(runs)
    return '\n'.join([
        '# Privacy results\n',
        'Made by `benches/privacy/run.sh`; see README.md for what is measured.\n',
        meta + '\n',
        '## Summary\n',
        'Leak share: distinct real identity values (≥ 4 characters) found as a substring of '
        'any request body of the run, JSON-decoded; a name pair counts when both halves '
        'are on one line. *Linked*: found in a sample row whose other columns are the real '
        'row\'s, i.e. the person\'s own value shown with their row. With several seeds the '
        'leak shares are the worst run\'s, the rest are medians. Quality, shapes and pair '
        'trends: SDMetrics Quality Report (fidelity.py\'s scoring) of the rows that landed '
        'against the real table, in percent. `rows turned away`: rows the realism gate or '
        'SQLite rejected; `unusable answers`: answers that were not JSON, had the wrong '
        'shape or were cut off (per request).\n',
        summary_table(runs) + '\n',
        '## Realism: mask and schema against samples\n',
        'Quality in percent, medians over the runs that landed rows (`—`: no run did).\n',
        versus_table(runs) + '\n',
        '## Identity values found under mask\n',
        ('\n'.join(hits) if hits else 'None.') + '\n',
        '## Per identity value\n',
        per_column_table(runs) + '\n',
        '## Per run\n',
        run_table(runs) + '\n',
    ])


# --- main -------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--binary', required=True)
    ap.add_argument('--code', default='', help='what the binary was built from, for the results')
    ap.add_argument('--upstream', default='http://127.0.0.1:8089',
                    help='the model server (OpenAI-compatible), without /v1')
    ap.add_argument('--tables', default='customers,la_riots')
    ap.add_argument('--runs', default=','.join(DEFAULT_RUNS),
                    help='comma-separated gate:privacy pairs (gate realism or constraints; '
                         'privacy samples, mask or schema)')
    ap.add_argument('--rows', type=int, default=30)
    ap.add_argument('--seeds', type=int, default=1, help='seeds 1..K per combination')
    ap.add_argument('--keep', metavar='DIR', help='keep the recorded requests here')
    ap.add_argument('--out', help='write the markdown results here')
    ap.add_argument('--json-out', metavar='FILE', help='also keep every run\'s numbers as JSON')
    ap.add_argument('--render', metavar='FILE',
                    help='run nothing: write the markdown from a --json-out file')
    args = ap.parse_args()

    if args.render:
        with open(args.render) as f:
            saved = json.load(f)
        runs = [Run(**r) for r in saved['runs']]
        text = render(runs, saved['meta'])
        print(summary_table(runs))
        if args.out:
            with open(args.out, 'w') as f:
                f.write(text)
        return 0

    import sdmetrics

    tables = [t for t in TABLES if t.name in args.tables.split(',')]
    if args.keep:
        os.makedirs(args.keep, exist_ok=True)
    runs = []
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix='rowsmith-privacy-') as workdir:
        dbs = {'demo': fidelity.make_demo_db(args.binary, workdir),
               'public': make_public_db(args.binary, workdir)}
        for spec in tables:
            for combo in args.runs.split(','):
                gate, privacy = combo.split(':')
                for seed in range(1, args.seeds + 1):
                    print(f'{spec.name} {privacy} gate={gate} seed={seed}: ', end='', flush=True)
                    r = run_generate(args.binary, dbs[spec.source], spec, privacy, gate,
                                     seed, args.rows, args.upstream, workdir, args.keep)
                    runs.append(r)
                    hit, total = leak_share(r.leaks)
                    print(f'{r.requests} requests, leak {fmt_share(hit, total)}, '
                          f'landed {r.scores.get("landed")}, '
                          f'quality {pct(r.scores.get("quality"))}, {r.seconds:.0f} s'
                          + (f' ERROR {r.error}' if r.error else ''), flush=True)
    elapsed = time.perf_counter() - start
    meta = (f'rowsmith {args.code or args.binary}. '
            f'Model SmolLM2-135M-Instruct (llama.cpp llama-server via local-llm, CPU), '
            f'{args.rows} rows per run, batch_size 20, concurrency 2, seeds 1..{args.seeds}, '
            f'sdmetrics {sdmetrics.__version__}; whole run {elapsed / 60:.1f} min.')
    print()
    print(summary_table(runs))
    print()
    print(versus_table(runs))
    for line in mask_hits(runs):
        print(line)
    if args.json_out:
        with open(args.json_out, 'w') as f:
            json.dump({'meta': meta, 'runs': [asdict(r) for r in runs]}, f, indent=1,
                      default=float)
    if args.out:
        with open(args.out, 'w') as f:
            f.write(render(runs, meta))
        print(f'\nwritten: {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
