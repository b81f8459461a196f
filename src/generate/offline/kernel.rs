//! The kernel step that moves a number away from its anchor: its scale
//! (log for skewed positive columns), the values it never moves (point
//! masses such as a 0 that half the rows hold), and correlated steps across
//! columns so that columns that move together keep doing so.

use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

/// How a numeric column's values are spread.
#[derive(Debug, Clone, PartialEq)]
pub struct NumberShape {
    /// Positive and right-skewed: step in log space, so cheap items stay
    /// cheap and expensive ones move by as much in proportion.
    pub log: bool,
    /// Values many rows share exactly; an anchor holding one keeps it.
    pub masses: Vec<f64>,
    /// Fractions are a few repeated endings (.99, .95, .00): keep the anchor's.
    pub keep_fraction: bool,
}

/// A value shared by at least this share of the rows is kept exactly.
const MASS_SHARE: f64 = 0.05;

pub fn shape_of(values: &[f64]) -> NumberShape {
    let n = values.len();
    if n == 0 {
        return NumberShape {
            log: false,
            masses: Vec::new(),
            keep_fraction: false,
        };
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mut masses = Vec::new();
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j < n && sorted[j] == sorted[i] {
            j += 1;
        }
        if (j - i) >= 3 && (j - i) as f64 >= MASS_SHARE * n as f64 {
            masses.push(sorted[i]);
        }
        i = j;
    }
    let positive = sorted[0] > 0.0;
    let log = positive && skewness(values) > 1.0;
    // Fractional endings, in hundredths: concentrated on a few values?
    let fractional: Vec<i64> = values
        .iter()
        .filter(|v| v.fract() != 0.0)
        .map(|v| ((v.fract().abs() * 100.0).round()) as i64)
        .collect();
    let keep_fraction = fractional.len() * 2 >= n && {
        let mut counts = std::collections::BTreeMap::new();
        for f in &fractional {
            *counts.entry(*f).or_insert(0usize) += 1;
        }
        let mut top: Vec<usize> = counts.into_values().collect();
        top.sort_unstable_by(|a, b| b.cmp(a));
        top.iter().take(3).sum::<usize>() * 10 >= fractional.len() * 6
    };
    NumberShape {
        log,
        masses,
        keep_fraction,
    }
}

fn skewness(values: &[f64]) -> f64 {
    let n = values.len() as f64;
    if n < 3.0 {
        return 0.0;
    }
    let mean = values.iter().sum::<f64>() / n;
    let m2 = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    let m3 = values.iter().map(|v| (v - mean).powi(3)).sum::<f64>() / n;
    if m2 <= 0.0 { 0.0 } else { m3 / m2.powf(1.5) }
}

pub fn forward(v: f64, log: bool) -> f64 {
    if log {
        v.max(f64::MIN_POSITIVE).ln()
    } else {
        v
    }
}

pub fn back(t: f64, log: bool) -> f64 {
    if log { t.exp() } else { t }
}

/// Folds a value that stepped past a bound back inside, so the edges keep
/// their density instead of piling up on the bound.
pub fn reflect(t: f64, lo: f64, hi: f64) -> f64 {
    // Also catches NaN bounds.
    if hi.partial_cmp(&lo) != Some(std::cmp::Ordering::Greater) {
        return lo;
    }
    let mut t = t;
    for _ in 0..4 {
        if t < lo {
            t = lo + (lo - t);
        } else if t > hi {
            t = hi - (t - hi);
        } else {
            return t;
        }
    }
    t.clamp(lo, hi)
}

/// Standard normal steps for several columns at once, correlated as the
/// columns are in the table (a multivariate kernel).
#[derive(Debug, Clone, PartialEq)]
pub struct Correlated {
    /// Lower-triangular Cholesky factor of the columns' correlation matrix.
    factor: Vec<Vec<f64>>,
}

impl Correlated {
    /// `columns[k][row]` holds column k's (transformed) value in each row.
    pub fn learn(columns: &[Vec<Option<f64>>]) -> Self {
        let k = columns.len();
        let mut corr = vec![vec![0.0; k]; k];
        for a in 0..k {
            corr[a][a] = 1.0;
            for b in 0..a {
                let r = pearson(&columns[a], &columns[b]);
                corr[a][b] = r;
                corr[b][a] = r;
            }
        }
        // Shrink towards independence until the matrix factors.
        for _ in 0..20 {
            if let Some(factor) = cholesky(&corr) {
                return Self { factor };
            }
            for (a, row) in corr.iter_mut().enumerate() {
                for (b, v) in row.iter_mut().enumerate() {
                    if a != b {
                        *v *= 0.9;
                    }
                }
            }
        }
        Self {
            factor: (0..k)
                .map(|a| (0..k).map(|b| if a == b { 1.0 } else { 0.0 }).collect())
                .collect(),
        }
    }

