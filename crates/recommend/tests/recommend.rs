//! The two recommendation methods, de-duplication, artist variety and feedback re-ranking.

use musicrec_recommend::synthetic::{SyntheticCatalog, SyntheticSpec};
use musicrec_recommend::{
    CentroidKind, EmbeddingIndex, Feedback, GenreBlend, Hit, Method, Metric, RecommendError,
    RecommendRequest, SeedCombination, TrackMeta,
};

fn meta(artist: &str, title: &str, hash: &str) -> TrackMeta {
    TrackMeta {
        artist: Some(artist.into()),
        title: Some(title.into()),
        content_hash: Some(hash.into()),
        folder: None,
    }
}

/// Tracks on a quarter circle: track i is at angle i degrees, so similarity falls with |i - j|.
fn arc_index(n: usize) -> EmbeddingIndex {
    let vectors = (0..n).flat_map(|i| {
        let a = (i as f32).to_radians();
        [a.cos(), a.sin()]
    });
    EmbeddingIndex::new((0..n as i64).collect(), 2, vectors.collect()).unwrap()
}

#[test]
fn seeds_and_their_duplicates_never_come_back() {
    let metas = vec![
        meta("A", "Song", "h0"),
        meta("B", "Other", "h0"),   // same recording as the seed
        meta("  a ", "SONG", "h2"), // same artist and title, other recording
        meta("C", "Near", "h3"),
        meta("C", "Near (live)", "h4"),
        meta("D", "Far", "h5"),
    ];
    let index = arc_index(6).with_meta(metas).unwrap();
    let rec = index
        .recommend(&RecommendRequest::new(vec![0], 10))
        .unwrap();
    let ids: Vec<i64> = rec.tracks.iter().map(|h| h.id).collect();
    assert_eq!(ids, vec![3, 4, 5]);
    assert!(rec.fewer_than_requested);

    let mut capped = RecommendRequest::new(vec![0], 10);
    capped.max_per_artist = Some(1);
    let ids: Vec<i64> = index
        .recommend(&capped)
        .unwrap()
        .tracks
        .iter()
        .map(|h| h.id)
        .collect();
    assert_eq!(ids, vec![3, 5]);
}

#[test]
fn artist_cap_fetches_deeper_when_the_top_is_one_artist() {
    let n = 200;
    let metas = (0..n)
        .map(|i| {
            meta(
                &if i < 150 {
                    "prolific".to_string()
                } else {
                    format!("other{i}")
                },
                &format!("t{i}"),
                &format!("h{i}"),
            )
        })
        .collect();
    let index = arc_index(n).with_meta(metas).unwrap();
    let mut request = RecommendRequest::new(vec![0], 5);
    request.max_per_artist = Some(2);
    let rec = index.recommend(&request).unwrap();
    let ids: Vec<i64> = rec.tracks.iter().map(|h| h.id).collect();
    assert_eq!(ids, vec![1, 2, 150, 151, 152]);
    assert!(!rec.fewer_than_requested);
}

/// Untagged files (no artist) count by folder under the artist cap: one untagged album does not
/// fill the list, while tagged tracks are still capped by artist wherever they are stored.
#[test]
fn artist_cap_groups_untagged_tracks_by_folder() {
    let untagged = |folder: &str, i: usize| TrackMeta {
        artist: None,
        title: None,
        content_hash: Some(format!("h{i}")),
        folder: Some(folder.into()),
    };
    let metas = (0..12)
        .map(|i| match i {
            // The seed and the five nearest tracks: one untagged album.
            0..=5 => untagged("/music/rips/album", i),
            6 | 7 => untagged("/music/rips/other album", i),
            // Tagged, by one artist, in the untagged album's folder.
            8 | 9 => TrackMeta {
                folder: Some("/music/rips/album".into()),
                ..meta("Band", &format!("t{i}"), &format!("h{i}"))
            },
            // Neither artist nor folder known: never capped.
            _ => TrackMeta {
                content_hash: Some(format!("h{i}")),
                ..TrackMeta::default()
            },
        })
        .collect();
    let index = arc_index(12).with_meta(metas).unwrap();
    let mut request = RecommendRequest::new(vec![0], 8);
    request.max_per_artist = Some(1);
    let rec = index.recommend(&request).unwrap();
    let ids: Vec<i64> = rec.tracks.iter().map(|h| h.id).collect();
    assert_eq!(ids, vec![1, 6, 8, 10, 11]);
    assert!(rec.fewer_than_requested);

    // Without the cap the album's tracks come first, as their embeddings say.
    let uncapped = index.recommend(&RecommendRequest::new(vec![0], 5)).unwrap();
    let ids: Vec<i64> = uncapped.tracks.iter().map(|h| h.id).collect();
    assert_eq!(ids, vec![1, 2, 3, 4, 5]);

    // The same cap over a ranking made elsewhere (collaborative filtering).
    let hits: Vec<Hit> = (1..12).map(|id| Hit { id, score: 1.0 }).collect();
    let kept: Vec<i64> = index
        .cap_per_artist(&hits, 4, 1)
        .iter()
        .map(|h| h.id)
        .collect();
    assert_eq!(kept, vec![1, 6, 8, 10]);
}

