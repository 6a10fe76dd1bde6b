//! `audio` stage: decode any music file to mono f32 samples and resample them.
