//! Collaborative filtering and the hybrid on a synthetic catalogue: a track nobody rated still
//! reaches users through the hybrid (cold start), and disliked tracks never come back.

use musicrec_recommend::cf::{CfModel, CfParams, Interaction, Ranker, rank_for_user};
use musicrec_recommend::synthetic::{SyntheticCatalog, SyntheticSpec};

fn catalogue() -> SyntheticCatalog {
    SyntheticCatalog::generate(&SyntheticSpec::sized(400, 16, 6))
}

#[test]
fn hybrid_reaches_tracks_nobody_rated_and_never_returns_disliked_ones() {
    let index = catalogue().index().unwrap();
    let like = |user: &str, track: i64| Interaction {
        user: user.into(),
        track,
        liked: true,
        timestamp: None,
    };
    // Users like tracks 0..20 only; tracks 20.. are cold.
    let interactions: Vec<Interaction> = (0..8)
        .flat_map(|u| {
            (0..20)
                .filter(move |t| (t + u) % 3 != 0)
                .map(move |t| like(&format!("u{u}"), t))
        })
        .collect();
    let model = CfModel::fit(&interactions, &CfParams::default()).unwrap();
    assert!(model.knows_user("u1") && !model.knows_user("nobody"));
    assert!(model.knows_track(1) && !model.knows_track(300));
    assert!(model.score("u1", 300).is_none());

    let anchors = [1i64, 2];
    let disliked = [5i64];
    let mut exclude = anchors.to_vec();
    exclude.extend(disliked);
    let cf = rank_for_user(
        &index,
        Some(&model),
        "u1",
        &anchors,
        &exclude,
        Ranker::Cf,
        400,
    )
    .unwrap();
    assert!(
        cf.iter().all(|h| h.id < 20),
        "CF alone only knows rated tracks"
    );
    let hybrid = rank_for_user(
        &index,
        Some(&model),
        "u1",
        &anchors,
        &exclude,
        Ranker::Hybrid { weight: 0.5 },
        400,
    )
    .unwrap();
    assert!(
        hybrid.iter().any(|h| h.id >= 20),
        "cold tracks reach the hybrid"
    );
    for ranked in [&cf, &hybrid] {
        assert!(ranked.iter().all(|h| !exclude.contains(&h.id)));
    }
    // A user CF never saw: the hybrid is content alone, CF is a clear error.
    let content = rank_for_user(
        &index,
        Some(&model),
        "new",
        &anchors,
        &exclude,
        Ranker::Content,
        10,
    )
    .unwrap();
    let new_hybrid = rank_for_user(
        &index,
        Some(&model),
        "new",
        &anchors,
        &exclude,
        Ranker::Hybrid { weight: 0.5 },
        10,
    )
    .unwrap();
    assert_eq!(content, new_hybrid);
    let err = rank_for_user(
        &index,
        Some(&model),
        "new",
        &anchors,
        &exclude,
        Ranker::Cf,
        10,
    )
    .unwrap_err();
    assert!(err.to_string().contains("new"), "{err}");
    assert!(rank_for_user(&index, None, "x", &[], &[], Ranker::Content, 5).is_err());
}
