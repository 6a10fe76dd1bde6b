//! SQLite and PostgreSQL give identical recommendations for the same catalog: the same scan
//! updates (real clips, the frame-statistics embedder) go into both stores, both are loaded and
//! indexed with musicrec-recommend, and every track's top-5 agree (ids and scores).

use std::time::Duration;

use musicrec_catalog::scan::{FileJob, process_file};
use musicrec_catalog::{CatalogStore, TrackEmbedder};
use musicrec_catalog_pg::PostgresStore;
use musicrec_catalog_sqlite::SqliteStore;
use musicrec_recommend::{Method, RecommendRequest, index_from_embedding_set};
use musicrec_testkit::data::{copy_clips, gtzan_mini};
use musicrec_testkit::embedder::FrameStatsEmbedder;
use musicrec_testkit::pg::PgServer;

#[test]
fn sqlite_and_postgres_recommend_identically() {
    let Some(gtzan) = gtzan_mini() else {
        return;
    };
    let Some(server) = PgServer::shared() else {
        return;
    };
    let library = tempfile::tempdir().unwrap();
    let clips = copy_clips(&gtzan, library.path(), 0..2);
    let embedder = FrameStatsEmbedder::new("frame-stats", Duration::ZERO);
    let model = embedder.model_info();
    let updates: Vec<_> = clips
        .iter()
        .map(|path| {
            let meta = std::fs::metadata(path).unwrap();
            let job = FileJob {
                path: path.clone(),
                size_bytes: meta.len(),
                mtime_ns: 1,
                known: None,
            };
            process_file(&embedder, &model, &job, &|_| None)
        })
        .collect();

    let mut sqlite = SqliteStore::open_in_memory().unwrap();
    let mut pg = PostgresStore::connect(&server.new_database("parity")).unwrap();
    for store in [&mut sqlite as &mut dyn CatalogStore, &mut pg] {
        store.register_model("frame-stats", &model).unwrap();
        store.apply_scan_updates("frame-stats", &updates).unwrap();
    }
    let (a, b) = (
        sqlite.load_embeddings("frame-stats").unwrap(),
        pg.load_embeddings("frame-stats").unwrap(),
    );
    assert_eq!(a.len(), clips.len());
    assert_eq!(a, b, "the stored catalogs are identical");
    let (index_a, index_b) = (
        index_from_embedding_set(&a).unwrap(),
        index_from_embedding_set(&b).unwrap(),
    );
    for method in [
        Method::default(),
        Method::SimilarityAndGenre(Default::default()),
    ] {
        for track in &a.tracks {
            let mut request = RecommendRequest::new(vec![track.id.0], 5);
            request.method = method;
            let (ra, rb) = (
                index_a.recommend(&request).unwrap(),
                index_b.recommend(&request).unwrap(),
            );
            assert_eq!(ra.tracks.len(), 5);
            assert_eq!(ra, rb, "seed {}", track.id);
        }
    }
    // Same stats, centroids and text search.
    assert_eq!(sqlite.stats().unwrap(), pg.stats().unwrap());
    assert_eq!(
        sqlite.recompute_genre_centroids("frame-stats").unwrap(),
        pg.recompute_genre_centroids("frame-stats").unwrap()
    );
    let (sa, sb) = (
        sqlite.search("blues", 0, 50).unwrap(),
        pg.search("blues", 0, 50).unwrap(),
    );
    assert_eq!(sa.total, 2);
    assert_eq!(
        sa.items.iter().map(|t| t.id).collect::<Vec<_>>(),
        sb.items.iter().map(|t| t.id).collect::<Vec<_>>()
    );
}
