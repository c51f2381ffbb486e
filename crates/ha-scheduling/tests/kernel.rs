//! Scheduling scenarios: three-node clusters, alike and unlike in size,
//! scored for starting resources and for balancing migrations.

use ha_scheduling::{
    node_imbalance, score_best_balancing_migrations, score_best_balancing_migrations_topsis,
    score_nodes_to_start_resource, truncate_imbalance, Migration, MigrationCandidate, NodeStats,
    NodeUsage, ResourceStats,
};

const MIB: f64 = (1u64 << 20) as f64;
const GIB: f64 = (1u64 << 30) as f64;

fn node(
    name: &'static str,
    cpu: f64,
    maxcpu: f64,
    mem: f64,
    maxmem: f64,
) -> NodeUsage<&'static str> {
    NodeUsage {
        name,
        stats: NodeStats {
            cpu,
            maxcpu,
            mem,
            maxmem,
        },
    }
}

/// Same hardware everywhere, unevenly used.
fn alike() -> Vec<NodeUsage<&'static str>> {
    vec![
        node("node1", 1.7, 16.0, 12334.0 * MIB, 64.0 * GIB),
        node("node2", 15.184, 16.0, 529.0 * MIB, 64.0 * GIB),
        node("node3", 5.2, 16.0, 9381.0 * MIB, 64.0 * GIB),
    ]
}

/// The same usage on nodes of different sizes.
fn unlike() -> Vec<NodeUsage<&'static str>> {
    vec![
        node("node1", 1.7, 16.0, 12334.0 * MIB, 128.0 * GIB),
        node("node2", 15.184, 32.0, 529.0 * MIB, 96.0 * GIB),
        node("node3", 5.2, 24.0, 9381.0 * MIB, 64.0 * GIB),
    ]
}

fn resource(cpu: f64, maxcpu: f64, mem: f64, maxmem: f64) -> ResourceStats {
    ResourceStats {
        cpu,
        maxcpu,
        mem,
        maxmem,
    }
}

