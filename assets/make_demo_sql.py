#!/usr/bin/env python3
"""Generate assets/demo.sql, the bundled rowsmith demo database.

Deterministic: Python 3.11 standard library only and a fixed random seed, so
re-running this script reproduces demo.sql byte for byte:

    python3 assets/make_demo_sql.py            # writes assets/demo.sql
    python3 assets/make_demo_sql.py --stdout   # prints it instead

The output is a single transaction (BEGIN; ... COMMIT;) meant for
rusqlite's `execute_batch` on a brand-new SQLite file with foreign keys ON.
"""

from __future__ import annotations

import random
import sys
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

SEED = 20250930
rng = random.Random(SEED)

N_CUSTOMERS = 60
N_PRODUCTS = 40
N_ORDERS = 200

EPOCH_START = datetime(2023, 1, 1)
CUSTOMERS_END = datetime(2025, 6, 30, 23, 59, 59)
NOW = datetime(2025, 9, 30)  # every order is placed (and shipped) before this

CENT = Decimal("0.01")

SCHEMA = """\
CREATE TABLE customers (
  id INTEGER PRIMARY KEY,
  first_name TEXT NOT NULL,
  last_name TEXT NOT NULL,
  email TEXT NOT NULL UNIQUE,
  phone TEXT,
  street TEXT NOT NULL,
  city TEXT NOT NULL,
  state TEXT NOT NULL CHECK (length(state) = 2),
  zip TEXT NOT NULL CHECK (length(zip) = 5),
  loyalty_tier TEXT NOT NULL DEFAULT 'bronze' CHECK (loyalty_tier IN ('bronze', 'silver', 'gold', 'platinum')),
  birth_date TEXT,
  created_at TEXT NOT NULL
);
CREATE TABLE products (
  id INTEGER PRIMARY KEY,
  sku TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  category TEXT NOT NULL,
  price REAL NOT NULL CHECK (price > 0),
  stock INTEGER NOT NULL DEFAULT 0 CHECK (stock >= 0),
  weight_kg REAL,
  discontinued INTEGER NOT NULL DEFAULT 0 CHECK (discontinued IN (0, 1))
);
CREATE TABLE orders (
  id INTEGER PRIMARY KEY,
  order_number TEXT NOT NULL UNIQUE,
  customer_id INTEGER NOT NULL REFERENCES customers (id) ON DELETE RESTRICT,
  status TEXT NOT NULL CHECK (status IN ('pending', 'paid', 'shipped', 'delivered', 'cancelled')),
  ordered_at TEXT NOT NULL,
  shipped_at TEXT,
  total REAL NOT NULL CHECK (total >= 0),
  notes TEXT,
  CHECK (shipped_at IS NULL OR shipped_at >= ordered_at)
);
CREATE INDEX orders_by_customer ON orders (customer_id);
CREATE TABLE order_items (
  order_id INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
  product_id INTEGER NOT NULL REFERENCES products (id),
  quantity INTEGER NOT NULL CHECK (quantity > 0),
  unit_price REAL NOT NULL CHECK (unit_price > 0),
  line_total REAL NOT NULL,
  PRIMARY KEY (order_id, product_id)
) WITHOUT ROWID;
CREATE VIEW customer_order_totals AS
  SELECT c.id AS customer_id, c.first_name || ' ' || c.last_name AS customer,
         count(o.id) AS orders, round(coalesce(sum(o.total), 0), 2) AS spent
  FROM customers c LEFT JOIN orders o ON o.customer_id = c.id
  GROUP BY c.id;
"""

# ---------------------------------------------------------------------------
# Reference data (hand-written)
# ---------------------------------------------------------------------------

