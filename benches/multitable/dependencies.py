"""Parent–child dependencies, found in the real data and checked in synthetic data.

A dependency is a rule between a child row and its parent row (through one
foreign key) that the real data keeps almost always:

* `equal`:   child.X = parent.Y in >= 99% of joined rows
             (Invoice.BillingCity = Customer.City);
* `order`:   child.X >= parent.Y, or child.X <= parent.Y, in >= 99% of joined
             rows where both are set, and not always equal; for dates and
             times, and for numbers (orders.ordered_at >= customers.created_at);
* `sum`:     parent.P = the sum over its children of child.C, or of C1 × C2,
             in >= 98% of the parents that have children
             (orders.total = Σ order_items.line_total);
* `product`: child.A = child.B × parent.C in >= 99% of joined rows
             (order_items.line_total = quantity × products.price).

A rule is kept only if it says something: it must hold in at most half of the
rows (at most 90% for `order`) when each child row is paired with another,
randomly drawn parent row instead of its own (the *random-pairing baseline*).
That drops rules that hold by units alone (a price is always below a track's
length in milliseconds), constant columns, and rules too loose to tell a real
parent from any parent. A rule also needs at least 20 rows (or parents) to be
seen on.

Values compare as SQLite does after a careful import: numbers as numbers
(equal within 0.005, the half cent that money is rounded to, or 1e-9
relative), dates and times by time, text character for character; NULL equals
NULL for `equal` and is skipped by `order`.
"""

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

EQUAL_SHARE = 0.99
ORDER_SHARE = 0.99
SUM_SHARE = 0.98
PRODUCT_SHARE = 0.99
EQUAL_BASELINE = 0.95
ORDER_BASELINE = 0.9
MIN_SUPPORT = 20
ABS_TOL = 0.005 + 1e-9
REL_TOL = 1e-9
SEED = 1


@dataclass
class ForeignKey:
    child: str
    columns: list  # child columns
    parent: str
    parent_columns: list

    def label(self):
        return (f'{self.child}({", ".join(self.columns)}) → '
                f'{self.parent}({", ".join(self.parent_columns)})')


@dataclass
class Dependency:
    kind: str  # equal, order, sum, product
    fk: ForeignKey
    child_columns: list  # the child columns the rule reads
    parent_column: str
    op: str = ''  # for order: '>=' or '<='; for sum: the alternative forms
    forms: list = field(default_factory=list)  # sum: [[C] or [C1, C2], ...]
    real_share: float = float('nan')
    baseline: float = float('nan')
    support: int = 0

    def label(self):
        c, p = self.fk.child, self.fk.parent
        if self.kind == 'equal':
            return f'{c}.{self.child_columns[0]} = {p}.{self.parent_column}'
        if self.kind == 'order':
            return f'{c}.{self.child_columns[0]} {self.op} {p}.{self.parent_column}'
        if self.kind == 'product':
            a, b = self.child_columns
            return f'{c}.{a} = {c}.{b} × {p}.{self.parent_column}'
        forms = ' = '.join('Σ ' + ' × '.join(f'{c}.{x}' for x in form) for form in self.forms)
        return f'{p}.{self.parent_column} = {forms}'


# --- value handling ---------------------------------------------------------------


def as_number(series):
    return pd.to_numeric(series, errors='coerce').astype(float)


def as_time(series):
    return pd.to_datetime(series, errors='coerce', format='mixed')


def as_text(series):
    """Labels compared character for character; 4, 4.0 and '4' are one label."""
    def label(v):
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return None
        if isinstance(v, (float, np.floating)) and float(v).is_integer():
            return str(int(v))
        return str(v)
    return series.map(label).astype(object)


def values(series, kind):
    return {'number': as_number, 'time': as_time}.get(kind, as_text)(series)


def close(a, b):
    """Numbers equal within half a cent (or 1e-9 relative)."""
    return (a - b).abs() <= np.maximum(ABS_TOL, REL_TOL * np.maximum(a.abs(), b.abs()))


def equal_mask(a, b, kind):
    both_null = a.isna() & b.isna()
    if kind == 'number':
        same = close(a, b)
    elif kind == 'time':
        same = a == b
    else:
        same = (a == b)
    return (same.fillna(False) | both_null).to_numpy(dtype=bool)


# --- joins --------------------------------------------------------------------------


