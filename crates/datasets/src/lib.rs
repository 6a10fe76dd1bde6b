//! `datasets` stage: GTZAN, FMA, plain folders and manifests; screening, splits, windows and the feature cache.
