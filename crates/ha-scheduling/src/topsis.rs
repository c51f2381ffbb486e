//! TOPSIS (technique for order of preference by similarity to the ideal
//! solution): alternatives are rows, criteria are columns; every column is
//! scaled to unit length, and an alternative scores by how far it is from the
//! worst and how near to the best value seen in each column.

use std::cmp::Ordering;

use crate::Error;

/// A criterion with its non-negative weight and direction.
#[derive(Clone, Debug, PartialEq)]
pub struct Criterion {
    pub name: String,
    pub weight: f64,
    /// Whether larger values are better.
    pub maximize: bool,
}

impl Criterion {
    /// A negative weight means smaller values are better.
    pub fn new(name: &str, weight: f64) -> Self {
        let (maximize, weight) = if weight >= 0.0 {
            (true, weight)
        } else {
            (false, -weight)
        };
        Criterion {
            name: name.to_string(),
            weight,
            maximize,
        }
    }
}

/// Criteria whose weights were scaled to sum to one.
#[derive(Clone, Debug, PartialEq)]
pub struct Criteria {
    weights: Vec<f64>,
    maximize: Vec<bool>,
}

impl Criteria {
    pub fn new(criteria: &[Criterion]) -> Result<Self, Error> {
        let mut divisor = 0.0;
        for criterion in criteria {
            divisor += criterion.weight;
        }
        if divisor == 0.0 {
            return Err(Error::new("no criterion has a non-zero weight".to_string()));
        }
        let mut weights = Vec::with_capacity(criteria.len());
        for criterion in criteria {
            let weight = criterion.weight / divisor;
            // NaN and infinities fall outside the range too
            if !(0.0..=1.0).contains(&weight) {
                return Err(Error::new(format!(
                    "criterion '{}' got invalid weight {}",
                    criterion.name, weight
                )));
            }
            weights.push(weight);
        }
        Ok(Criteria {
            weights,
            maximize: criteria.iter().map(|c| c.maximize).collect(),
        })
    }

    pub fn len(&self) -> usize {
        self.weights.len()
    }

    pub fn is_empty(&self) -> bool {
        self.weights.is_empty()
    }

    pub fn weights(&self) -> &[f64] {
        &self.weights
    }
}

/// Alternatives as rows of `width` values, stored row after row.
#[derive(Clone, Debug, PartialEq)]
pub struct Matrix {
    width: usize,
    values: Vec<f64>,
}

impl Matrix {
    /// A matrix of `values.len() / width` rows; `values` must fill whole rows.
    pub fn from_values(width: usize, values: Vec<f64>) -> Self {
        assert!(
            width > 0 && values.len() % width == 0,
            "matrix values do not fill whole rows"
        );
        Matrix { width, values }
    }

    pub fn from_rows<const N: usize>(rows: &[[f64; N]]) -> Self {
        Matrix::from_values(N, rows.iter().flatten().copied().collect())
    }

    pub fn rows(&self) -> usize {
        self.values.len() / self.width
    }

    pub fn width(&self) -> usize {
        self.width
    }

    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// Scales every column to unit Euclidean length. A column that is zero
    /// throughout stays zero. Fails on a value that is not finite afterwards.
    pub fn normalised(mut self) -> Result<Self, Error> {
        let (rows, width) = (self.rows(), self.width);
        for n in 0..width {
            let mut squares = 0.0;
            for r in 0..rows {
                let v = self.values[r * width + n];
                squares += v * v;
            }
            let divisor = squares.sqrt();
            if divisor != 0.0 {
                for r in 0..rows {
                    let v = self.values[r * width + n] / divisor;
                    if !v.is_finite() {
                        return Err(Error::new(format!("criterion {n} got invalid value {v}")));
                    }
                    self.values[r * width + n] = v;
                }
            }
        }
        Ok(self)
    }

    /// Weighted Euclidean distance of row `r` from `ideal`.
    fn distance(&self, r: usize, ideal: &[f64], weights: &[f64]) -> f64 {
        let row = &self.values[r * self.width..(r + 1) * self.width];
        let mut squares = 0.0;
        for n in 0..self.width {
            let v = (row[n] - ideal[n]) * weights[n];
            squares += v * v;
        }
        squares.sqrt()
    }
}

/// Scores of the alternatives of a normalised matrix, from 0 (at the ideal
/// worst) to 1 (at the ideal best); 0 for all when all alternatives are equal.
pub fn score_alternatives(matrix: &Matrix, criteria: &Criteria) -> Result<Vec<f64>, Error> {
    assert_eq!(matrix.width, criteria.len(), "one weight per matrix column");
    let (rows, width) = (matrix.rows(), matrix.width);
    let mut best = vec![0.0; width];
    let mut worst = vec![0.0; width];
    for n in 0..width {
        let (mut min, mut max) = if rows == 0 {
            (f64::NEG_INFINITY, f64::INFINITY)
        } else {
            (matrix.values[n], matrix.values[n])
        };
        for r in 1..rows {
            let v = matrix.values[r * width + n];
            // as Iterator::min_by / max_by: first of equal minima, last of equal maxima
            if v.total_cmp(&min) == Ordering::Less {
                min = v;
            }
            if v.total_cmp(&max) != Ordering::Less {
                max = v;
            }
        }
        (best[n], worst[n]) = if criteria.maximize[n] {
            (max, min)
        } else {
            (min, max)
        };
    }
    let mut scores = Vec::with_capacity(rows);
    for r in 0..rows {
        let to_best = matrix.distance(r, &best, &criteria.weights);
        let to_worst = matrix.distance(r, &worst, &criteria.weights);
        let divisor = to_worst + to_best;
        scores.push(if divisor == 0.0 {
            0.0
        } else {
            to_worst / divisor
        });
    }
    if let Some(score) = scores.iter().find(|score| !score.is_finite()) {
        return Err(Error::new(format!("invalid score {score}")));
    }
    Ok(scores)
}

/// Indices of `scores` from best to worst; equal scores keep their order.
pub fn rank_scores(scores: &[f64]) -> Vec<usize> {
    let mut indices: Vec<usize> = (0..scores.len()).collect();
    indices.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    indices
}

pub fn rank_alternatives(matrix: &Matrix, criteria: &Criteria) -> Result<Vec<usize>, Error> {
    Ok(rank_scores(&score_alternatives(matrix, criteria)?))
}
