//! Feedback on real clips: the 100 GTZAN-mini clips embedded without a model (frame
//! statistics), stored in a real SQLite catalog.

use musicrec_catalog::{CatalogStore, Rating, TrackId};
use musicrec_catalog_sqlite::SqliteStore;
use musicrec_recommend::{RecommendRequest, Rocchio, feedback_for_index, index_from_embedding_set};
use musicrec_testkit::scanned::{MODEL, gtzan_mini_catalog};

fn open(path: &std::path::Path) -> SqliteStore {
    SqliteStore::open(path).unwrap()
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (norm(a) * norm(b))
}

#[test]
fn likes_and_dislikes_move_the_ranking_and_a_disliked_track_never_returns() {
    let Some((_dir, mut store)) = gtzan_mini_catalog(open) else {
        return;
    };
    let set = store.load_embeddings(MODEL).unwrap();
    assert_eq!(set.len(), 100);
    let index = index_from_embedding_set(&set).unwrap();
    let seed = set.tracks[set
        .tracks
        .iter()
        .position(|t| t.path.ends_with("classical/classical.00000.wav"))
        .unwrap()]
    .id;
    let plain = index
        .recommend(&RecommendRequest::new(vec![seed.0], 10))
        .unwrap();

    let user = store.add_user("ann").unwrap();
    // She dislikes the top recommendation and likes a metal clip.
    let disliked = TrackId(plain.tracks[0].id);
    let liked = set
        .tracks
        .iter()
        .find(|t| t.path.ends_with("metal/metal.00003.wav"))
        .unwrap()
        .id;
    store
        .record_feedback(user, disliked, Rating::Dislike)
        .unwrap();
    store.record_feedback(user, liked, Rating::Like).unwrap();
    let (feedback, skipped) =
        feedback_for_index(&store.feedback(user).unwrap(), &index, Rocchio::default());
    assert_eq!(skipped, 0);
    assert_eq!(
        (feedback.liked.clone(), feedback.disliked.clone()),
        (vec![liked.0], vec![disliked.0])
    );
    let mut request = RecommendRequest::new(vec![seed.0], 10);
    request.feedback = feedback;
    let moved = index.recommend(&request).unwrap();
    let ids =
        |r: &musicrec_recommend::Recommendations| r.tracks.iter().map(|h| h.id).collect::<Vec<_>>();
    assert!(
        !ids(&moved).contains(&disliked.0),
        "a disliked track never comes back"
    );
    assert!(
        !ids(&moved).contains(&liked.0),
        "a liked track is not recommended again"
    );
    assert_ne!(ids(&plain), ids(&moved), "feedback changes the ranking");
    // Rocchio moves the query towards the liked clip: the results sound more like it.
    let liked_vector = index.embedding(liked.0).unwrap().to_vec();
    let closeness = |r: &musicrec_recommend::Recommendations| {
        r.tracks
            .iter()
            .map(|h| cosine(index.embedding(h.id).unwrap(), &liked_vector))
            .sum::<f32>()
            / r.tracks.len() as f32
    };
    assert!(
        closeness(&moved) > closeness(&plain),
        "{} vs {}",
        closeness(&moved),
        closeness(&plain)
    );
}
