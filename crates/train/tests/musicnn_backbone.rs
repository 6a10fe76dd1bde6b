//! MusiCNN as a backbone on real clips: decode at 16 kHz, the `musicnn` log-mel, 3 s patches
//! (all of a 30 s clip, a bounded evenly spread set when asked), the averaged 200-d embedding and
//! 50 MSD tags. (The network's parity with TensorFlow is the model crate's `musicnn_parity` test.)

use musicrec_testkit::data::shared_data;
use musicrec_train::musicnn_backbone::MusicnnBackbone;
use musicrec_train::{Analysis, Backbone};

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (norm(a) * norm(b))
}

fn top_tags(backbone: &MusicnnBackbone, tags: &[f32], n: usize) -> Vec<String> {
    let mut named: Vec<(&String, f32)> = backbone
        .tag_names()
        .iter()
        .zip(tags.iter().copied())
        .collect();
    named.sort_by(|a, b| b.1.total_cmp(&a.1));
    named.iter().take(n).map(|(t, _)| (*t).clone()).collect()
}

#[test]
fn musicnn_embeds_real_clips_and_hears_their_genre() {
    let Some(data) = shared_data() else {
        return;
    };
    let backbone = MusicnnBackbone::built_in().unwrap();
    assert_eq!(backbone.name(), "musicnn-msd");
    assert!(backbone.id().starts_with("musicnn-msd-"));
    assert_eq!(
        (backbone.sample_rate(), backbone.embedding_dim()),
        (16_000, 200)
    );
    assert_eq!(backbone.tag_names().len(), 50);
    let load = |clip: &str| {
        musicrec_audio::load(data.join("gtzan-mini").join(clip), Some(16_000))
            .unwrap()
            .samples
    };

    let classical = load("classical/classical.00000.wav");
    let c0 = backbone.features(&classical, Analysis::default()).unwrap();
    // A 30 s clip: 1 + 480 000 / 256 frames, ten whole 187-frame patches.
    assert_eq!(c0.patches, 10);
    assert_eq!((c0.embedding.len(), c0.tags.len()), (200, 50));
    assert!(c0.tags.iter().all(|p| (0.0..=1.0).contains(p)));
    // The MSD's 50 tags have no "classical": MSD_musicnn hears GTZAN's classical clips as
    // instrumental music first (TensorFlow's own taggram of classical.00001 in the model crate's
    // golden: instrumental 0.28, jazz 0.15), and nothing like metal.
    let tags = top_tags(&backbone, &c0.tags, 3);
    assert!(tags.contains(&"instrumental".to_string()), "{tags:?}");
    let tag = |features: &musicrec_train::TrackFeatures, name: &str| {
        let i = backbone.tag_names().iter().position(|t| t == name).unwrap();
        features.tags[i]
    };
    assert!(
        tag(&c0, "instrumental") > 2.0 * tag(&c0, "heavy metal"),
        "instrumental {} heavy metal {}",
        tag(&c0, "instrumental"),
        tag(&c0, "heavy metal")
    );

    let three = backbone.features(&classical, Analysis::Bounded(3)).unwrap();
    assert_eq!(three.patches, 3);
    assert!(cosine(&three.embedding, &c0.embedding) > 0.9);

    let metal = backbone
        .features(&load("metal/metal.00000.wav"), Analysis::default())
        .unwrap();
    let tags = top_tags(&backbone, &metal.tags, 5);
    assert!(
        tags.iter().any(|t| t.contains("metal") || t == "hard rock"),
        "{tags:?}"
    );
    assert!(tag(&metal, "heavy metal") > 2.0 * tag(&c0, "heavy metal"));
    // TensorFlow's top tag of jazz.00000 is jazz (0.64).
    let jazz = backbone
        .features(&load("jazz/jazz.00000.wav"), Analysis::default())
        .unwrap();
    let tags = top_tags(&backbone, &jazz.tags, 1);
    assert_eq!(tags, ["jazz"], "{:?}", top_tags(&backbone, &jazz.tags, 5));
    let c1 = backbone
        .features(&load("classical/classical.00001.wav"), Analysis::default())
        .unwrap();
    assert!(
        cosine(&c0.embedding, &c1.embedding) > cosine(&c0.embedding, &metal.embedding),
        "two classical clips are closer than classical and metal"
    );

    // Shorter than one patch: one zero-padded patch; nothing at all: an error.
    let short = backbone
        .features(&classical[..16_000], Analysis::default())
        .unwrap();
    assert_eq!(short.patches, 1);
    assert!(backbone.features(&[], Analysis::default()).is_err());
}