fn start_order(nodes: &[NodeUsage<&'static str>], stats: ResourceStats) -> Vec<&'static str> {
    let scores = score_nodes_to_start_resource(nodes, &stats).unwrap();
    let mut order: Vec<usize> = (0..nodes.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    order.into_iter().map(|i| nodes[i].name).collect()
}

fn migration(
    sid: &'static str,
    source: &'static str,
    target: &'static str,
) -> Migration<&'static str> {
    Migration {
        sid,
        source_node: source,
        target_node: target,
    }
}

/// vm:101 on node1, to go to node2 or node3.
fn vm101_candidates() -> Vec<MigrationCandidate<&'static str>> {
    let stats = resource(0.7, 4.0, 8.0 * GIB, 16.0 * GIB);
    vec![
        MigrationCandidate {
            migration: migration("vm:101", "node1", "node2"),
            stats,
        },
        MigrationCandidate {
            migration: migration("vm:101", "node1", "node3"),
            stats,
        },
    ]
}

fn assert_close(actual: f64, expected: f64) {
    assert!(
        (actual - expected).abs() <= f64::EPSILON,
        "got {actual}, expected {expected}"
    );
}

#[test]
fn an_empty_or_even_cluster_has_no_imbalance() {
    assert_eq!(node_imbalance::<&str>(&[]), 0.0);
    let one = node("node1", 1.7, 16.0, 224395264.0, 68719476736.0);
    assert_eq!(node_imbalance(std::slice::from_ref(&one)), 0.0);
    assert_eq!(node_imbalance(&[one.clone(), one.clone(), one]), 0.0);
    let idle = node("node1", 0.0, 16.0, 0.0, 64.0 * GIB);
    assert_eq!(node_imbalance(&[idle.clone(), idle]), 0.0);
}

#[test]
fn all_load_on_one_node_is_the_largest_imbalance() {
    // unscaled: sqrt(n - 1) for n nodes, as the HA manager logs it
    let busy = node("busy", 8.0, 16.0, 32.0 * GIB, 64.0 * GIB);
    let idle = node("idle", 0.0, 16.0, 0.0, 64.0 * GIB);
    assert_close(node_imbalance(&[busy, idle.clone(), idle]), 2.0_f64.sqrt());
}

#[test]
fn imbalance_of_the_sample_clusters() {
    assert_close(node_imbalance(&alike()), 0.4893954724628247);
    assert_close(node_imbalance(&unlike()), 0.33026013056867354);
}

#[test]
fn exhaustive_search_prefers_the_less_loaded_target() {
    for nodes in [alike(), unlike()] {
        let best = score_best_balancing_migrations(&nodes, &vm101_candidates(), 2);
        let order: Vec<usize> = best.iter().map(|scored| scored.index).collect();
        assert_eq!(order, vec![1, 0], "node3 before node2");
        assert!(best[0].imbalance <= best[1].imbalance);
    }
}

#[test]
fn topsis_search_prefers_the_node_with_less_memory_used() {
    for nodes in [alike(), unlike()] {
        let best = score_best_balancing_migrations_topsis(&nodes, &vm101_candidates(), 2).unwrap();
        let order: Vec<usize> = best.iter().map(|scored| scored.index).collect();
        assert_eq!(order, vec![0, 1], "node2 before node3");
    }
}

#[test]
fn no_candidates_give_no_migrations() {
    assert!(score_best_balancing_migrations(&alike(), &[], 2).is_empty());
    assert!(score_best_balancing_migrations_topsis(&alike(), &[], 2)
        .unwrap()
        .is_empty());
}

#[test]
fn limit_caps_the_migrations_returned() {
    assert_eq!(
        score_best_balancing_migrations(&alike(), &vm101_candidates(), 1).len(),
        1
    );
    assert_eq!(
        score_best_balancing_migrations(&alike(), &vm101_candidates(), 0).len(),
        0
    );
    assert_eq!(
        score_best_balancing_migrations_topsis(&alike(), &vm101_candidates(), 1)
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn equal_imbalances_are_ordered_by_migration() {
    let nodes = vec![
        node("node1", 4.0, 16.0, 16.0 * GIB, 64.0 * GIB),
        node("node2", 0.0, 16.0, 0.0, 64.0 * GIB),
        node("node3", 0.0, 16.0, 0.0, 64.0 * GIB),
    ];
    let stats = resource(1.0, 1.0, GIB, GIB);
    let candidates = vec![
        MigrationCandidate {
            migration: migration("vm:102", "node1", "node3"),
            stats,
        },
        MigrationCandidate {
            migration: migration("vm:102", "node1", "node2"),
            stats,
        },
        MigrationCandidate {
            migration: migration("vm:101", "node1", "node3"),
            stats,
        },
    ];
    let best = score_best_balancing_migrations(&nodes, &candidates, 3);
    let order: Vec<usize> = best.iter().map(|scored| scored.index).collect();
    assert_eq!(order, vec![2, 1, 0]);
}

#[test]
fn imbalance_is_cut_to_fifteen_decimals() {
    // two values differing only past the 15th decimal become equal
    assert_eq!(
        truncate_imbalance(0.7231749488916931),
        truncate_imbalance(0.723174948891693)
    );
    assert_eq!(truncate_imbalance(0.7231749488916931), 0.723174948891693);
    assert!(truncate_imbalance(0.723174948891693 + 1e-15) > truncate_imbalance(0.723174948891693));
}

#[test]
fn start_scores_in_a_cluster_of_alike_nodes() {
    let nodes = alike();
    assert_eq!(
        start_order(&nodes, resource(0.0, 1.0, 0.0, 12.0 * GIB)),
        ["node2", "node3", "node1"]
    );
    assert_eq!(
        start_order(&nodes, resource(0.0, 12.0, 0.0, 0.0)),
        ["node1", "node3", "node2"]
    );
    // no CPU limit: it may use all 16 cores of whichever node
    assert_eq!(
        start_order(&nodes, resource(0.0, 0.0, 0.0, 0.0)),
        ["node1", "node3", "node2"]
    );
    assert_eq!(
        start_order(&nodes, resource(0.0, 12.0, 0.0, 12.0 * GIB)),
        ["node2", "node3", "node1"]
    );
}

#[test]
fn start_scores_in_a_cluster_of_unlike_nodes() {
    let nodes = unlike();
    assert_eq!(
        start_order(&nodes, resource(0.0, 1.0, 0.0, 12.0 * GIB)),
        ["node2", "node1", "node3"]
    );
    assert_eq!(
        start_order(&nodes, resource(0.0, 12.0, 0.0, 0.0)),
        ["node3", "node2", "node1"]
    );
    assert_eq!(
        start_order(&nodes, resource(0.0, 0.0, 0.0, 0.0)),
        ["node1", "node3", "node2"]
    );
    assert_eq!(
        start_order(&nodes, resource(0.0, 12.0, 0.0, 12.0 * GIB)),
        ["node2", "node1", "node3"]
    );
}

#[test]
fn start_scores_lie_between_zero_and_one() {
    let scores =
        score_nodes_to_start_resource(&unlike(), &resource(0.0, 2.0, 0.0, 4.0 * GIB)).unwrap();
    assert!(
        scores.iter().all(|&s| (0.0..=1.0).contains(&s)),
        "{scores:?}"
    );
    assert!(
        score_nodes_to_start_resource::<&str>(&[], &resource(0.0, 1.0, 0.0, 0.0))
            .unwrap()
            .is_empty()
    );
}

#[test]
fn a_single_node_scores_zero() {
    let nodes = vec![node("node1", 1.0, 8.0, GIB, 8.0 * GIB)];
    assert_eq!(
        score_nodes_to_start_resource(&nodes, &resource(0.0, 1.0, 0.0, GIB)).unwrap(),
        vec![0.0]
    );
}

#[test]
fn a_node_without_cores_fails_the_scoring() {
    let nodes = vec![
        node("node1", 0.0, 0.0, 0.0, 8.0 * GIB),
        node("node2", 0.0, 4.0, 0.0, 8.0 * GIB),
    ];
    let err = score_nodes_to_start_resource(&nodes, &resource(0.0, 1.0, 0.0, GIB)).unwrap_err();
    assert_eq!(err.message(), "criterion 0 got invalid value NaN");
}

#[test]
fn removing_more_than_is_used_leaves_zero() {
    let stats = NodeStats {
        cpu: 1.0,
        maxcpu: 4.0,
        mem: GIB,
        maxmem: 4.0 * GIB,
    };
    let after = stats.without_running_resource(&resource(2.0, 2.0, 2.0 * GIB, 2.0 * GIB));
    assert_eq!((after.cpu, after.mem), (0.0, 0.0));
}

#[test]
fn nodes_sharing_a_name_are_changed_together() {
    let nodes = vec![
        node("a", 0.0, 4.0, 0.0, 4.0 * GIB),
        node("b", 0.0, 4.0, 0.0, 4.0 * GIB),
        node("a", 0.0, 4.0, 0.0, 4.0 * GIB),
    ];
    let scores = score_nodes_to_start_resource(&nodes, &resource(0.0, 1.0, 0.0, GIB)).unwrap();
    assert_eq!(scores[0], scores[2]);
    assert!(scores[1] > scores[0], "{scores:?}");
}

/// Four alternatives are evaluated per pass; any count, including ones that
/// leave a partial block, must give what evaluating one at a time gives.
#[test]
fn blocked_evaluation_equals_one_at_a_time() {
    use ha_scheduling::kernel::usage_criteria;
    use ha_scheduling::migration_imbalances;
    use ha_scheduling::topsis::{score_alternatives, Matrix};
    let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
    for n in 1..=names.len() {
        let nodes: Vec<NodeUsage<&str>> = names[..n]
            .iter()
            .enumerate()
            .map(|(i, &name)| node(name, 0.3 * i as f64, 8.0, (i as f64) * GIB, 16.0 * GIB))
            .collect();
        let stats = resource(0.5, 1.0, GIB, 2.0 * GIB);
        let candidates: Vec<MigrationCandidate<&str>> = (0..n)
            .map(|t| MigrationCandidate {
                migration: migration("vm:1", names[0], names[t]),
                stats,
            })
            .collect();

        let expected: Vec<f64> = candidates
            .iter()
            .map(|candidate| {
                let moved: Vec<NodeUsage<&str>> = nodes
                    .iter()
                    .map(|node| {
                        let stats = if node.name == candidate.migration.source_node {
                            node.stats.without_running_resource(&candidate.stats)
                        } else if node.name == candidate.migration.target_node {
                            node.stats.with_running_resource(&candidate.stats)
                        } else {
                            node.stats
                        };
                        NodeUsage {
                            name: node.name,
                            stats,
                        }
                    })
                    .collect();
                truncate_imbalance(node_imbalance(&moved))
            })
            .collect();
        assert_eq!(
            migration_imbalances(&nodes, &candidates),
            expected,
            "{n} nodes"
        );

        let one_at_a_time: Vec<f64> = (0..n)
            .flat_map(|i| {
                let (mut highest_cpu, mut squares_cpu, mut highest_mem, mut squares_mem) =
                    (0.0, 0.0, 0.0, 0.0);
                for (j, node) in nodes.iter().enumerate() {
                    let stats = if j == i {
                        node.stats.with_started_resource(&stats)
                    } else {
                        node.stats
                    };
                    let (c, m) = (stats.cpu_load(), stats.mem_load());
                    highest_cpu = if c > highest_cpu { c } else { highest_cpu };
                    squares_cpu += c * c;
                    highest_mem = if m > highest_mem { m } else { highest_mem };
                    squares_mem += m * m;
                }
                let count = n as f64;
                [
                    1.0 + (squares_cpu / count).sqrt(),
                    1.0 + highest_cpu,
                    1.0 + (squares_mem / count).sqrt(),
                    1.0 + highest_mem,
                ]
            })
            .collect();
        let matrix = Matrix::from_values(4, one_at_a_time).normalised().unwrap();
        assert_eq!(
            score_nodes_to_start_resource(&nodes, &stats).unwrap(),
            score_alternatives(&matrix, usage_criteria()).unwrap(),
            "{n} nodes"
        );
    }
}
