"""A leak probe for `--privacy mask`: identifiers stored as numbers or as codes.

The demo `customers` and la-riots hold names, emails, phones as text and street
addresses. Many real tables also hold identifiers that SQLite stores as INTEGER
(a phone as 3104393621, an SSN as 512873406) or as digit/code text (an account
number with leading zeros, an IBAN). This probe builds a small table of such
columns (every value invented here), runs `rowsmith generate --privacy mask`
through the recording proxy against a stub model server (it answers with no
rows, so nothing needs a model and it takes seconds), and reports which
columns' real values occur in the request. Column names are the ones rowsmith's
own list of personal identifiers names (src/generate/privacy/identity.rs).

    python probe.py --binary target/release/rowsmith [--out probe.md]
"""

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import pandas as pd  # noqa: E402

from privacy import Table, find_leaks, fmt_share, private_env  # noqa: E402
from proxy import start_proxy  # noqa: E402

# (column, declared type, values). Invented people; numbers in shapes real data has.
COLUMNS = [
    ('full_name', 'TEXT', ['Margaret Okonkwo', 'Tobias Lindqvist', 'Priya Raghunathan',
                           'Esteban Quiroga', 'Helga Vasquez-Brandt', 'Kwame Asante-Boateng',
                           'Ingrid Solheimsen', 'Rafael Montenegro', 'Yuki Tanabe-Morris',
                           'Dmitri Volkonsky', 'Amara Nwachukwu', 'Lorenzo Bellincioni']),
    ('email', 'TEXT', ['margaret.okonkwo@gmail.com', 'tobias.l@yahoo.com', 'priya.r@hotmail.com',
                       'equiroga@gmail.com', 'helga.vb@outlook.com', 'kwame.ab@gmail.com',
                       'ingrid.s@icloud.com', 'rmontenegro@gmail.com', 'yuki.tm@yahoo.com',
                       'dvolkonsky@gmail.com', 'amara.n@gmail.com', 'lbellincioni@outlook.com']),
    ('phone', 'INTEGER', [3104393621, 8729001705, 6198171121, 7376467060, 2125550187, 4155550143,
                          3125550199, 6465550121, 5035550163, 2065550178, 7185550134, 9175550112]),
    ('ssn', 'INTEGER', [512873406, 287650913, 634028175, 718264093, 409316528, 823047165,
                        165839204, 937162840, 246819357, 581036274, 394275061, 702948361]),
    ('ssn_text', 'TEXT', ['512-87-3407', '287-65-0914', '634-02-8176', '718-26-4094',
                          '409-31-6529', '823-04-7166', '165-83-9205', '937-16-2841',
                          '246-81-9358', '581-03-6275', '394-27-5062', '702-94-8362']),
    ('card_number', 'TEXT', ['4539148803436467', '4716108999716531', '4485275742308327',
                             '4556737586899855', '4024007198964305', '4929379618297364',
                             '4532015112830366', '4916338506082832', '4539578763621486',
                             '4024007148967342', '4716461583322103', '4485983356242217']),
    ('account_number', 'TEXT', ['00012345678', '00023456781', '00034567892', '00045678903',
                                '00056789014', '00067890125', '00078901236', '00089012347',
                                '00090123458', '00101234569', '00112345670', '00123456781']),
    ('iban', 'TEXT', ['DE89370400440532013000', 'GB29NWBK60161331926819',
                      'FR1420041010050500013M02606', 'NL91ABNA0417164300',
                      'ES9121000418450200051332', 'IT60X0542811101000000123456',
                      'DE44500105175407324931', 'GB82WEST12345698765432',
                      'BE68539007547034', 'AT611904300234573201',
                      'CH9300762011623852957', 'PL61109010140000071219812874']),
    ('passport_number', 'TEXT', ['P4366918', 'P5129034', 'P1873325', 'P6602417', 'P2958140',
                                 'P7314586', 'P3047792', 'P8820561', 'P0491237', 'P5583904',
                                 'P6127750', 'P9036418']),
    # The same kinds under names an import or an ORM often gives them.
    ('PhoneNumber', 'INTEGER', [3104393622, 8729001706, 6198171122, 7376467061, 2125550188,
                                4155550144, 3125550190, 6465550122, 5035550164, 2065550179,
                                7185550135, 9175550113]),
    ('contact_phone', 'TEXT', ['3104393623', '8729001707', '6198171123', '7376467062',
                               '2125550189', '4155550145', '3125550191', '6465550123',
                               '5035550165', '2065550170', '7185550136', '9175550114']),
    ('mobile_number', 'TEXT', ['3104393624', '8729001708', '6198171124', '7376467063',
                               '2125550180', '4155550146', '3125550192', '6465550124',
                               '5035550166', '2065550171', '7185550137', '9175550115']),
    ('CardNumber', 'TEXT', ['4539148803436468', '4716108999716532', '4485275742308328',
                            '4556737586899856', '4024007198964306', '4929379618297365',
                            '4532015112830367', '4916338506082833', '4539578763621487',
                            '4024007148967343', '4716461583322104', '4485983356242218']),
    ('SocialSecurityNumber', 'INTEGER', [512873408, 287650915, 634028177, 718264095, 409316520,
                                         823047167, 165839206, 937162842, 246819359, 581036276,
                                         394275063, 702948363]),
    ('username', 'TEXT', ['mokonkwo', 'tlindqvist', 'priyar', 'equiroga', 'helgavb', 'kwameab',
                          'isolheim', 'rmonte', 'yukitm', 'dvolk', 'amaran', 'lbellin']),
    ('city', 'TEXT', ['Chicago', 'Boston', 'Chicago', 'Austin', 'Boston', 'Austin',
                      'Chicago', 'Boston', 'Austin', 'Chicago', 'Boston', 'Austin']),
]
TABLE = 'accounts'