def join(child_rows, parent_rows, fk):
    """Child rows with their parent's columns (`parent.` prefix); inner join on
    the foreign key, so rows whose key resolves nowhere drop out (integrity
    counts them)."""
    parent = parent_rows.add_prefix('parent.')
    left = [as_text(child_rows[c]) for c in fk.columns]
    right = [as_text(parent[f'parent.{c}']) for c in fk.parent_columns]
    lk = [f'__k{i}' for i in range(len(left))]
    child = child_rows.assign(**dict(zip(lk, left)))
    parent = parent.assign(**dict(zip(lk, right)))
    parent = parent.drop_duplicates(subset=lk)
    child = child.dropna(subset=lk)
    return child.merge(parent, on=lk, how='inner').drop(columns=lk)


def shuffled(series, rng):
    return pd.Series(rng.permutation(series.to_numpy()), index=series.index)


def child_groups(parent_rows, child_rows, fk):
    """For each parent row (by position) the positions of its child rows."""
    keys = [as_text(parent_rows[c]) for c in fk.parent_columns]
    pkey = list(zip(*keys)) if len(keys) > 1 else list(keys[0])
    ckeys = [as_text(child_rows[c]) for c in fk.columns]
    ckey = list(zip(*ckeys)) if len(ckeys) > 1 else list(ckeys[0])
    where = {}
    for i, k in enumerate(ckey):
        where.setdefault(k, []).append(i)
    return [where.get(k, []) for k in pkey]


# --- discovery ----------------------------------------------------------------------


def column_kinds(columns):
    """SDV sdtype -> the comparison kind: 'number', 'time' or 'text' (keys: None)."""
    kinds = {}
    for name, meta in columns.items():
        sdtype = meta['sdtype']
        if sdtype == 'id':
            continue
        kinds[name] = ('number' if sdtype == 'numerical'
                       else 'time' if sdtype == 'datetime' else 'text')
    return kinds


def discover(real, fks, columns):
    """All dependencies the real tables keep. `real`: {table: DataFrame};
    `columns`: {table: {column: SDV column metadata}}."""
    found = []
    rng = np.random.default_rng(SEED)
    for fk in fks:
        ckinds = column_kinds(columns[fk.child])
        pkinds = column_kinds(columns[fk.parent])
        joined = join(real[fk.child], real[fk.parent], fk)
        if len(joined) < MIN_SUPPORT:
            continue
        perm = rng.permutation(len(joined))

        for cx, ck in ckinds.items():
            for py, pk in pkinds.items():
                if ck != pk:
                    continue
                a = values(joined[cx], ck).reset_index(drop=True)
                b = values(joined[f'parent.{py}'], pk).reset_index(drop=True)
                b_rand = b.iloc[perm].reset_index(drop=True)
                eq = equal_mask(a, b, ck)
                share = eq.mean()
                if share >= EQUAL_SHARE:
                    base = equal_mask(a, b_rand, ck).mean()
                    if base <= EQUAL_BASELINE:
                        found.append(Dependency('equal', fk, [cx], py, real_share=share,
                                                baseline=base, support=len(a)))
                    continue
                if ck in ('number', 'time'):
                    set_ = a.notna() & b.notna()
                    set_rand = a.notna() & b_rand.notna()
                    if set_.sum() < MIN_SUPPORT:
                        continue
                    for op in ('>=', '<='):
                        holds = compare(a[set_], b[set_], op, ck).mean()
                        if holds < ORDER_SHARE:
                            continue
                        base = compare(a[set_rand], b_rand[set_rand], op, ck).mean()
                        if base <= ORDER_BASELINE:
                            found.append(Dependency('order', fk, [cx], py, op=op,
                                                    real_share=holds, baseline=base,
                                                    support=int(set_.sum())))

        numbers_c = [c for c, k in ckinds.items() if k == 'number']
        numbers_p = [c for c, k in pkinds.items() if k == 'number']
        found += discover_sums(real, fk, numbers_c, numbers_p, rng)
        found += discover_products(joined, fk, numbers_c, numbers_p, perm)
    return found


def compare(a, b, op, kind):
    if kind == 'number':
        tol = np.maximum(ABS_TOL, REL_TOL * np.maximum(a.abs(), b.abs()))
        return (a >= b - tol) if op == '>=' else (a <= b + tol)
    return (a >= b) if op == '>=' else (a <= b)


def constant(series):
    return series.dropna().nunique() <= 1


def sum_forms(numbers_c, child):
    """Single columns, then products of two columns where neither is constant
    (a product with a constant factor is a scaled single sum)."""
    forms = [[c] for c in numbers_c]
    varying = [c for c in numbers_c if not constant(as_number(child[c]))]
    forms += [[a, b] for i, a in enumerate(varying) for b in varying[i + 1:]]
    return forms


