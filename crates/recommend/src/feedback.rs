//! A catalog user's likes and dislikes as the [`Feedback`] of a [`crate::RecommendRequest`]:
//! liked tracks pull the query towards them, disliked ones push it away (Rocchio, see
//! [`crate::Rocchio`]), and both are excluded from the results, so a disliked track never comes
//! back to that user.

use musicrec_catalog::{Feedback as StoredFeedback, Rating};

use crate::{EmbeddingIndex, Feedback, Rocchio};

/// The user's feedback restricted to tracks in `index`, and how many rated tracks were left out
/// because the index has no embedding for them (a missing file, another model).
pub fn feedback_for_index(
    stored: &[StoredFeedback],
    index: &EmbeddingIndex,
    rocchio: Rocchio,
) -> (Feedback, usize) {
    let mut feedback = Feedback {
        liked: Vec::new(),
        disliked: Vec::new(),
        rocchio,
    };
    let mut skipped = 0;
    for f in stored {
        if index.embedding(f.track.0).is_err() {
            skipped += 1;
            continue;
        }
        match f.rating {
            Rating::Like => feedback.liked.push(f.track.0),
            Rating::Dislike => feedback.disliked.push(f.track.0),
        }
    }
    (feedback, skipped)
}
