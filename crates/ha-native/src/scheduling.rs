//! The scheduling kernel (crate ha-scheduling) over typed arrays. The
//! layout is made by src/core/scheduling/packed.ts: stats as four numbers per
//! record, node names as integer keys; src/native/scoring-kernel.ts wraps
//! these functions as a ScoringKernel.

use ha_napi::{Args, Env, Error, Exports, Result, Value};
use ha_scheduling::flat;

pub fn register(exports: &Exports) -> Result<()> {
    exports.function("schedulingNodeImbalance", node_imbalance)?;
    exports.function(
        "schedulingScoreNodesToStartResource",
        score_nodes_to_start_resource,
    )?;
    exports.function("schedulingMigrationImbalances", migration_imbalances)?;
    exports.function(
        "schedulingScoreBestBalancingMigrationsTopsis",
        score_best_balancing_migrations_topsis,
    )
}

/// Kernel errors carry the reference's texts; they are thrown as they are.
fn thrown(error: ha_scheduling::Error) -> Error {
    Error::new(error.message())
}

/// The node and candidate arrays every migration function takes first.
struct Migrations {
    node_stats: Vec<f64>,
    node_keys: Vec<u32>,
    candidate_stats: Vec<f64>,
    candidate_nodes: Vec<u32>,
}

fn migrations(env: Env, args: &Args) -> Result<Migrations> {
    Ok(Migrations {
        node_stats: env.typed_vec::<f64>(args.get(0), "nodeStats")?,
        node_keys: env.typed_vec::<u32>(args.get(1), "nodeKeys")?,
        candidate_stats: env.typed_vec::<f64>(args.get(2), "candidateStats")?,
        candidate_nodes: env.typed_vec::<u32>(args.get(3), "candidateNodes")?,
    })
}

fn node_imbalance<'e>(env: Env<'e>, args: &Args<'e>) -> Result<Value<'e>> {
    let node_stats = env.typed_vec::<f64>(args.get(0), "nodeStats")?;
    env.number(flat::node_imbalance(&node_stats).map_err(thrown)?)
}

fn score_nodes_to_start_resource<'e>(env: Env<'e>, args: &Args<'e>) -> Result<Value<'e>> {
    let node_stats = env.typed_vec::<f64>(args.get(0), "nodeStats")?;
    let node_keys = env.typed_vec::<u32>(args.get(1), "nodeKeys")?;
    let resource = env.typed_vec::<f64>(args.get(2), "resource")?;
    let scores =
        flat::score_nodes_to_start_resource(&node_stats, &node_keys, &resource).map_err(thrown)?;
    env.typed_array(&scores)
}

fn migration_imbalances<'e>(env: Env<'e>, args: &Args<'e>) -> Result<Value<'e>> {
    let m = migrations(env, args)?;
    let imbalances = flat::migration_imbalances(
        &m.node_stats,
        &m.node_keys,
        &m.candidate_stats,
        &m.candidate_nodes,
    )
    .map_err(thrown)?;
    env.typed_array(&imbalances)
}

fn score_best_balancing_migrations_topsis<'e>(env: Env<'e>, args: &Args<'e>) -> Result<Value<'e>> {
    let m = migrations(env, args)?;
    let limit = usize::try_from(env.to_u64(args.get(4), "limit")?).unwrap_or(usize::MAX);
    let pairs = flat::score_best_balancing_migrations_topsis(
        &m.node_stats,
        &m.node_keys,
        &m.candidate_stats,
        &m.candidate_nodes,
        limit,
    )
    .map_err(thrown)?;
    env.typed_array(&pairs)
}
