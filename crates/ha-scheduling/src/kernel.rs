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

/// Imbalance of the loads: their coefficient of variation divided by its
/// largest possible value, sqrt(n - 1), reached when one node carries all.
pub fn imbalance_of_loads(loads: &[f64]) -> f64 {
    let n = loads.len();
    if n < 2 {
        return 0.0;
    }
    let mut sum = 0.0;
    for &load in loads {
        sum += load;
    }
    if sum == 0.0 {
        return 0.0;
    }
    let count = n as f64;
    let mean = sum / count;
    let mut squares = 0.0;
    for &load in loads {
        let d = load - mean;
        squares += d * d;
    }
    let deviation = (squares / count).sqrt();
    deviation / mean / ((n - 1) as f64).sqrt()
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

/// Writes the usage criteria of one hypothetical cluster state into `row`:
/// 1 + the root mean square and 1 + the maximum of the CPU and of the memory
/// loads. The 1 keeps tiny loads from looking vastly different (0.004 is
/// twice 0.002, but 1.004 is barely more than 1.002).
fn write_alternative(row: &mut [f64], cpu: &[f64], mem: &[f64]) {
    let mut highest_cpu = 0.0;
    let mut squares_cpu = 0.0;
    let mut highest_mem = 0.0;
    let mut squares_mem = 0.0;
    for (&c, &m) in cpu.iter().zip(mem) {
        // comparisons rather than f64::max, to fix the sign of zero maxima
        if c > highest_cpu {
            highest_cpu = c;
        }
        squares_cpu += c * c;
        if m > highest_mem {
            highest_mem = m;
        }
        squares_mem += m * m;
    }
    let count = cpu.len() as f64;
    row[0] = 1.0 + (squares_cpu / count).sqrt();
    row[1] = 1.0 + highest_cpu;
    row[2] = 1.0 + (squares_mem / count).sqrt();
    row[3] = 1.0 + highest_mem;
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
    let base_cpu: Vec<f64> = nodes.iter().map(|node| node.stats.cpu_load()).collect();
    let base_mem: Vec<f64> = nodes.iter().map(|node| node.stats.mem_load()).collect();
    let started: Vec<NodeStats> = nodes
        .iter()
        .map(|node| node.stats.with_started_resource(resource))
        .collect();
    let started_cpu: Vec<f64> = started.iter().map(NodeStats::cpu_load).collect();
    let started_mem: Vec<f64> = started.iter().map(NodeStats::mem_load).collect();

    let mut values = vec![0.0; n * CRITERIA_COUNT];
    let mut cpu = vec![0.0; n];
    let mut mem = vec![0.0; n];
    for (i, row) in values.chunks_exact_mut(CRITERIA_COUNT).enumerate() {
        let name = &nodes[i].name;
        for j in 0..n {
            let here = nodes[j].name == *name;
            cpu[j] = if here { started_cpu[j] } else { base_cpu[j] };
            mem[j] = if here { started_mem[j] } else { base_mem[j] };
        }
        write_alternative(row, &cpu, &mem);
    }
    usage_scores(values)
}

/// The cluster as a base for trying migrations on.
struct MigrationBase<'a, K> {
    nodes: &'a [NodeUsage<K>],
    loads: Vec<f64>,
}

impl<'a, K: PartialEq> MigrationBase<'a, K> {
    fn new(nodes: &'a [NodeUsage<K>]) -> Self {
        MigrationBase {
            nodes,
            loads: nodes.iter().map(|node| node.stats.load()).collect(),
        }
    }

    /// Node `j`'s stats after the candidate moved: taken off its source, put
    /// on its target; `None` for an untouched node.
    #[inline]
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

    fn imbalance_after(&self, candidate: &MigrationCandidate<K>, loads: &mut [f64]) -> f64 {
        for (j, load) in loads.iter_mut().enumerate() {
            *load = match self.migrated(j, candidate) {
                Some(stats) => stats.load(),
                None => self.loads[j],
            };
        }
        truncate_imbalance(imbalance_of_loads(loads))
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

/// The `limit` candidates that leave the smallest node imbalance, smallest
/// first; equal imbalances are ordered by migration. Candidates whose nodes
/// are unknown simply change nothing there.
pub fn score_best_balancing_migrations<K: Ord>(
    nodes: &[NodeUsage<K>],
    candidates: &[MigrationCandidate<K>],
    limit: usize,
) -> Vec<ScoredCandidate> {
    let base = MigrationBase::new(nodes);
    let mut loads = vec![0.0; nodes.len()];
    let mut scored: Vec<ScoredCandidate> = candidates
        .iter()
        .enumerate()
        .map(|(index, candidate)| ScoredCandidate {
            index,
            imbalance: base.imbalance_after(candidate, &mut loads),
        })
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
    let n = nodes.len();
    let base_cpu: Vec<f64> = nodes.iter().map(|node| node.stats.cpu_load()).collect();
    let base_mem: Vec<f64> = nodes.iter().map(|node| node.stats.mem_load()).collect();
    let mut values = vec![0.0; candidates.len() * CRITERIA_COUNT];
    let mut cpu = vec![0.0; n];
    let mut mem = vec![0.0; n];
    for (candidate, row) in candidates
        .iter()
        .zip(values.chunks_exact_mut(CRITERIA_COUNT))
    {
        for j in 0..n {
            (cpu[j], mem[j]) = match base.migrated(j, candidate) {
                Some(stats) => (stats.cpu_load(), stats.mem_load()),
                None => (base_cpu[j], base_mem[j]),
            };
        }
        write_alternative(row, &cpu, &mem);
    }
    let ranking = rank_scores(&usage_scores(values)?);
    let mut loads = vec![0.0; n];
    Ok(ranking
        .into_iter()
        .take(limit)
        .map(|index| ScoredCandidate {
            index,
            imbalance: base.imbalance_after(&candidates[index], &mut loads),
        })
        .collect())
}
