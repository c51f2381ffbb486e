//! Behaviour of the TOPSIS ranking on small matrices whose order can be
//! worked out by hand.

use ha_scheduling::topsis::{rank_alternatives, score_alternatives, Criteria, Criterion, Matrix};

fn criteria(list: &[(&str, f64)]) -> Criteria {
    let list: Vec<Criterion> = list
        .iter()
        .map(|&(name, weight)| Criterion::new(name, weight))
        .collect();
    Criteria::new(&list).expect("valid weights")
}

fn rank<const N: usize>(rows: &[[f64; N]], criteria: &Criteria) -> Vec<usize> {
    let matrix = Matrix::from_rows(rows).normalised().expect("finite matrix");
    rank_alternatives(&matrix, criteria).expect("finite scores")
}

#[test]
fn one_criterion_orders_by_value_in_its_direction() {
    let up = criteria(&[("only", 1.0)]);
    let down = criteria(&[("only", -1.0)]);

    assert_eq!(rank(&[[0.0]], &up), vec![0]);
    assert_eq!(rank(&[[0.0]], &down), vec![0]);
    assert_eq!(rank(&[[0.0], [2.0]], &up), vec![1, 0]);
    assert_eq!(rank(&[[0.0], [2.0]], &down), vec![0, 1]);
    assert_eq!(rank(&[[1.0], [2.0]], &up), vec![1, 0]);
    assert_eq!(rank(&[[1.0], [2.0]], &down), vec![0, 1]);

    let spread = [[1.0], [2.0], [5.0], [3.0], [4.0]];
    assert_eq!(rank(&spread, &up), vec![2, 4, 3, 1, 0]);
    assert_eq!(rank(&spread, &down), vec![0, 1, 3, 4, 2]);

    let negative = [[-2.0], [-5.0], [-4.0], [1.0], [-3.0]];
    assert_eq!(rank(&negative, &up), vec![3, 0, 4, 2, 1]);
    assert_eq!(rank(&negative, &down), vec![1, 2, 4, 0, 3]);
}

#[test]
fn two_criteria_in_every_direction() {
    let max_min = criteria(&[("max", 1.0), ("min", -1.0)]);
    let min_max = criteria(&[("min", -1.0), ("max", 1.0)]);
    let min_min = criteria(&[("min1", -1.0), ("min2", -1.0)]);
    let max_max = criteria(&[("max1", 1.0), ("max2", 1.0)]);

    for c in [&max_min, &min_max, &min_min, &max_max] {
        assert_eq!(rank(&[[0.0, 0.0]], c), vec![0]);
    }

    let corners = [[0.0, 1.0], [1.0, 0.0], [1.0, -1.0], [1.0, 1.0], [0.0, 0.0]];
    assert_eq!(rank(&corners, &max_min), vec![2, 1, 4, 3, 0]);
    assert_eq!(rank(&corners, &min_max), vec![0, 3, 4, 1, 2]);
    assert_eq!(rank(&corners, &min_min), vec![2, 4, 1, 0, 3]);
    assert_eq!(rank(&corners, &max_max), vec![3, 0, 1, 4, 2]);

    let scattered = [
        [7.0, 4.0],
        [1.0, 0.5],
        [-1.0, -1.0],
        [-8.5, 11.5],
        [4.0, 7.0],
    ];
    assert_eq!(rank(&scattered, &max_min), vec![0, 1, 4, 2, 3]);
    assert_eq!(rank(&scattered, &min_max), vec![3, 2, 4, 1, 0]);
    assert_eq!(rank(&scattered, &min_min), vec![2, 3, 1, 0, 4]);
    assert_eq!(rank(&scattered, &max_max), vec![4, 0, 1, 3, 2]);
}

#[test]
fn three_criteria_follow_the_heaviest_and_ignore_column_scale() {
    let first = criteria(&[("more", 10.0), ("less", 0.2), ("least", 0.1)]);
    let second = criteria(&[("less", 0.2), ("more", 10.0), ("least", 0.1)]);
    let third = criteria(&[("less", 0.2), ("least", 0.1), ("more", 10.0)]);
    let minimising = criteria(&[("most", -10.0), ("more", -5.0), ("less", 0.1)]);

    let identity = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
    // normalisation makes the large value in the last column count as 1
    let scaled = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1000.0]];
    for rows in [identity, scaled] {
        assert_eq!(rank(&rows, &first), vec![0, 1, 2]);
        assert_eq!(rank(&rows, &second), vec![1, 0, 2]);
        assert_eq!(rank(&rows, &third), vec![2, 0, 1]);
        assert_eq!(rank(&rows, &minimising), vec![2, 1, 0]);
    }

    let negative = [[-1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, 1.0]];
    assert_eq!(rank(&negative, &first), vec![2, 1, 0]);
    assert_eq!(rank(&negative, &second), vec![2, 0, 1]);
    assert_eq!(rank(&negative, &third), vec![2, 1, 0]);
    assert_eq!(rank(&negative, &minimising), vec![0, 1, 2]);
}

#[test]
fn a_zero_column_stays_zero() {
    let first = criteria(&[("more", 10.0), ("less", 0.2), ("least", 0.1)]);
    let rows = [[0.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
    let matrix = Matrix::from_rows(&rows).normalised().unwrap();
    assert_eq!(matrix.values()[..3], [0.0, 0.0, 0.0]);
    assert_eq!(rank(&rows, &first), vec![1, 2, 0]);
}

#[test]
fn weights_are_scaled_to_sum_to_one() {
    let c = criteria(&[("a", -1.0), ("b", 3.0)]);
    assert_eq!(c.weights(), &[0.25, 0.75]);
}

#[test]
fn equal_alternatives_all_score_zero_and_keep_their_order() {
    let c = criteria(&[("a", 1.0), ("b", -1.0)]);
    let matrix = Matrix::from_rows(&[[2.0, 3.0], [2.0, 3.0], [2.0, 3.0]])
        .normalised()
        .unwrap();
    assert_eq!(
        score_alternatives(&matrix, &c).unwrap(),
        vec![0.0, 0.0, 0.0]
    );
    assert_eq!(rank_alternatives(&matrix, &c).unwrap(), vec![0, 1, 2]);
}

#[test]
fn invalid_inputs_fail_with_the_reference_texts() {
    let zero = Criteria::new(&[
        Criterion::new("z", 0.0),
        Criterion::new("e", 0.0),
        Criterion::new("ro", 0.0),
    ]);
    assert_eq!(
        zero.unwrap_err().message(),
        "no criterion has a non-zero weight"
    );

    let nan = Criteria::new(&[Criterion::new("a", 1.0), Criterion::new("b", f64::NAN)]);
    assert_eq!(
        nan.unwrap_err().message(),
        "criterion 'a' got invalid weight NaN"
    );

    let infinite = Criteria::new(&[Criterion::new("a", f64::INFINITY)]);
    assert_eq!(
        infinite.unwrap_err().message(),
        "criterion 'a' got invalid weight NaN"
    );

    let with_nan = Matrix::from_rows(&[[-1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, f64::NAN, 1.0]]);
    assert_eq!(
        with_nan.normalised().unwrap_err().message(),
        "criterion 1 got invalid value NaN"
    );

    let with_infinity = Matrix::from_rows(&[[1.0], [f64::INFINITY]]);
    assert_eq!(
        with_infinity.normalised().unwrap_err().message(),
        "criterion 0 got invalid value NaN"
    );
}
