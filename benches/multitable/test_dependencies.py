"""Checks of the dependency discovery on small made-up tables.

    benches/multitable/.venv/bin/python -m unittest discover -s benches/multitable
"""

import os
import sys
import unittest

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dependencies as deps  # noqa: E402

N = 60


def shop(seed=0):
    """customers 1..N; orders, two per customer, after the customer's signup,
    billed to the customer's city; lines whose total is qty × the product price,
    and the order total their sum."""
    rng = np.random.default_rng(seed)
    cities = np.array([f'City {i}' for i in range(N)])
    customers = pd.DataFrame({
        'id': np.arange(1, N + 1),
        'city': cities,
        'created_at': pd.date_range('2023-01-01', periods=N, freq='5D').strftime('%Y-%m-%d'),
        'tier': ['gold'] * N,  # constant: no rule may come from it
    })
    products = pd.DataFrame({'id': np.arange(1, 11), 'price': rng.choice([5.0, 9.5, 12.25], 10)})
    orders, lines = [], []
    oid = 0
    for c in customers.itertuples():
        for _ in range(2):
            oid += 1
            when = pd.Timestamp(c.created_at) + pd.Timedelta(days=int(rng.integers(1, 90)))
            total = 0.0
            for p in rng.choice(products['id'], size=int(rng.integers(1, 4)), replace=False):
                qty = int(rng.integers(1, 4))
                price = float(products.loc[products['id'] == p, 'price'].iloc[0])
                lines.append({'order_id': oid, 'product_id': int(p), 'qty': qty,
                              'line_total': qty * price})
                total += qty * price
            orders.append({'id': oid, 'customer_id': c.id, 'bill_city': c.city,
                           'ordered_at': when.strftime('%Y-%m-%d'), 'total': total,
                           'tier': 'gold'})
    return {'customers': customers, 'products': products,
            'orders': pd.DataFrame(orders), 'lines': pd.DataFrame(lines)}


COLUMNS = {
    'customers': {'id': {'sdtype': 'id'}, 'city': {'sdtype': 'categorical'},
                  'created_at': {'sdtype': 'datetime'}, 'tier': {'sdtype': 'categorical'}},
    'products': {'id': {'sdtype': 'id'}, 'price': {'sdtype': 'numerical'}},
    'orders': {'id': {'sdtype': 'id'}, 'customer_id': {'sdtype': 'id'},
               'bill_city': {'sdtype': 'categorical'}, 'ordered_at': {'sdtype': 'datetime'},
               'total': {'sdtype': 'numerical'}, 'tier': {'sdtype': 'categorical'}},
    'lines': {'order_id': {'sdtype': 'id'}, 'product_id': {'sdtype': 'id'},
              'qty': {'sdtype': 'numerical'}, 'line_total': {'sdtype': 'numerical'}},
}

FKS = [
    deps.ForeignKey('orders', ['customer_id'], 'customers', ['id']),
    deps.ForeignKey('lines', ['order_id'], 'orders', ['id']),
    deps.ForeignKey('lines', ['product_id'], 'products', ['id']),
]


def labels(found):
    return sorted(d.label() for d in found)


class Discovery(unittest.TestCase):
    def setUp(self):
        self.real = shop()
        self.found = deps.discover(self.real, FKS, COLUMNS)

    def test_finds_the_planted_rules(self):
        got = labels(self.found)
        for rule in ['orders.bill_city = customers.city',
                     'orders.ordered_at >= customers.created_at',
                     'lines.line_total = lines.qty × products.price',
                     'orders.total = Σ lines.line_total']:
            self.assertIn(rule, got)

    def test_constant_columns_make_no_rule(self):
        self.assertFalse([d for d in self.found if 'tier' in d.label()])

    def test_real_data_keeps_every_rule(self):
        for d in self.found:
            kinds = deps.column_kinds(COLUMNS[d.fk.child])
            kept, total = deps.check(d, self.real[d.fk.child], self.real[d.fk.parent],
                                     self.real[d.fk.parent], self.real[d.fk.child], kinds)
            self.assertEqual(kept, total, d.label())

    def test_broken_rows_are_counted(self):
        fake = {t: f.copy() for t, f in self.real.items()}
        fake['orders'].loc[:9, 'bill_city'] = 'Nowhere'
        fake['orders'].loc[:4, 'total'] += 1
        by_label = {d.label(): d for d in self.found}
        city = by_label['orders.bill_city = customers.city']
        kinds = deps.column_kinds(COLUMNS['orders'])
        self.assertEqual(deps.check(city, fake['orders'], fake['customers'], fake['customers'],
                                    fake['orders'], kinds), (2 * N - 10, 2 * N))
        total = next(d for d in self.found if d.kind == 'sum')
        self.assertEqual(deps.check(total, fake['lines'], fake['orders'], fake['orders'],
                                    fake['lines'], kinds), (2 * N - 5, 2 * N))

    def test_dangling_rows_are_left_to_integrity(self):
        fake = {t: f.copy() for t, f in self.real.items()}
        fake['orders'].loc[:9, 'customer_id'] = 10_000
        city = next(d for d in self.found if d.label() == 'orders.bill_city = customers.city')
        kinds = deps.column_kinds(COLUMNS['orders'])
        self.assertEqual(deps.check(city, fake['orders'], fake['customers'], fake['customers'],
                                    fake['orders'], kinds), (2 * N - 10, 2 * N - 10))


if __name__ == '__main__':
    unittest.main()