#[test]
fn likes_and_dislikes_change_the_ranking() {
    let index = arc_index(91);
    let base = index
        .recommend(&RecommendRequest::new(vec![45], 4))
        .unwrap();
    let base_ids: Vec<i64> = base.tracks.iter().map(|h| h.id).collect();
    assert_eq!(
        base_ids[..2]
            .iter()
            .copied()
            .collect::<std::collections::BTreeSet<_>>(),
        [44, 46].into()
    );

    // Rocchio under cosine: rank by cos(x, a * u45 + b * u60 - c * u_disliked) with unit vectors u.
    let unit = |deg: f32| [deg.to_radians().cos(), deg.to_radians().sin()];
    let rocchio_ranking = |terms: &[(f32, f32)], skip: &[i64]| -> Vec<i64> {
        let mut q = [0.0f32; 2];
        for (w, deg) in terms {
            q[0] += w * unit(*deg)[0];
            q[1] += w * unit(*deg)[1];
        }
        let mut all: Vec<(f32, i64)> = (0..91)
            .filter(|i| !skip.contains(i))
            .map(|i| (Metric::Cosine.similarity(&unit(i as f32), &q), i))
            .collect();
        all.sort_by(|a, b| b.0.total_cmp(&a.0));
        all[..4].iter().map(|x| x.1).collect()
    };

    let mut liked = RecommendRequest::new(vec![45], 4);
    liked.feedback = Feedback {
        liked: vec![60],
        ..Feedback::default()
    };
    let ids: Vec<i64> = index
        .recommend(&liked)
        .unwrap()
        .tracks
        .iter()
        .map(|h| h.id)
        .collect();
    assert_eq!(
        ids,
        rocchio_ranking(&[(1.0, 45.0), (0.75, 60.0)], &[45, 60])
    );
    assert_ne!(ids, base_ids, "the query moves towards the liked track");
    assert!(ids.iter().all(|&id| id > 45));

    let mut disliked = RecommendRequest::new(vec![45], 4);
    disliked.feedback = Feedback {
        disliked: vec![47],
        ..Feedback::default()
    };
    let ids: Vec<i64> = index
        .recommend(&disliked)
        .unwrap()
        .tracks
        .iter()
        .map(|h| h.id)
        .collect();
    assert!(!ids.contains(&47), "disliked tracks never come back");
    assert_eq!(
        ids,
        rocchio_ranking(&[(1.0, 45.0), (-0.15, 47.0)], &[45, 47])
    );
    assert_eq!(ids[0], 44, "tracks on the disliked side drop: {ids:?}");

    for metric in [Metric::Euclidean, Metric::PNorm(3.0)] {
        let mut request = RecommendRequest::new(vec![45], 3);
        request.metric = metric;
        request.combination = SeedCombination::Centroid;
        request.feedback = Feedback {
            liked: vec![60],
            disliked: vec![30],
            ..Feedback::default()
        };
        let ids: Vec<i64> = index
            .recommend(&request)
            .unwrap()
            .tracks
            .iter()
            .map(|h| h.id)
            .collect();
        assert!(ids.iter().all(|&id| id > 45), "{metric}: {ids:?}");
    }
}

#[test]
fn seed_combinations_differ_when_seed_norms_differ() {
    // Two seeds: a long one at 0 degrees, a short one at 90. The raw centroid leans to the long one;
    // the mean of similarities treats both alike and prefers the middle.
    let vectors = vec![10.0, 0.0, 0.0, 1.0, 1.0, 0.15, 0.7, 0.7];
    let index = EmbeddingIndex::new(vec![0, 1, 2, 3], 2, vectors).unwrap();
    let mut request = RecommendRequest::new(vec![0, 1], 1);
    assert_eq!(index.recommend(&request).unwrap().tracks[0].id, 3);
    request.combination = SeedCombination::Centroid;
    assert_eq!(index.recommend(&request).unwrap().tracks[0].id, 2);
    // Mean similarity under cosine is the mean of the per-seed cosines.
    request.combination = SeedCombination::MeanSimilarity;
    let top = index.recommend(&request).unwrap().tracks[0];
    let expect = (Metric::Cosine.similarity(&[0.7, 0.7], &[10.0, 0.0])
        + Metric::Cosine.similarity(&[0.7, 0.7], &[0.0, 1.0]))
        / 2.0;
    assert!((top.score - expect).abs() < 1e-6);
}