# (city, state, zips, area codes, weight) -- real, mutually consistent combos.
CITIES = [
    ("New York", "NY", ["10001", "10011", "10025", "10128"], ["212", "646", "917"], 10),
    ("Chicago", "IL", ["60601", "60614", "60618", "60622", "60657"], ["312", "773", "872"], 8),
    ("Los Angeles", "CA", ["90012", "90026", "90034", "90045"], ["213", "323", "310"], 8),
    ("Austin", "TX", ["78701", "78704", "78745", "78758"], ["512", "737"], 7),
    ("Seattle", "WA", ["98101", "98103", "98107", "98122"], ["206"], 6),
    ("Brooklyn", "NY", ["11201", "11211", "11215"], ["718", "347", "929"], 5),
    ("Denver", "CO", ["80202", "80205", "80210", "80218"], ["303", "720"], 5),
    ("Portland", "OR", ["97205", "97209", "97214", "97217"], ["503", "971"], 5),
    ("San Francisco", "CA", ["94103", "94110", "94117", "94122"], ["415", "628"], 4),
    ("Houston", "TX", ["77002", "77006", "77019"], ["713", "281", "832"], 4),
    ("Atlanta", "GA", ["30303", "30306", "30308", "30318"], ["404", "678", "470"], 4),
    ("Boston", "MA", ["02108", "02115", "02116"], ["617", "857"], 3),
    ("Philadelphia", "PA", ["19103", "19107", "19147"], ["215", "267"], 3),
    ("San Diego", "CA", ["92101", "92103", "92109"], ["619", "858"], 3),
    ("Phoenix", "AZ", ["85004", "85013", "85016"], ["602", "480"], 3),
    ("Miami", "FL", ["33130", "33133", "33137"], ["305", "786"], 2),
    ("Nashville", "TN", ["37203", "37206", "37212"], ["615", "629"], 2),
    ("Minneapolis", "MN", ["55401", "55405", "55408"], ["612"], 2),
    ("Columbus", "OH", ["43201", "43206", "43215"], ["614"], 2),
    ("Raleigh", "NC", ["27601", "27603", "27607"], ["919", "984"], 2),
    ("Salt Lake City", "UT", ["84101", "84102", "84105"], ["801", "385"], 1),
    ("Pittsburgh", "PA", ["15213", "15217", "15222"], ["412"], 1),
    ("Kansas City", "MO", ["64105", "64108", "64111"], ["816"], 1),
    ("Madison", "WI", ["53703", "53705"], ["608"], 1),
    ("Albuquerque", "NM", ["87102", "87106", "87110"], ["505"], 1),
    ("Boise", "ID", ["83702", "83705"], ["208"], 1),
    ("Burlington", "VT", ["05401"], ["802"], 1),
]

FIRST_NAMES = [
    "James", "Maria", "Wei", "Priya", "Jamal", "Aisha", "Carlos", "Sofia",
    "Ethan", "Olivia", "Mohammed", "Fatima", "Hiroshi", "Yuki", "Dmitri",
    "Anya", "Liam", "Emma", "Noah", "Ava", "Mateo", "Camila", "Jin", "Mei",
    "Arjun", "Ananya", "Kwame", "Amara", "Sean", "Siobhan", "Luca", "Giulia",
    "Tyler", "Brianna", "Diego", "Valentina", "Hannah", "Isaac", "Grace",
    "Marcus", "Keisha", "Andre", "Nadia", "Omar", "Leila", "Elena", "Ivan",
    "Kenji", "Lauren", "Megan", "Daniel", "David", "Sarah", "Jennifer",
    "Michael", "Robert", "Linda", "Patricia", "Christopher", "Ashley",
    "Brandon", "Jasmine", "Rosa", "Samuel", "Chloe", "Tariq", "Ingrid",
]

LAST_NAMES = [
    "Smith", "Johnson", "Garcia", "Martinez", "Nguyen", "Kim", "Patel",
    "Chen", "Williams", "Brown", "O'Brien", "Rodriguez", "Hernandez", "Lopez",
    "Lee", "Wong", "Singh", "Okafor", "Mensah", "Kowalski", "Novak", "Ivanov",
    "Rossi", "Romano", "Murphy", "Kelly", "D'Angelo", "Cohen", "Goldberg",
    "Yamamoto", "Tanaka", "Sato", "Haddad", "Khan", "Ali", "Washington",
    "Jackson", "Thompson", "Anderson", "Taylor", "Moore", "Clark", "Lewis",
    "Walker", "Hall", "Young", "Rivera", "Flores", "Ramirez", "Cruz", "Reyes",
    "Park", "Choi", "Schmidt", "Mueller", "Larsen", "Johansson", "Fischer",
    "Dubois", "Jones", "Davis", "Miller", "Wilson", "O'Neill", "Van Dyke",
    "Abernathy", "Castillo", "Morales",
]

