//! The scheduling kernel (crate ha-scheduling) over typed arrays. The
//! layout is made by src/core/scheduling/packed.ts: stats as four numbers per
//! record, names as integer keys; src/native/scoring-kernel.ts wraps these
//! functions as a ScoringKernel.

use crate::napi::{Args, Env, Error, Exports, Result, Value};
use ha_scheduling::flat;

pub fn register(exports: &Exports) -> Result<()> {
    exports.function("schedulingNodeImbalance", node_imbalance)?;
    exports.function(
        "schedulingScoreNodesToStartResource",
        score_nodes_to_start_resource,
    )?;
    exports.function(
        "schedulingScoreBestBalancingMigrations",
        score_best_balancing_migrations,
    )
}

/// Kernel errors carry the reference's texts; they are thrown as they are.
fn thrown(error: ha_scheduling::Error) -> Error {
    Error::new(error.message())
}

fn node_imbalance(env: Env, args: &Args) -> Result<Value> {
    let node_stats = env.to_f64_vec(args.get(0), "nodeStats")?;
    env.number(flat::node_imbalance(&node_stats).map_err(thrown)?)
}

fn score_nodes_to_start_resource(env: Env, args: &Args) -> Result<Value> {
    let node_stats = env.to_f64_vec(args.get(0), "nodeStats")?;
    let node_keys = env.to_u32_vec(args.get(1), "nodeKeys")?;
    let resource = env.to_f64_vec(args.get(2), "resource")?;
    let scores =
        flat::score_nodes_to_start_resource(&node_stats, &node_keys, &resource).map_err(thrown)?;
    env.float64_array(&scores)
}

fn score_best_balancing_migrations(env: Env, args: &Args) -> Result<Value> {
    let node_stats = env.to_f64_vec(args.get(0), "nodeStats")?;
    let node_keys = env.to_u32_vec(args.get(1), "nodeKeys")?;
    let candidate_stats = env.to_f64_vec(args.get(2), "candidateStats")?;
    let candidate_keys = env.to_u32_vec(args.get(3), "candidateKeys")?;
    let limit = usize::try_from(env.to_u64(args.get(4), "limit")?).unwrap_or(usize::MAX);
    let topsis = env.to_bool(args.get(5), "topsis")?;
    let pairs = flat::score_best_balancing_migrations(
        &node_stats,
        &node_keys,
        &candidate_stats,
        &candidate_keys,
        limit,
        topsis,
    )
    .map_err(thrown)?;
    env.float64_array(&pairs)
}
