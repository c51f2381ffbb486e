//! The cluster resource scheduling kernel of ha-manager.
//!
//! It scores nodes to start a resource on (TOPSIS over CPU and memory load
//! criteria), measures how unbalanced the node loads are, and picks the
//! migrations that balance them best. The TypeScript module
//! `src/core/scheduling/kernel.ts` implements the same functions and must
//! return identical bits, so both do the same floating-point operations in
//! the same order: sums run over the nodes in the order given, squares are
//! written as products, and maxima are comparisons.
//!
//! Node and sid identifiers are generic (`K`): the functions only compare
//! them, for equality (which node a migration touches) and for order (the
//! tie-break between migrations of equal imbalance). The N-API addon passes
//! integer keys for node names and leaves the tie-break, which needs the
//! sid strings, to the JavaScript side (see [`flat`]); Rust callers can pass
//! strings, whose order is the code point order the TypeScript kernel uses.

mod error;
pub mod flat;
pub mod kernel;
pub mod stats;
pub mod topsis;

pub use error::Error;
pub use kernel::{
    migration_imbalances, node_imbalance, score_best_balancing_migrations,
    score_best_balancing_migrations_topsis, score_nodes_to_start_resource, truncate_imbalance,
    Migration, MigrationCandidate, NodeUsage, ScoredCandidate,
};
pub use stats::{NodeStats, ResourceStats};
