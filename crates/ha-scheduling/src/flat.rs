//! The kernel over flat arrays, as the N-API addon receives them from
//! `src/core/scheduling/packed.ts`: stats as four numbers per record (cpu,
//! maxcpu, mem, maxmem) and names as integer keys that compare as the names
//! do. The addon only converts JavaScript values to slices and back.

use crate::kernel::{self, Migration, MigrationCandidate, NodeUsage, ScoredCandidate};
use crate::stats::{NodeStats, ResourceStats};
use crate::Error;

/// Numbers per stats record.
pub const STATS_WIDTH: usize = 4;

fn records(what: &str, values: &[f64]) -> Result<usize, Error> {
    if values.len() % STATS_WIDTH != 0 {
        return Err(Error::new(format!(
            "{what} must hold {STATS_WIDTH} numbers per record, got {}",
            values.len()
        )));
    }
    Ok(values.len() / STATS_WIDTH)
}

fn node_stats(record: &[f64]) -> NodeStats {
    NodeStats {
        cpu: record[0],
        maxcpu: record[1],
        mem: record[2],
        maxmem: record[3],
    }
}

fn resource_stats(record: &[f64]) -> ResourceStats {
    ResourceStats {
        cpu: record[0],
        maxcpu: record[1],
        mem: record[2],
        maxmem: record[3],
    }
}

fn nodes(stats: &[f64], keys: &[u32]) -> Result<Vec<NodeUsage<u32>>, Error> {
    let count = records("node stats", stats)?;
    if keys.len() != count {
        return Err(Error::new(format!(
            "expected {count} node keys, got {}",
            keys.len()
        )));
    }
    Ok(stats
        .chunks_exact(STATS_WIDTH)
        .zip(keys)
        .map(|(record, &name)| NodeUsage {
            name,
            stats: node_stats(record),
        })
        .collect())
}

fn candidates(stats: &[f64], keys: &[u32]) -> Result<Vec<MigrationCandidate<u32>>, Error> {
    let count = records("candidate stats", stats)?;
    if keys.len() != count * 3 {
        return Err(Error::new(format!(
            "expected {} candidate keys, got {}",
            count * 3,
            keys.len()
        )));
    }
    Ok(stats
        .chunks_exact(STATS_WIDTH)
        .zip(keys.chunks_exact(3))
        .map(|(record, key)| MigrationCandidate {
            migration: Migration {
                sid: key[0],
                source_node: key[1],
                target_node: key[2],
            },
            stats: resource_stats(record),
        })
        .collect())
}

/// See [`kernel::node_imbalance`].
pub fn node_imbalance(node_stats: &[f64]) -> Result<f64, Error> {
    records("node stats", node_stats)?;
    let loads: Vec<f64> = node_stats
        .chunks_exact(STATS_WIDTH)
        .map(|record| self::node_stats(record).load())
        .collect();
    Ok(kernel::imbalance_of_loads(&loads))
}

/// Scores in node order; see [`kernel::score_nodes_to_start_resource`].
pub fn score_nodes_to_start_resource(
    node_stats: &[f64],
    node_keys: &[u32],
    resource: &[f64],
) -> Result<Vec<f64>, Error> {
    if resource.len() != STATS_WIDTH {
        return Err(Error::new(format!(
            "resource stats must hold {STATS_WIDTH} numbers, got {}",
            resource.len()
        )));
    }
    kernel::score_nodes_to_start_resource(&nodes(node_stats, node_keys)?, &resource_stats(resource))
}

/// The chosen candidates as pairs of numbers: index, imbalance.
fn pairs(scored: Vec<ScoredCandidate>) -> Vec<f64> {
    scored
        .into_iter()
        .flat_map(|s| [s.index as f64, s.imbalance])
        .collect()
}

/// Best migrations as (candidate index, imbalance) pairs, flattened; by
/// exhaustive search or, with `topsis`, by TOPSIS ranking. See
/// [`kernel::score_best_balancing_migrations`] and
/// [`kernel::score_best_balancing_migrations_topsis`].
pub fn score_best_balancing_migrations(
    node_stats: &[f64],
    node_keys: &[u32],
    candidate_stats: &[f64],
    candidate_keys: &[u32],
    limit: usize,
    topsis: bool,
) -> Result<Vec<f64>, Error> {
    let nodes = nodes(node_stats, node_keys)?;
    let candidates = candidates(candidate_stats, candidate_keys)?;
    Ok(pairs(if topsis {
        kernel::score_best_balancing_migrations_topsis(&nodes, &candidates, limit)?
    } else {
        kernel::score_best_balancing_migrations(&nodes, &candidates, limit)
    }))
}