STREET_NAMES = [
    "Maple", "Oak", "Cedar", "Pine", "Elm", "Walnut", "Chestnut", "Willow",
    "Ridgeview", "Lincoln", "Washington", "Jefferson", "Madison", "Franklin",
    "Highland", "Lakeview", "Sunset", "Park", "Hillcrest", "Meadow", "River",
    "Spring", "Church", "Mill", "Forest", "Prospect", "Grove", "Cherry",
    "Magnolia", "Orchard", "Summit", "Fairview", "Broad", "Market",
]
STREET_SUFFIXES = [("St", 30), ("Ave", 25), ("Dr", 15), ("Rd", 10), ("Ln", 8),
                   ("Blvd", 5), ("Ct", 4), ("Pl", 3), ("Way", 5), ("Ter", 2)]
ORDINALS = ["1st", "2nd", "3rd", "4th", "5th", "6th", "7th", "8th", "9th",
            "10th", "11th", "12th", "14th", "16th", "18th", "21st", "23rd",
            "27th", "34th", "42nd"]

FREE_MAIL = ["gmail.com", "yahoo.com", "outlook.com", "hotmail.com",
             "icloud.com", "aol.com", "proton.me"]
COMPANY_DOMAINS = ["contoso.com", "fabrikam.com", "northwindtraders.com",
                   "adventure-works.com", "tailspintoys.com", "wingtiptoys.com"]

# Products: (name, category, (price lo, hi), (weight lo, hi) or None).
# Each product has its own realistic band inside its category's range.
PRODUCTS = [
    # Electronics
    ("Wireless Noise-Cancelling Headphones", "Electronics", (149, 349), (0.25, 0.35)),
    ("Bluetooth Portable Speaker", "Electronics", (39, 129), (0.50, 0.90)),
    ("USB-C Charging Cable, 2m", "Electronics", (9, 19), (0.05, 0.08)),
    ("27-inch 4K Monitor", "Electronics", (249, 449), (5.50, 7.50)),
    ("Mechanical Keyboard", "Electronics", (69, 159), (0.90, 1.30)),
    ("Wireless Ergonomic Mouse", "Electronics", (29, 79), (0.10, 0.15)),
    ("Smart Home Hub", "Electronics", (59, 129), (0.30, 0.50)),
    ("1080p Webcam", "Electronics", (39, 89), (0.15, 0.25)),
    ("10,000mAh Power Bank", "Electronics", (24, 49), (0.20, 0.30)),
    ("Fitness Tracker Watch", "Electronics", (79, 199), (0.03, 0.06)),
    ("Photo Editing Suite (Download)", "Electronics", (49, 99), None),
    # Kitchen
    ("10-inch Cast Iron Skillet", "Kitchen", (24, 44), (2.30, 2.80)),
    ("Stainless Steel French Press", "Kitchen", (24, 39), (0.60, 0.90)),
    ("8-Piece Knife Block Set", "Kitchen", (79, 189), (3.00, 4.50)),
    ("Bamboo Cutting Board Set", "Kitchen", (19, 34), (1.20, 1.80)),
    ("Electric Gooseneck Kettle", "Kitchen", (49, 99), (1.00, 1.30)),
    ("6-Quart Enameled Dutch Oven", "Kitchen", (59, 119), (5.00, 6.00)),
    ("Silicone Baking Mat, 2-Pack", "Kitchen", (9, 16), (0.20, 0.30)),
    ("Conical Burr Coffee Grinder", "Kitchen", (89, 169), (2.50, 3.50)),
    # Outdoors
    ("2-Person Backpacking Tent", "Outdoors", (129, 299), (1.80, 2.50)),
    ("Insulated Water Bottle, 32 oz", "Outdoors", (24, 39), (0.40, 0.50)),
    ("Ultralight Sleeping Bag (20F)", "Outdoors", (99, 229), (0.90, 1.30)),
    ("Trekking Poles, Pair", "Outdoors", (39, 89), (0.45, 0.60)),
    ("Rechargeable LED Headlamp", "Outdoors", (19, 39), (0.08, 0.12)),
    ("Folding Camp Chair", "Outdoors", (34, 69), (2.50, 3.50)),
    ("Hydration Daypack, 20L", "Outdoors", (49, 99), (0.60, 0.90)),
    # Office
    ("Gel Ink Pens, 12-Pack", "Office", (8, 14), (0.15, 0.20)),
    ("Hardcover Dotted Notebook, A5", "Office", (12, 24), (0.35, 0.45)),
    ("Adjustable Laptop Stand", "Office", (29, 59), (1.00, 1.50)),
    ("Desk Organizer Tray", "Office", (14, 29), (0.50, 0.80)),
    ("Ergonomic Mesh Office Chair", "Office", (199, 449), (14.0, 19.0)),
    ("Heavy-Duty Stapler", "Office", (14, 29), (0.40, 0.60)),
    ("Sticky Notes Value Pack", "Office", (6, 12), (0.30, 0.40)),
    # Books
    ("The Pragmatic Programmer, 20th Anniversary Ed.", "Books", (34, 49), (0.60, 0.80)),
    ("Salt, Fat, Acid, Heat (Hardcover)", "Books", (29, 45), (1.40, 1.70)),
    ("Project Hail Mary (Paperback)", "Books", (12, 19), (0.40, 0.50)),
    ("Atomic Habits (eBook)", "Books", (11, 16), None),
    ("Field Guide to North American Birds", "Books", (19, 29), (0.50, 0.70)),
    ("The Hobbit (Illustrated Edition)", "Books", (24, 39), (0.90, 1.20)),
    # Toys
    ("Wooden Building Blocks, 100 pcs", "Toys", (29, 49), (1.80, 2.40)),
    ("Remote Control Stunt Car", "Toys", (34, 59), (0.80, 1.20)),
    ("1000-Piece Jigsaw Puzzle", "Toys", (14, 24), (0.60, 0.80)),
    ("Magnetic Tiles Starter Set", "Toys", (39, 69), (1.20, 1.60)),
    ("Plush Teddy Bear, 14-inch", "Toys", (14, 24), (0.30, 0.40)),
    ("Family Strategy Board Game", "Toys", (24, 49), (1.10, 1.50)),
]