    #[cfg(test)]
    pub fn draw<R: Rng + ?Sized>(&self, rng: &mut R) -> Vec<f64> {
        let (mut noise, mut out) = (Vec::new(), Vec::new());
        self.draw_into(rng, &mut noise, &mut out);
        out
    }

    /// [`draw`](Self::draw) into buffers the caller keeps between rows.
    pub fn draw_into<R: Rng + ?Sized>(
        &self,
        rng: &mut R,
        noise: &mut Vec<f64>,
        out: &mut Vec<f64>,
    ) {
        let k = self.factor.len();
        noise.clear();
        noise.extend((0..k).map(|_| -> f64 { StandardNormal.sample(rng) }));
        out.clear();
        out.extend((0..k).map(|a| (0..=a).map(|b| self.factor[a][b] * noise[b]).sum::<f64>()));
    }
}

fn pearson(a: &[Option<f64>], b: &[Option<f64>]) -> f64 {
    let pairs: Vec<(f64, f64)> = a
        .iter()
        .zip(b)
        .filter_map(|(x, y)| Some(((*x)?, (*y)?)))
        .collect();
    let n = pairs.len() as f64;
    if n < 3.0 {
        return 0.0;
    }
    let (mx, my) = (
        pairs.iter().map(|p| p.0).sum::<f64>() / n,
        pairs.iter().map(|p| p.1).sum::<f64>() / n,
    );
    let sxy: f64 = pairs.iter().map(|(x, y)| (x - mx) * (y - my)).sum();
    let sxx: f64 = pairs.iter().map(|(x, _)| (x - mx).powi(2)).sum();
    let syy: f64 = pairs.iter().map(|(_, y)| (y - my).powi(2)).sum();
    if sxx <= 0.0 || syy <= 0.0 {
        0.0
    } else {
        (sxy / (sxx * syy).sqrt()).clamp(-0.999, 0.999)
    }
}

fn cholesky(m: &[Vec<f64>]) -> Option<Vec<Vec<f64>>> {
    let k = m.len();
    let mut l = vec![vec![0.0; k]; k];
    for i in 0..k {
        for j in 0..=i {
            let sum: f64 = (0..j).map(|p| l[i][p] * l[j][p]).sum();
            if i == j {
                let d = m[i][i] - sum;
                if d <= 1e-9 {
                    return None;
                }
                l[i][j] = d.sqrt();
            } else {
                l[i][j] = (m[i][j] - sum) / l[j][j];
            }
        }
    }
    Some(l)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn finds_masses_skew_and_price_endings() {
        let rain = [0.0, 0.0, 0.0, 0.0, 0.0, 0.3, 1.2, 5.6, 0.0, 0.0, 2.0, 0.0];
        assert_eq!(shape_of(&rain).masses, vec![0.0]);
        let prices = [
            9.99, 19.99, 4.99, 29.95, 14.99, 199.99, 7.99, 12.99, 24.99, 399.0,
        ];
        let shape = shape_of(&prices);
        assert!(shape.log && shape.keep_fraction);
        assert!(!shape_of(&[1.0, 2.0, 3.0, 4.0, 5.0]).log);
    }

    #[test]
    fn reflection_stays_inside() {
        assert_eq!(reflect(-1.0, 0.0, 10.0), 1.0);
        assert_eq!(reflect(12.0, 0.0, 10.0), 8.0);
        assert_eq!(reflect(5.0, 0.0, 10.0), 5.0);
    }

    #[test]
    fn correlated_steps_follow_the_data() {
        let x: Vec<Option<f64>> = (0..50).map(|i| Some(i as f64)).collect();
        let y: Vec<Option<f64>> = (0..50)
            .map(|i| Some(2.0 * i as f64 + (i % 3) as f64))
            .collect();
        let kernel = Correlated::learn(&[x, y]);
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let draws: Vec<Vec<f64>> = (0..2000).map(|_| kernel.draw(&mut rng)).collect();
        let a: Vec<Option<f64>> = draws.iter().map(|d| Some(d[0])).collect();
        let b: Vec<Option<f64>> = draws.iter().map(|d| Some(d[1])).collect();
        assert!(pearson(&a, &b) > 0.9);
    }
}
