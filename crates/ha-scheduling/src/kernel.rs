//! Node scoring for starting a resource, node imbalance, and scoring of
//! load-balancing migrations.

use std::cmp::Ordering;
use std::sync::OnceLock;

use crate::stats::{NodeStats, ResourceStats};
use crate::topsis::{rank_scores, score_alternatives, Criteria, Criterion, Matrix};
use crate::Error;

/// A node as the scheduler sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeUsage<K> {
    pub name: K,
    pub stats: NodeStats,
}

/// A possible migration; ordered by sid, then source, then target.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Migration<K> {
    pub sid: K,
    pub source_node: K,
    pub target_node: K,
}

/// A possible migration and the usage of everything that moves with it.
#[derive(Clone, Debug, PartialEq)]
pub struct MigrationCandidate<K> {
    pub migration: Migration<K>,
    pub stats: ResourceStats,
}

/// A chosen candidate, by its index in the candidates given, and the node
/// imbalance after its migration, truncated by [`truncate_imbalance`].
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct ScoredCandidate {
    pub index: usize,
    pub imbalance: f64,
}

const CRITERIA_COUNT: usize = 4;

/// Spread of node usage that placement avoids: peaks weigh more than
/// averages, and memory more than CPU, since memory cannot be overcommitted
/// safely.
pub fn usage_criteria() -> &'static Criteria {
    static CRITERIA: OnceLock<Criteria> = OnceLock::new();
    CRITERIA.get_or_init(|| {
        Criteria::new(&[
            Criterion::new("average CPU", -1.0),
            Criterion::new("highest CPU", -2.0),
            Criterion::new("average memory", -5.0),
            Criterion::new("highest memory", -10.0),
        ])
        .expect("the usage criteria have valid weights")
    })
}

/// Alternatives evaluated side by side: every pass over the nodes serves
/// this many, so that their sums, each still added in node order, form
/// independent chains the processor overlaps instead of waiting on one.
const LANES: usize = 4;

/// The lanes of the block of alternatives starting at `first`, out of
/// `count`; lanes past the end repeat the last alternative, their results
/// unused.
fn lanes(first: usize, count: usize) -> [usize; LANES] {
    std::array::from_fn(|k| (first + k).min(count - 1))
}

/// Imbalance of the loads: their coefficient of variation (standard
/// deviation over mean). It is not scaled to 0..1 by its largest possible
/// value, sqrt(n - 1): the reference HA manager's thresholds, margins and
/// logged figures are in the unscaled measure.
pub fn imbalance_of_loads(loads: &[f64]) -> f64 {
    imbalances(loads.len(), |_, j| loads[j])[0]
}

/// [`imbalance_of_loads`] for `LANES` sets of `n` loads at once; lane `k`'s
/// load of node `j` is `load(k, j)`.
#[inline(always)]
fn imbalances(n: usize, load: impl Fn(usize, usize) -> f64) -> [f64; LANES] {
    if n < 2 {
        return [0.0; LANES];
    }
    let mut sum = [0.0; LANES];
    for j in 0..n {
        for (k, sum) in sum.iter_mut().enumerate() {
            *sum += load(k, j);
        }
    }
    let count = n as f64;
    let mean: [f64; LANES] = std::array::from_fn(|k| sum[k] / count);
    let mut squares = [0.0; LANES];
    for j in 0..n {
        for (k, squares) in squares.iter_mut().enumerate() {
            let d = load(k, j) - mean[k];
            *squares += d * d;
        }
    }
    std::array::from_fn(|k| {
        if sum[k] == 0.0 {
            0.0
        } else {
            (squares[k] / count).sqrt() / mean[k]
        }
    })
}

/// Drops the digits below the 15 significant decimals an f64 holds, so that
/// imbalances equal but for rounding noise compare equal and the tie-break
/// on the migration decides.
pub fn truncate_imbalance(imbalance: f64) -> f64 {
    (1e15 * imbalance).trunc() / 1e15
}

/// Dispersion of the node loads, from 0 (even) to 1 (all load on one node).
pub fn node_imbalance<K>(nodes: &[NodeUsage<K>]) -> f64 {
    let loads: Vec<f64> = nodes.iter().map(|node| node.stats.load()).collect();
    imbalance_of_loads(&loads)
}

