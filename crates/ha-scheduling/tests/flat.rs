//! The flat-array entry points agree with the typed ones and reject arrays
//! of the wrong shape.

use ha_scheduling::flat::{self, UNKNOWN_NODE};
use ha_scheduling::{kernel, Migration, MigrationCandidate, NodeStats, NodeUsage, ResourceStats};

const GIB: f64 = (1u64 << 30) as f64;

fn sample() -> (Vec<f64>, Vec<u32>, Vec<NodeUsage<u32>>) {
    let stats = vec![
        1.7,
        16.0,
        12.0 * GIB,
        128.0 * GIB, //
        15.184,
        32.0,
        0.5 * GIB,
        96.0 * GIB, //
        5.2,
        24.0,
        9.0 * GIB,
        64.0 * GIB,
    ];
    let keys = vec![0, 1, 2];
    let nodes = stats
        .chunks(4)
        .zip(&keys)
        .map(|(s, &name)| NodeUsage {
            name,
            stats: NodeStats {
                cpu: s[0],
                maxcpu: s[1],
                mem: s[2],
                maxmem: s[3],
            },
        })
        .collect();
    (stats, keys, nodes)
}

#[test]
fn flat_start_scores_and_imbalance_equal_the_typed_ones() {
    let (stats, keys, nodes) = sample();
    let resource = ResourceStats {
        cpu: 0.0,
        maxcpu: 2.0,
        mem: 0.0,
        maxmem: 4.0 * GIB,
    };
    assert_eq!(
        flat::score_nodes_to_start_resource(&stats, &keys, &[0.0, 2.0, 0.0, 4.0 * GIB]).unwrap(),
        kernel::score_nodes_to_start_resource(&nodes, &resource).unwrap()
    );
    assert_eq!(
        flat::node_imbalance(&stats).unwrap(),
        kernel::node_imbalance(&nodes)
    );
}

#[test]
fn flat_migrations_equal_the_typed_ones() {
    let (stats, keys, nodes) = sample();
    let moved = ResourceStats {
        cpu: 0.7,
        maxcpu: 4.0,
        mem: 8.0 * GIB,
        maxmem: 16.0 * GIB,
    };
    // node1 to node2, node1 to node3, and node1 to a node that is gone
    let targets = [1, 2, UNKNOWN_NODE];
    let candidates: Vec<MigrationCandidate<u32>> = targets
        .iter()
        .map(|&target| MigrationCandidate {
            migration: Migration {
                sid: 0,
                source_node: 0,
                target_node: target,
            },
            stats: moved,
        })
        .collect();
    let candidate_stats: Vec<f64> = targets
        .iter()
        .flat_map(|_| [0.7, 4.0, 8.0 * GIB, 16.0 * GIB])
        .collect();
    let candidate_nodes = [0, 1, 0, 2, 0, UNKNOWN_NODE];

    let imbalances =
        flat::migration_imbalances(&stats, &keys, &candidate_stats, &candidate_nodes).unwrap();
    assert_eq!(
        imbalances,
        kernel::migration_imbalances(&nodes, &candidates)
    );
    assert_eq!(imbalances.len(), 3);

    let expected: Vec<f64> = kernel::score_best_balancing_migrations_topsis(&nodes, &candidates, 2)
        .unwrap()
        .iter()
        .flat_map(|s| [s.index as f64, s.imbalance])
        .collect();
    let got = flat::score_best_balancing_migrations_topsis(
        &stats,
        &keys,
        &candidate_stats,
        &candidate_nodes,
        2,
    );
    assert_eq!(got.unwrap(), expected);
    assert_eq!(expected.len(), 4);
}

#[test]
fn arrays_of_the_wrong_shape_are_rejected() {
    let (stats, keys, _) = sample();
    assert_eq!(
        flat::node_imbalance(&stats[..5]).unwrap_err().message(),
        "node stats must hold 4 numbers per record, got 5"
    );
    assert_eq!(
        flat::score_nodes_to_start_resource(&stats, &keys[..2], &[0.0; 4])
            .unwrap_err()
            .message(),
        "expected 3 node keys, got 2"
    );
    assert_eq!(
        flat::score_nodes_to_start_resource(&stats, &keys, &[0.0; 3])
            .unwrap_err()
            .message(),
        "resource stats must hold 4 numbers, got 3"
    );
    assert_eq!(
        flat::migration_imbalances(&stats, &keys, &[0.0; 4], &[1])
            .unwrap_err()
            .message(),
        "expected 2 candidate node keys, got 1"
    );
}