class Stub(BaseHTTPRequestHandler):
    """A model server that says it reads 8,192 tokens and answers with no rows."""
    protocol_version = 'HTTP/1.1'

    def log_message(self, *args):
        pass

    def _reply(self, obj):
        body = json.dumps(obj).encode()
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path.startswith('/props'):
            return self._reply({'default_generation_settings': {'n_ctx': 8192}})
        return self._reply({'object': 'list', 'data': []})

    def do_POST(self):
        self.rfile.read(int(self.headers.get('Content-Length') or 0))
        self._reply({'model': 'stub', 'usage': {'prompt_tokens': 1, 'completion_tokens': 1},
                     'choices': [{'index': 0, 'finish_reason': 'stop', 'message': {
                         'role': 'assistant', 'content': json.dumps({'rows': []})}}]})


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--binary', required=True)
    ap.add_argument('--out', help='write the markdown here')
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix='rowsmith-privacy-probe-') as workdir:
        db = os.path.join(workdir, 'probe.sqlite')
        with sqlite3.connect(db) as conn:
            conn.execute(f'CREATE TABLE {TABLE} ('
                         + ', '.join(f'{c} {t}' for c, t, _ in COLUMNS) + ')')
            conn.executemany(f'INSERT INTO {TABLE} VALUES ({", ".join("?" * len(COLUMNS))})',
                             list(zip(*(v for _, _, v in COLUMNS))))
        stub = ThreadingHTTPServer(('127.0.0.1', 0), Stub)
        threading.Thread(target=stub.serve_forever, daemon=True).start()
        log = os.path.join(workdir, 'requests.jsonl')
        proxy = start_proxy(f'http://127.0.0.1:{stub.server_address[1]}', log)
        config = os.path.join(workdir, 'config.toml')
        with open(config, 'w') as f:
            f.write('[generate]\nbatch_size = 20\nconcurrency = 1\n')
        cmd = [args.binary, 'generate', db, TABLE, '-n', '5', '--seed', '1',
               '--provider', 'compatible', '--base-url',
               f'http://127.0.0.1:{proxy.server_address[1]}/v1', '--model', 'stub',
               '--privacy', 'mask', '--yes', '--json']
        subprocess.run(cmd, capture_output=True, text=True,
                       env=private_env(os.path.join(workdir, 'data'), config))
        proxy.shutdown()
        stub.shutdown()
        with open(log, encoding='utf-8') as f:
            requests = [json.loads(line) for line in f if line.strip()]
        with sqlite3.connect(db) as conn:
            raw = pd.read_sql(f'SELECT * FROM {TABLE}', conn)
        spec = Table(TABLE, 'probe', {}, identity={c: [c] for c, _, _ in COLUMNS if c != 'city'},
                     link=['city'])
        leaks = find_leaks(requests, raw, spec)

    chats = sum(1 for r in requests if r.get('body'))
    head = ['column', 'declared type / stored as', 'real values found in the requests',
            'where (part: values)', 'example']
    lines = [f'{chats} model requests of `rowsmith generate --privacy mask` on a 12-row '
             f'table of invented identifiers (benches/privacy/probe.py). Values ≥ 4 characters; '
             f'*linked*: shown in a sample row beside the same row\'s city.\n',
             '| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    leaked = 0
    for c, t, values in COLUMNS:
        if c not in leaks:
            continue
        v = leaks[c]
        stored = 'INTEGER' if isinstance(values[0], int) else 'TEXT'
        where = '; '.join(f'{p}: {n}' for p, n in v['where'].items())
        example = next((f'`{s}`' for ex in v['examples'].values() for _, s in ex[:1]), '—')
        leaked += bool(v['found'])
        lines.append('| ' + ' | '.join([f'`{c}`', f'{t} / {stored}',
                                        fmt_share(v['found'], v['values']),
                                        where or '—', example.replace('|', '/')]) + ' |')
    text = '\n'.join(lines) + '\n'
    print(text)
    if args.out:
        with open(args.out, 'w') as f:
            f.write(text)
    return 1 if leaked else 0


if __name__ == '__main__':
    sys.exit(main())