def form_values(child, form):
    v = as_number(child[form[0]])
    for c in form[1:]:
        v = v * as_number(child[c])
    return v.to_numpy()


def sums_over(groups, per_child):
    out = np.full(len(groups), np.nan)
    for i, g in enumerate(groups):
        if g:
            out[i] = np.nansum(per_child[g])
    return out


def discover_sums(real, fk, numbers_c, numbers_p, rng):
    if not numbers_c or not numbers_p:
        return []
    parent, child = real[fk.parent], real[fk.child]
    groups = child_groups(parent, child, fk)
    has = np.array([bool(g) for g in groups])
    if has.sum() < MIN_SUPPORT:
        return []
    found = []
    for p in numbers_p:
        pv = as_number(parent[p]).to_numpy()[has]
        perm = rng.permutation(len(pv))
        holding = []
        for form in sum_forms(numbers_c, child):
            s = sums_over(groups, form_values(child, form))[has]
            ok = close(pd.Series(pv), pd.Series(s)).to_numpy()
            if ok.mean() >= SUM_SHARE:
                base = close(pd.Series(pv[perm]), pd.Series(s)).mean()
                if base <= EQUAL_BASELINE:
                    holding.append((form, ok.mean(), base))
        if holding:
            forms = [f for f, _, _ in holding]
            found.append(Dependency('sum', fk, sorted({c for f in forms for c in f}), p,
                                    forms=forms, real_share=min(s for _, s, _ in holding),
                                    baseline=max(b for _, _, b in holding),
                                    support=int(has.sum())))
    return found


def discover_products(joined, fk, numbers_c, numbers_p, perm):
    found = []
    for a in numbers_c:
        av = as_number(joined[a]).reset_index(drop=True)
        for b in numbers_c:
            if b == a:
                continue
            bv = as_number(joined[b]).reset_index(drop=True)
            if constant(bv):  # A = k × C: an equality (k = 1) or a ratio, not a product
                continue
            for c in numbers_p:
                cv = as_number(joined[f'parent.{c}']).reset_index(drop=True)
                ok = close(av, bv * cv)
                if ok.mean() < PRODUCT_SHARE:
                    continue
                base = close(av, bv * cv.iloc[perm].reset_index(drop=True)).mean()
                if base <= EQUAL_BASELINE:
                    found.append(Dependency('product', fk, [a, b], c, real_share=ok.mean(),
                                            baseline=base, support=len(av)))
    return found


# --- checking synthetic data --------------------------------------------------------


def check(dep, child_rows, parent_lookup, parent_rows, child_lookup, kinds):
    """(kept, total) for one dependency on synthetic data.

    Row rules (equal, order, product) are checked on `child_rows` joined to
    their parents in `parent_lookup`; sum rules on the parents in
    `parent_rows` that have children in `child_lookup`. For rowsmith the rows
    are its new rows and the lookups the whole table (old rows too), so a new
    row that refers to an old parent is still checked against that parent; for
    SDV both are its sampled tables.
    """
    fk = dep.fk
    if dep.kind == 'sum':
        groups = child_groups(parent_rows, child_lookup, fk)
        has = np.array([bool(g) for g in groups], dtype=bool)
        if not has.any():
            return 0, 0
        pv = pd.Series(as_number(parent_rows[dep.parent_column]).to_numpy()[has])
        ok = np.zeros(int(has.sum()), dtype=bool)
        for form in dep.forms:
            s = pd.Series(sums_over(groups, form_values(child_lookup, form))[has])
            ok |= close(pv, s).fillna(False).to_numpy(dtype=bool)
        return int(ok.sum()), int(has.sum())

    joined = join(child_rows, parent_lookup, fk)
    if len(joined) == 0:
        return 0, 0
    kind = kinds.get(dep.child_columns[0], 'text')
    a = values(joined[dep.child_columns[0]], kind).reset_index(drop=True)
    if dep.kind == 'product':
        b = as_number(joined[dep.child_columns[1]]).reset_index(drop=True)
        c = as_number(joined[f'parent.{dep.parent_column}']).reset_index(drop=True)
        ok = close(as_number(a), b * c).fillna(False)
        return int(ok.sum()), len(ok)
    b = values(joined[f'parent.{dep.parent_column}'], kind).reset_index(drop=True)
    if dep.kind == 'equal':
        ok = equal_mask(a, b, kind)
        return int(ok.sum()), len(ok)
    set_ = a.notna() & b.notna()
    ok = compare(a[set_], b[set_], dep.op, kind)
    return int(ok.sum()), int(set_.sum())