/// The usage criteria of `LANES` hypothetical cluster states of `n` nodes,
/// lane `k`'s (CPU, memory) load of node `j` being `loads(k, j)`: 1 + the
/// root mean square and 1 + the maximum of the CPU and of the memory loads.
/// The 1 keeps tiny loads from looking vastly different (0.004 is twice
/// 0.002, but 1.004 is barely more than 1.002).
#[inline(always)]
fn alternatives(
    n: usize,
    loads: impl Fn(usize, usize) -> (f64, f64),
) -> [[f64; CRITERIA_COUNT]; LANES] {
    let mut highest_cpu = [0.0; LANES];
    let mut squares_cpu = [0.0; LANES];
    let mut highest_mem = [0.0; LANES];
    let mut squares_mem = [0.0; LANES];
    for j in 0..n {
        for k in 0..LANES {
            let (c, m) = loads(k, j);
            // comparisons rather than f64::max, to fix the sign of zero maxima
            if c > highest_cpu[k] {
                highest_cpu[k] = c;
            }
            squares_cpu[k] += c * c;
            if m > highest_mem[k] {
                highest_mem[k] = m;
            }
            squares_mem[k] += m * m;
        }
    }
    let count = n as f64;
    std::array::from_fn(|k| {
        [
            1.0 + (squares_cpu[k] / count).sqrt(),
            1.0 + highest_cpu[k],
            1.0 + (squares_mem[k] / count).sqrt(),
            1.0 + highest_mem[k],
        ]
    })
}

/// Fills the matrix rows of `count` alternatives, a block of lanes at a time.
fn fill_alternatives(
    count: usize,
    n: usize,
    loads: impl Fn(usize, usize) -> (f64, f64),
) -> Vec<f64> {
    let mut values = vec![0.0; count * CRITERIA_COUNT];
    for first in (0..count).step_by(LANES) {
        let lane = lanes(first, count);
        let rows = alternatives(n, |k, j| loads(lane[k], j));
        for (k, row) in rows.iter().enumerate().take(count - first) {
            let at = (first + k) * CRITERIA_COUNT;
            values[at..at + CRITERIA_COUNT].copy_from_slice(row);
        }
    }
    values
}

fn usage_scores(values: Vec<f64>) -> Result<Vec<f64>, Error> {
    let matrix = Matrix::from_values(CRITERIA_COUNT, values).normalised()?;
    score_alternatives(&matrix, usage_criteria())
}

/// Scores, in node order, for starting a resource on each node: as if it
/// were started there with its limits. Higher is better, from 0 to 1. Nodes
/// sharing a name are treated as one.
pub fn score_nodes_to_start_resource<K: PartialEq>(
    nodes: &[NodeUsage<K>],
    resource: &ResourceStats,
) -> Result<Vec<f64>, Error> {
    let n = nodes.len();
    let base: Vec<(f64, f64)> = nodes
        .iter()
        .map(|node| (node.stats.cpu_load(), node.stats.mem_load()))
        .collect();
    let started: Vec<(f64, f64)> = nodes
        .iter()
        .map(|node| {
            let stats = node.stats.with_started_resource(resource);
            (stats.cpu_load(), stats.mem_load())
        })
        .collect();
    let values = fill_alternatives(n, n, |i, j| {
        if nodes[j].name == nodes[i].name {
            started[j]
        } else {
            base[j]
        }
    });
    usage_scores(values)
}

/// The cluster as a base for trying migrations on.
struct MigrationBase<'a, K> {
    nodes: &'a [NodeUsage<K>],
    /// Per node: CPU load, memory load, load.
    loads: Vec<(f64, f64, f64)>,
}

impl<'a, K: PartialEq> MigrationBase<'a, K> {
    fn new(nodes: &'a [NodeUsage<K>]) -> Self {
        MigrationBase {
            nodes,
            loads: nodes
                .iter()
                .map(|node| {
                    (
                        node.stats.cpu_load(),
                        node.stats.mem_load(),
                        node.stats.load(),
                    )
                })
                .collect(),
        }
    }