#[test]
fn method_2_outvotes_a_misclassified_seed() {
    // Noisy catalogue where similarity alone mixes genres; four seeds of genre g plus one of another
    // genre. Method 2 (mean genre probabilities) returns more of genre g than method 1.
    let spec = SyntheticSpec {
        tracks: 6000,
        noise: 0.35,
        label_noise: 0.1,
        ..SyntheticSpec::default()
    };
    let cat = SyntheticCatalog::generate(&spec);
    let index = cat.index().unwrap();
    let (mut p1, mut p2) = (0usize, 0usize);
    for q in 0..40usize {
        let genre = q % spec.genres;
        let of_genre: Vec<i64> = (0..spec.tracks)
            .filter(|&i| cat.genre_labels[i] == genre)
            .map(|i| i as i64)
            .collect();
        let outlier = (0..spec.tracks)
            .find(|&i| cat.genre_labels[i] != genre && i % 40 == q)
            .unwrap() as i64;
        let mut seeds: Vec<i64> = (0..4)
            .map(|s| of_genre[(q * 13 + s * 29) % of_genre.len()])
            .collect();
        seeds.push(outlier);
        let count = |m: Method| {
            let mut request = RecommendRequest::new(seeds.clone(), 10);
            request.method = m;
            index
                .recommend(&request)
                .unwrap()
                .tracks
                .iter()
                .filter(|h| cat.genre_labels[h.id as usize] == genre)
                .count()
        };
        p1 += count(Method::Similarity);
        p2 += count(Method::SimilarityAndGenre(GenreBlend::default()));
    }
    assert!(
        p2 > p1,
        "method 2 {p2} vs method 1 {p1} of 400 results in the seeds' genre"
    );
}

#[test]
fn method_2_scores_follow_the_formula() {
    // Two tracks, two genres: check score = (1 - w) * cos(x, seed) + w * cos(p_x, p_seed).
    let index = EmbeddingIndex::new(vec![1, 2, 3], 2, vec![1.0, 0.0, 0.6, 0.8, 0.0, 1.0])
        .unwrap()
        .with_genres(
            vec!["a".into(), "b".into()],
            vec![0.9, 0.1, 0.2, 0.7, 0.1, 0.9],
        )
        .unwrap();
    let blend = GenreBlend {
        genre_weight: 0.4,
        centroid_weight: 0.0,
        centroids: CentroidKind::Argmax,
    };
    let mut request = RecommendRequest::new(vec![1], 2);
    request.method = Method::SimilarityAndGenre(blend);
    let rec = index.recommend(&request).unwrap();
    let score = |x: &[f32], p: &[f32]| {
        0.6 * Metric::Cosine.similarity(x, &[1.0, 0.0])
            + 0.4 * Metric::Cosine.similarity(p, &[0.9, 0.1])
    };
    let s2 = score(&[0.6, 0.8], &[0.2, 0.7]);
    let s3 = score(&[0.0, 1.0], &[0.1, 0.9]);
    assert_eq!(
        rec.tracks.iter().map(|h| h.id).collect::<Vec<_>>(),
        vec![2, 3]
    );
    assert!((rec.tracks[0].score - s2).abs() < 1e-5 && (rec.tracks[1].score - s3).abs() < 1e-5);

    // Genre centre points: argmax centroids of genre a = track 1, of genre b = mean of tracks 2, 3.
    let centres = index.genre_centre_points(CentroidKind::Argmax).unwrap();
    assert_eq!(centres[0].1.as_deref(), Some(&[1.0f32, 0.0][..]));
    assert_eq!(centres[1].1.as_deref(), Some(&[0.3f32, 0.9][..]));
    let weighted = index
        .genre_centre_points(CentroidKind::ProbabilityWeighted)
        .unwrap();
    let wa = (0.9 * 1.0 + 0.2 * 0.6) / (0.9 + 0.2 + 0.1);
    assert!((weighted[0].1.as_ref().unwrap()[0] - wa).abs() < 1e-6);
}

#[test]
fn bad_requests_are_errors() {
    let index = arc_index(10);
    assert_eq!(
        index.recommend(&RecommendRequest::new(vec![3, 99], 5)),
        Err(RecommendError::UnknownTrack(99))
    );
    assert_eq!(
        index.recommend(&RecommendRequest::new(vec![], 5)),
        Err(RecommendError::NoSeeds)
    );
    let mut genre = RecommendRequest::new(vec![1], 5);
    genre.method = Method::SimilarityAndGenre(GenreBlend::default());
    assert_eq!(index.recommend(&genre), Err(RecommendError::NoGenres));
    let mut pnorm = RecommendRequest::new(vec![1], 5);
    pnorm.metric = Metric::PNorm(-1.0);
    assert_eq!(index.recommend(&pnorm), Err(RecommendError::BadPNorm(-1.0)));
    let mut dislike = RecommendRequest::new(vec![1], 5);
    dislike.feedback.disliked = vec![-5];
    assert_eq!(
        index.recommend(&dislike),
        Err(RecommendError::UnknownTrack(-5))
    );
    let mut cap = RecommendRequest::new(vec![1], 5);
    cap.max_per_artist = Some(0);
    assert!(matches!(
        index.recommend(&cap),
        Err(RecommendError::BadParameter { .. })
    ));
    // k larger than the catalogue: everything but the seed, flagged.
    let rec = index
        .recommend(&RecommendRequest::new(vec![1], 50))
        .unwrap();
    assert_eq!(rec.tracks.len(), 9);
    assert!(rec.fewer_than_requested);
}
