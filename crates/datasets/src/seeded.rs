//! Seeded random streams. Each use (`purpose`, e.g. "split" or "cap") and each genre gets its own stream
//! derived from the user's seed, so adding a genre or changing the cap never reshuffles another genre's
//! split. ChaCha8 is portable: the same seed gives the same choice on every machine.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

/// The random stream for `purpose` / `scope` under `seed`.
pub(crate) fn rng(seed: u64, purpose: &str, scope: &str) -> ChaCha8Rng {
    let mut hasher = blake3::Hasher::new();
    hasher.update(&seed.to_le_bytes());
    hasher.update(purpose.as_bytes());
    hasher.update(&[0]);
    hasher.update(scope.as_bytes());
    ChaCha8Rng::from_seed(*hasher.finalize().as_bytes())
}

/// Shuffles `items` in place with the stream for `purpose` / `scope`.
pub(crate) fn shuffle<T>(items: &mut [T], seed: u64, purpose: &str, scope: &str) {
    items.shuffle(&mut rng(seed, purpose, scope));
}