DELIVERY_NOTES = [
    "Leave at back door", "Gift wrap please", "Please ring the doorbell",
    "Leave with front desk", "Call on arrival", "No signature required",
    "Leave with neighbor in 4B", "Birthday gift - no receipt in box",
    "Fragile, handle with care", "Use side entrance", "Deliver after 5pm",
    "Gate code 4412", "Do not leave in direct sun", "Please use recycled packaging",
]
CANCEL_NOTES = ["Customer changed mind", "Duplicate order", "Payment declined",
                "Ordered wrong size", "Found a better price"]


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------

def weighted(pairs):
    items, weights = zip(*pairs)
    return rng.choices(items, weights=weights)[0]


def fmt_dt(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%d %H:%M:%S")


def money(d: Decimal) -> str:
    return str(d.quantize(CENT, rounding=ROUND_HALF_UP))


def sql_str(s: str | None) -> str:
    if s is None:
        return "NULL"
    return "'" + s.replace("'", "''") + "'"


def sql_val(v) -> str:
    if v is None:
        return "NULL"
    if isinstance(v, str):
        return sql_str(v)
    if isinstance(v, Decimal):
        return money(v)
    return str(v)


def daytime_seconds() -> int:
    """Seconds into a day, skewed towards waking hours (shoppers)."""
    hour = weighted([(h, w) for h, w in zip(
        range(24),
        [1, 1, 1, 1, 1, 1, 2, 4, 6, 8, 9, 10, 11, 10, 9, 9, 9, 10, 11, 12, 12, 10, 6, 3],
    )])
    return hour * 3600 + rng.randrange(3600)


def slug(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


# ---------------------------------------------------------------------------
# Customers
# ---------------------------------------------------------------------------

def make_street() -> str:
    number = weighted([(rng.randint(10, 99), 2), (rng.randint(100, 999), 4),
                       (rng.randint(1000, 9999), 4)])
    if rng.random() < 0.2:
        street = f"{rng.choice('NSEW')} {rng.choice(ORDINALS)} St"
    else:
        direction = f"{rng.choice('NSEW')} " if rng.random() < 0.12 else ""
        street = f"{direction}{rng.choice(STREET_NAMES)} {weighted(STREET_SUFFIXES)}"
    unit = ""
    r = rng.random()
    if r < 0.14:
        unit = f" Apt {rng.randint(1, 40)}"
    elif r < 0.20:
        unit = f" Unit {rng.choice('ABCD')}{rng.randint(1, 9)}" if rng.random() < 0.5 \
            else f" Apt {rng.randint(1, 6)}{rng.choice('ABCDEF')}"
    elif r < 0.22:
        unit = f" Ste {rng.randint(1, 5)}00"
    return f"{number} {street}{unit}"


def make_phone(area_codes) -> str:
    while True:
        exchange = rng.randint(201, 989)
        ex = str(exchange)
        if ex[1:] != "11" and ex != "555":
            break
    return f"({rng.choice(area_codes)}) {exchange}-{rng.randint(0, 9999):04d}"


def make_email(first: str, last: str, used: set[str]) -> str:
    f, l = slug(first), slug(last)
    style = weighted([("first.last", 30), ("flast", 16), ("first.lastNN", 12),
                      ("firstlast", 10), ("first_last", 8), ("company", 14),
                      ("firstNN", 5), ("lastf", 5)])
    domain = rng.choice(FREE_MAIL)
    if style == "first.last":
        local = f"{f}.{l}"
        domain = weighted([("gmail.com", 6), ("yahoo.com", 2), ("icloud.com", 2),
                           ("outlook.com", 1), ("proton.me", 1)])
    elif style == "flast":
        local = f"{f[0]}{l}"
        domain = weighted([("outlook.com", 4), ("hotmail.com", 3), ("gmail.com", 3), ("aol.com", 1)])
    elif style == "first.lastNN":
        local = f"{f}.{l}{rng.randint(1, 99)}"
        domain = weighted([("yahoo.com", 4), ("gmail.com", 4), ("hotmail.com", 2)])
    elif style == "firstlast":
        local = f"{f}{l}"
        domain = weighted([("gmail.com", 5), ("icloud.com", 2), ("yahoo.com", 1)])
    elif style == "first_last":
        local = f"{f}_{l}"
        domain = weighted([("icloud.com", 3), ("outlook.com", 2), ("gmail.com", 2)])
    elif style == "company":
        local = weighted([(f"{f}.{l}", 3), (f"{f[0]}{l}", 2), (f, 1)])
        domain = rng.choice(COMPANY_DOMAINS)
    elif style == "firstNN":
        local = f"{f}{rng.randint(70, 99) if rng.random() < 0.5 else rng.randint(1, 2024)}"
        domain = weighted([("gmail.com", 3), ("yahoo.com", 2), ("aol.com", 1)])
    else:  # lastf
        local = f"{l}{f[0]}"
        domain = weighted([("gmail.com", 2), ("outlook.com", 2), ("proton.me", 1)])
    email = f"{local}@{domain}"
    n = 2
    while email in used:  # rare collision: add a distinguishing number
        email = f"{local}{n}@{domain}"
        n += 1
    used.add(email)
    return email


def make_birth_date() -> str | None:
    if rng.random() < 0.10:
        return None
    year = round(rng.triangular(1950, 2004, 1988))
    day = date(year, 1, 1) + timedelta(days=rng.randrange(365))
    return day.isoformat()


def pick_name(names, uses) -> str:
    """Random name; names already used become much less likely (few repeats)."""
    return rng.choices(names, weights=[1 / (1 + 4 * uses.get(n, 0)) for n in names])[0]


def make_customers():
    # Increasing, distinct signup datetimes over the window.
    days = (CUSTOMERS_END.date() - EPOCH_START.date()).days
    stamps = set()
    while len(stamps) < N_CUSTOMERS:
        d = EPOCH_START + timedelta(days=rng.randrange(days + 1),
                                    seconds=daytime_seconds())
        stamps.add(d)
    stamps = sorted(stamps)

    used_emails: set[str] = set()
    used_names: set[tuple[str, str]] = set()
    first_uses: dict[str, int] = {}
    last_uses: dict[str, int] = {}
    customers = []
    for cid, created in enumerate(stamps, start=1):
        while True:
            first, last = pick_name(FIRST_NAMES, first_uses), pick_name(LAST_NAMES, last_uses)
            if (first, last) not in used_names:
                used_names.add((first, last))
                first_uses[first] = first_uses.get(first, 0) + 1
                last_uses[last] = last_uses.get(last, 0) + 1
                break
        city, state, zips, area_codes, _w = rng.choices(
            CITIES, weights=[c[4] for c in CITIES])[0]
        customers.append({
            "id": cid,
            "first_name": first,
            "last_name": last,
            "email": make_email(first, last, used_emails),
            "phone": None if rng.random() < 0.14 else make_phone(area_codes),
            "street": make_street(),
            "city": city,
            "state": state,
            "zip": rng.choice(zips),
            "loyalty_tier": "bronze",  # assigned from spend once orders exist
            "birth_date": make_birth_date(),
            "created_at": created,
        })
    return customers


# ---------------------------------------------------------------------------
# Products
# ---------------------------------------------------------------------------

def charm_price(lo: int, hi: int) -> Decimal:
    dollars = rng.randint(lo, hi)
    cents = weighted([("99", 62), ("00", 14), ("49", 8), ("95", 10), ("50", 6)])
    if dollars >= 200 and cents not in ("99", "00"):
        cents = "00"
    return Decimal(f"{dollars}.{cents}")


def make_products():
    chosen = rng.sample(PRODUCTS, N_PRODUCTS)  # random catalog order
    # ~3 zero-stock items, ~4 discontinued (some of which are also sold out).
    discontinued_idx = set(rng.sample(range(N_PRODUCTS), 4))
    sku_num = 100 + rng.randint(0, 30)
    products = []
    for i, (name, category, (plo, phi), wrange) in enumerate(chosen):
        pid = i + 1
        sku_num += weighted([(1, 6), (rng.randint(2, 5), 3), (rng.randint(6, 40), 1)])
        price = charm_price(plo, phi)
        if wrange is None or rng.random() < 0.06:
            weight = None
        else:
            weight = Decimal(str(rng.uniform(*wrange))).quantize(CENT)
        stock = min(500, int(rng.expovariate(1 / 70)))
        if price > 150:
            stock = stock // 3
        if rng.random() < 0.05:
            stock = 0
        disc = 1 if i in discontinued_idx else 0
        if disc and rng.random() < 0.6:
            stock = 0
        products.append({
            "id": pid,
            "sku": f"SKU-{sku_num:05d}",
            "name": name,
            "category": category,
            "price": price,
            "stock": stock,
            "weight_kg": weight,
            "discontinued": disc,
        })
    # About 10% unknown weights (digital items, plus a book or two not yet measured).
    weighed = [p for p in products if p["weight_kg"] is not None]
    books = [p for p in weighed if p["category"] == "Books"]
    while len(products) - len(weighed) < N_PRODUCTS // 10:
        p = rng.choice(books or weighed)
        p["weight_kg"] = None
        weighed.remove(p)
        if p in books:
            books.remove(p)
    # Guarantee a few sold-out items for the demo.
    zeros = [p for p in products if p["stock"] == 0]
    for p in rng.sample([p for p in products if p["stock"] > 0], max(0, 3 - len(zeros))):
        p["stock"] = 0
    return products


# ---------------------------------------------------------------------------
# Orders and items
# ---------------------------------------------------------------------------

# Exact status mix (delivered > shipped > paid > pending > cancelled).
STATUS_QUOTA = {"delivered": 106, "shipped": 36, "paid": 24, "pending": 19, "cancelled": 15}


def assign_statuses(stamps: list[datetime]) -> list[str]:
    """Deal the status quota out so open orders (pending/paid/shipped) lean
    towards recent dates and an order is only shipped/delivered if there was
    time for that before NOW: the last 30 days newest first, then the rest
    oldest first (so leftover open statuses land on fairly recent orders)."""
    remaining = dict(STATUS_QUOTA)
    assert sum(remaining.values()) == len(stamps)
    out = [""] * len(stamps)
    recent = sorted((i for i in range(len(stamps)) if NOW - stamps[i] < timedelta(days=30)),
                    key=lambda i: stamps[i], reverse=True)
    older = sorted((i for i in range(len(stamps)) if NOW - stamps[i] >= timedelta(days=30)),
                   key=lambda i: stamps[i])
    for i in recent + older:
        age = NOW - stamps[i]
        if age < timedelta(days=30):
            pref = {"delivered": 1, "shipped": 4, "paid": 6, "pending": 6, "cancelled": 1}
        elif age < timedelta(days=180):
            pref = {"delivered": 1, "shipped": 1, "paid": 0.6, "pending": 0.5, "cancelled": 1}
        else:
            pref = {"delivered": 1.3, "shipped": 0.15, "paid": 0.15, "pending": 0.1, "cancelled": 1}
        if age < timedelta(days=8):  # not enough time to ship and deliver
            pref["delivered"] = 0
        if age < timedelta(days=1, hours=1):  # ships 1-6 days after ordering
            pref["shipped"] = 0
        pairs = [(s, remaining[s] * pref[s]) for s in remaining if remaining[s] * pref[s] > 0]
        status = weighted(pairs)
        remaining[status] -= 1
        out[i] = status
    return out


def make_orders(customers, products):
    # Customer order propensity: heavy tail, about 1 in 8 never order.
    # Scaled by how long the customer has been around, so recent sign-ups
    # have had less time to order.
    window = (NOW - EPOCH_START).total_seconds()
    propensity = []
    for c in customers:
        if rng.random() < 0.12:
            propensity.append(0.0)
        else:
            active = (NOW - c["created_at"]).total_seconds() / window
            propensity.append(min(rng.paretovariate(1.3), 6.0) * (0.15 + active))

    # Product popularity: cheap everyday items sell more; discontinued less.
    popularity = []
    for p in products:
        w = rng.uniform(0.5, 1.5) * (3.0 if p["price"] < 40 else 1.5 if p["price"] < 120 else 0.7)
        if p["discontinued"]:
            w *= 0.4
        popularity.append(w)

    raw = []
    for _ in range(N_ORDERS):
        c = rng.choices(customers, weights=propensity)[0]
        start = c["created_at"] + timedelta(hours=2)
        span = (NOW - timedelta(minutes=30) - start).total_seconds()
        # Business grows over time: later dates a bit more likely.
        ordered = start + timedelta(seconds=int(span * rng.random() ** 0.8))
        ordered = ordered.replace(hour=0, minute=0, second=0) + timedelta(seconds=daytime_seconds())
        if ordered < start:
            ordered += timedelta(days=1)
        if ordered >= NOW:
            ordered -= timedelta(days=1)
        raw.append((ordered, c["id"]))
    raw.sort()

    statuses = assign_statuses([r[0] for r in raw])
    orders, items = [], []
    for oid, (ordered, cust_id) in enumerate(raw, start=1):
        status = statuses[oid - 1]
        shipped = None
        if status in ("shipped", "delivered"):
            lag = timedelta(seconds=rng.randint(86400, 6 * 86400))
            latest = NOW - timedelta(days=2 if status == "delivered" else 0, minutes=5)
            shipped = min(ordered + lag, max(latest, ordered + timedelta(days=1)))

        n_items = weighted([(1, 42), (2, 27), (3, 16), (4, 9), (5, 6)])
        chosen = set()
        while len(chosen) < n_items:
            chosen.add(rng.choices(range(len(products)), weights=popularity)[0])
        total = Decimal(0)
        for idx in sorted(chosen, key=lambda i: products[i]["id"]):
            p = products[idx]
            if p["price"] >= 100:
                qty = weighted([(1, 92), (2, 8)])
            else:
                qty = weighted([(1, 68), (2, 19), (3, 7), (4, 6)])
            line = (p["price"] * qty).quantize(CENT, rounding=ROUND_HALF_UP)
            total += line
            items.append({"order_id": oid, "product_id": p["id"], "quantity": qty,
                          "unit_price": p["price"], "line_total": line})

        notes = None
        if status == "cancelled" and rng.random() < 0.45:
            notes = rng.choice(CANCEL_NOTES)
        elif rng.random() < 0.12:
            notes = rng.choice(DELIVERY_NOTES)

        orders.append({
            "id": oid,
            "order_number": f"ORD-{100 + oid:06d}",
            "customer_id": cust_id,
            "status": status,
            "ordered_at": ordered,
            "shipped_at": shipped,
            "total": total.quantize(CENT),
            "notes": notes,
        })
    return orders, items


def assign_tiers(customers, orders):
    """Loyalty follows (noisy) spend: bronze common, platinum rare."""
    spend = {c["id"]: Decimal(0) for c in customers}
    for o in orders:
        if o["status"] != "cancelled":
            spend[o["customer_id"]] += o["total"]
    ranked = sorted(customers,
                    key=lambda c: float(spend[c["id"]]) * rng.lognormvariate(0, 0.35) + rng.random(),
                    reverse=True)
    for rank, c in enumerate(ranked):
        if spend[c["id"]] == 0:
            tier = "bronze"
        elif rank < 3:
            tier = "platinum"
        elif rank < 11:
            tier = "gold"
        elif rank < 26:
            tier = "silver"
        else:
            tier = "bronze"
        c["loyalty_tier"] = tier


# ---------------------------------------------------------------------------
# SQL output
# ---------------------------------------------------------------------------

def insert_block(table, columns, rows, chunk=50):
    out = []
    for start in range(0, len(rows), chunk):
        part = rows[start:start + chunk]
        out.append(f"INSERT INTO {table} ({', '.join(columns)}) VALUES")
        lines = []
        for row in part:
            vals = []
            for col in columns:
                v = row[col]
                if isinstance(v, datetime):
                    v = fmt_dt(v)
                vals.append(sql_val(v))
            lines.append("  (" + ", ".join(vals) + ")")
        out.append(",\n".join(lines) + ";")
    return "\n".join(out) + "\n"


def build_sql() -> str:
    customers = make_customers()
    products = make_products()
    orders, items = make_orders(customers, products)
    assign_tiers(customers, orders)

    # Sanity checks on the requested distributions.
    counts = {s: sum(o["status"] == s for o in orders)
              for s in ("delivered", "shipped", "paid", "pending", "cancelled")}
    ranked = list(counts.values())
    assert ranked == sorted(ranked, reverse=True) and len(set(ranked)) == 5, counts
    tiers = [sum(c["loyalty_tier"] == t for c in customers)
             for t in ("bronze", "silver", "gold", "platinum")]
    assert tiers == sorted(tiers, reverse=True), tiers

    parts = [
        "BEGIN;\n",
        "-- rowsmith demo database: a small online shop.\n"
        "-- Generated by assets/make_demo_sql.py (deterministic, seed "
        f"{SEED}); do not edit by hand.\n"
        f"-- {len(customers)} customers, {len(products)} products, "
        f"{len(orders)} orders, {len(items)} order items.\n\n",
        "-- Schema\n" + SCHEMA,
        "\n-- Customers: city/state/zip/area code are real, consistent combinations.\n",
        insert_block("customers", ["id", "first_name", "last_name", "email", "phone",
                                   "street", "city", "state", "zip", "loyalty_tier",
                                   "birth_date", "created_at"], customers),
        "\n-- Products: category determines the price band and weight.\n",
        insert_block("products", ["id", "sku", "name", "category", "price", "stock",
                                  "weight_kg", "discontinued"], products),
        "\n-- Orders: total = sum of the order's line totals.\n",
        insert_block("orders", ["id", "order_number", "customer_id", "status",
                                "ordered_at", "shipped_at", "total", "notes"], orders),
        "\n-- Order items: unit_price = product price, line_total = quantity * unit_price.\n",
        insert_block("order_items", ["order_id", "product_id", "quantity",
                                     "unit_price", "line_total"], items, chunk=100),
        "\nCOMMIT;\n",
    ]
    return "".join(parts)


def main() -> None:
    sql = build_sql()
    if "--stdout" in sys.argv[1:]:
        sys.stdout.write(sql)
        return
    out = Path(__file__).resolve().parent / "demo.sql"
    out.write_text(sql, encoding="utf-8", newline="\n")
    print(f"wrote {out} ({len(sql.encode('utf-8'))} bytes)")


if __name__ == "__main__":
    main()
