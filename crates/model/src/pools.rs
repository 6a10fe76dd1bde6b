//! How each conv block pools the frequency axis so that `n_mels` ends at exactly 1.
//!
//! Both models pool frequency away completely (the CRNN needs a 1-high map to read the time
//! axis as a sequence; the CNN needs it before its dense layer). A fixed pool list only fits
//! one mel count (Choi's `2*3*4*4 = 96`), so the frequency pools are *derived from n_mels*:
//! among all ways of writing `n_mels` as an ordered product of one factor per block, the
//! one closest to a template (the paper's pools) on a log scale is taken. Exact products
//! mean no mel bin is ever dropped by floor pooling.
//!
//! | model | template        | 96 mels         | 128 mels        |
//! |-------|-----------------|-----------------|-----------------|
//! | CRNN  | 2, 3, 4, 4      | 2, 3, 4, 4      | 2, 4, 4, 4      |
//! | CNN   | 2, 2, 2, 3, 4   | 2, 2, 2, 3, 4   | 2, 2, 2, 4, 4   |

use crate::ModelError;

/// Largest mel count accepted: far above any real preset, and it keeps the search small.
pub const MAX_N_MELS: usize = 4096;

/// Frequency pool per block for `n_mels` bins: the ordered factorisation of `n_mels` into
/// `template.len()` factors nearest to `template` (sum of `|ln f - ln t|`; the first found
/// wins ties). With `explicit` given, that list is validated and used instead.
pub fn frequency_pools(
    n_mels: usize,
    template: &[usize],
    explicit: Option<&[usize]>,
) -> Result<Vec<usize>, ModelError> {
    if n_mels == 0 || n_mels > MAX_N_MELS {
        return Err(ModelError::Config(format!(
            "n_mels must be in 1..={MAX_N_MELS}, got {n_mels}"
        )));
    }
    if template.is_empty() || template.contains(&0) {
        return Err(ModelError::Config(format!(
            "pool template must be non-empty positive sizes, got {template:?}"
        )));
    }
    if let Some(pools) = explicit {
        let product: usize = pools.iter().product();
        if pools.len() != template.len() || pools.contains(&0) || product != n_mels {
            return Err(ModelError::Config(format!(
                "frequency_pools {pools:?} must have one positive size per conv block ({}) \
                 and multiply to n_mels = {n_mels} (they multiply to {product})",
                template.len()
            )));
        }
        return Ok(pools.to_vec());
    }
    let mut best: Option<(f64, Vec<usize>)> = None;
    let mut current = Vec::with_capacity(template.len());
    search(n_mels, template, &mut current, 0.0, &mut best);
    // n_mels = n_mels * 1 * ... * 1 always exists, so the search never comes back empty.
    Ok(best.map(|(_, pools)| pools).unwrap_or_default())
}

/// Depth-first over ordered factorisations of `remaining`; the tree is tiny for
/// `n_mels <= MAX_N_MELS` (at most a few thousand leaves for 5 blocks).
fn search(
    remaining: usize,
    template: &[usize],
    current: &mut Vec<usize>,
    cost: f64,
    best: &mut Option<(f64, Vec<usize>)>,
) {
    let position = current.len();
    let distance = |factor: usize| ((factor as f64).ln() - (template[position] as f64).ln()).abs();
    if position + 1 == template.len() {
        let total = cost + distance(remaining);
        if best
            .as_ref()
            .is_none_or(|(best_cost, _)| total < *best_cost - 1e-12)
        {
            current.push(remaining);
            *best = Some((total, current.clone()));
            current.pop();
        }
        return;
    }
    for factor in (1..=remaining).filter(|f| remaining.is_multiple_of(*f)) {
        current.push(factor);
        search(
            remaining / factor,
            template,
            current,
            cost + distance(factor),
            best,
        );
        current.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CRNN: &[usize] = &[2, 3, 4, 4];
    const CNN: &[usize] = &[2, 2, 2, 3, 4];

    #[test]
    fn documented_table_holds() {
        assert_eq!(frequency_pools(96, CRNN, None).unwrap(), vec![2, 3, 4, 4]);
        assert_eq!(frequency_pools(128, CRNN, None).unwrap(), vec![2, 4, 4, 4]);
        assert_eq!(frequency_pools(96, CNN, None).unwrap(), vec![2, 2, 2, 3, 4]);
        assert_eq!(
            frequency_pools(128, CNN, None).unwrap(),
            vec![2, 2, 2, 4, 4]
        );
    }

    #[test]
    fn every_count_multiplies_back_exactly() {
        for n_mels in [1, 7, 40, 64, 80, 97, 257, 1024] {
            for template in [CRNN, CNN] {
                let pools = frequency_pools(n_mels, template, None).unwrap();
                assert_eq!(pools.len(), template.len());
                assert_eq!(
                    pools.iter().product::<usize>(),
                    n_mels,
                    "{n_mels} {pools:?}"
                );
            }
        }
    }

    #[test]
    fn explicit_pools_are_checked() {
        assert_eq!(
            frequency_pools(96, CRNN, Some(&[4, 3, 2, 4])).unwrap(),
            vec![4, 3, 2, 4]
        );
        assert!(frequency_pools(96, CRNN, Some(&[2, 2, 4, 4])).is_err());
        assert!(frequency_pools(96, CRNN, Some(&[96])).is_err());
        assert!(frequency_pools(0, CRNN, None).is_err());
        assert!(frequency_pools(MAX_N_MELS + 1, CRNN, None).is_err());
    }
}
