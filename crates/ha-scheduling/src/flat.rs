//! The kernel over flat arrays, as the N-API addon receives them from
//! `src/core/scheduling/packed.ts`: stats as four numbers per record (cpu,
//! maxcpu, mem, maxmem), node names as integer keys equal where the names
//! are, and a candidate's source and target as the keys of those names
//! ([`UNKNOWN_NODE`] for a name no node has). Sids do not cross: exhaustive
//! search returns every candidate's imbalance and the caller picks the best
//! with its string tie-break; TOPSIS breaks ties by candidate order.

use crate::kernel::{self, Migration, MigrationCandidate, NodeUsage};
use crate::stats::{NodeStats, ResourceStats};
use crate::Error;

/// Numbers per stats record.
pub const STATS_WIDTH: usize = 4;

/// The key of a node name that is not among the nodes.
pub const UNKNOWN_NODE: u32 = u32::MAX;

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

/// Candidates keyed by their source and target node keys; their sids are
/// not needed here and all read as 0.
fn candidates(stats: &[f64], nodes: &[u32]) -> Result<Vec<MigrationCandidate<u32>>, Error> {
    let count = records("candidate stats", stats)?;
    if nodes.len() != count * 2 {
        return Err(Error::new(format!(
            "expected {} candidate node keys, got {}",
            count * 2,
            nodes.len()
        )));
    }
    Ok(stats
        .chunks_exact(STATS_WIDTH)
        .zip(nodes.chunks_exact(2))
        .map(|(record, keys)| MigrationCandidate {
            migration: Migration {
                sid: 0,
                source_node: keys[0],
                target_node: keys[1],
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

/// Each candidate's imbalance after migrating; see
/// [`kernel::migration_imbalances`].
pub fn migration_imbalances(
    node_stats: &[f64],
    node_keys: &[u32],
    candidate_stats: &[f64],
    candidate_nodes: &[u32],
) -> Result<Vec<f64>, Error> {
    Ok(kernel::migration_imbalances(
        &nodes(node_stats, node_keys)?,
        &candidates(candidate_stats, candidate_nodes)?,
    ))
}

/// The best migrations by TOPSIS as (candidate index, imbalance) pairs,
/// flattened; see [`kernel::score_best_balancing_migrations_topsis`].
pub fn score_best_balancing_migrations_topsis(
    node_stats: &[f64],
    node_keys: &[u32],
    candidate_stats: &[f64],
    candidate_nodes: &[u32],
    limit: usize,
) -> Result<Vec<f64>, Error> {
    let scored = kernel::score_best_balancing_migrations_topsis(
        &nodes(node_stats, node_keys)?,
        &candidates(candidate_stats, candidate_nodes)?,
        limit,
    )?;
    Ok(scored
        .into_iter()
        .flat_map(|s| [s.index as f64, s.imbalance])
        .collect())
}