    /// Node `j`'s stats after the candidate moved: taken off its source, put
    /// on its target; `None` for an untouched node.
    #[inline(always)]
    fn migrated(&self, j: usize, candidate: &MigrationCandidate<K>) -> Option<NodeStats> {
        let node = &self.nodes[j];
        if node.name == candidate.migration.source_node {
            Some(node.stats.without_running_resource(&candidate.stats))
        } else if node.name == candidate.migration.target_node {
            Some(node.stats.with_running_resource(&candidate.stats))
        } else {
            None
        }
    }

    #[inline(always)]
    fn load_after(&self, j: usize, candidate: &MigrationCandidate<K>) -> f64 {
        match self.migrated(j, candidate) {
            Some(stats) => stats.load(),
            None => self.loads[j].2,
        }
    }

    /// Truncated imbalances after the migration of each of `chosen`.
    fn imbalances_after(&self, candidates: &[MigrationCandidate<K>], chosen: &[usize]) -> Vec<f64> {
        let mut result = Vec::with_capacity(chosen.len());
        for first in (0..chosen.len()).step_by(LANES) {
            let lane = lanes(first, chosen.len()).map(|k| &candidates[chosen[k]]);
            let block = imbalances(self.nodes.len(), |k, j| self.load_after(j, lane[k]));
            let valid = LANES.min(chosen.len() - first);
            result.extend(
                block[..valid]
                    .iter()
                    .map(|&imbalance| truncate_imbalance(imbalance)),
            );
        }
        result
    }
}

fn compare_scored<K: Ord>(
    candidates: &[MigrationCandidate<K>],
    a: &ScoredCandidate,
    b: &ScoredCandidate,
) -> Ordering {
    a.imbalance.total_cmp(&b.imbalance).then_with(|| {
        candidates[a.index]
            .migration
            .cmp(&candidates[b.index].migration)
    })
}

/// The node imbalance after each candidate's migration, truncated by
/// [`truncate_imbalance`], in candidate order. A node name a candidate gives
/// that is not among `nodes` changes nothing.
pub fn migration_imbalances<K: PartialEq>(
    nodes: &[NodeUsage<K>],
    candidates: &[MigrationCandidate<K>],
) -> Vec<f64> {
    let all: Vec<usize> = (0..candidates.len()).collect();
    MigrationBase::new(nodes).imbalances_after(candidates, &all)
}

/// The `limit` candidates that leave the smallest node imbalance, smallest
/// first; equal imbalances are ordered by migration.
pub fn score_best_balancing_migrations<K: Ord>(
    nodes: &[NodeUsage<K>],
    candidates: &[MigrationCandidate<K>],
    limit: usize,
) -> Vec<ScoredCandidate> {
    let mut scored: Vec<ScoredCandidate> = migration_imbalances(nodes, candidates)
        .into_iter()
        .enumerate()
        .map(|(index, imbalance)| ScoredCandidate { index, imbalance })
        .collect();
    let compare = |a: &ScoredCandidate, b: &ScoredCandidate| compare_scored(candidates, a, b);
    // Candidates comparing equal have the same migration and imbalance, so
    // which of them is kept does not show in the result.
    if limit < scored.len() {
        if limit == 0 {
            return Vec::new();
        }
        scored.select_nth_unstable_by(limit - 1, compare);
        scored.truncate(limit);
    }
    scored.sort_unstable_by(compare);
    scored
}

/// The `limit` candidates ranked best by TOPSIS over the usage criteria,
/// best first, with the node imbalance each leaves.
pub fn score_best_balancing_migrations_topsis<K: PartialEq>(
    nodes: &[NodeUsage<K>],
    candidates: &[MigrationCandidate<K>],
    limit: usize,
) -> Result<Vec<ScoredCandidate>, Error> {
    let base = MigrationBase::new(nodes);
    let values = fill_alternatives(candidates.len(), nodes.len(), |c, j| {
        match base.migrated(j, &candidates[c]) {
            Some(stats) => (stats.cpu_load(), stats.mem_load()),
            None => (base.loads[j].0, base.loads[j].1),
        }
    });
    let chosen: Vec<usize> = rank_scores(&usage_scores(values)?)
        .into_iter()
        .take(limit)
        .collect();
    let imbalances = base.imbalances_after(candidates, &chosen);
    Ok(chosen
        .into_iter()
        .zip(imbalances)
        .map(|(index, imbalance)| ScoredCandidate { index, imbalance })
        .collect())
}
