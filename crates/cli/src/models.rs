//! `--model` as the application service takes it: the id of the model the user named, computed
//! from its files, and the id of the built-in default that a catalog's embeddings are preferred
//! from.

use std::path::Path;

use musicrec_app::{ModelIndex, ModelRequest};
use musicrec_catalog::CatalogStore;
use musicrec_embed::ModelChoice;

/// The model request for `--model` (`None`: the default).
pub fn request(model: Option<&Path>) -> anyhow::Result<ModelRequest> {
    let requested = match model {
        Some(dir) => Some((
            ModelChoice::parse(Some(dir))?.model_id()?,
            dir.display().to_string(),
        )),
        None => None,
    };
    Ok(ModelRequest {
        requested,
        preferred: Some(ModelChoice::parse(None)?.model_id()?),
    })
}

/// Opens the existing catalog `--db` names and loads the model `--model` picks.
pub fn load(
    db: Option<&str>,
    model: Option<&Path>,
) -> anyhow::Result<(Box<dyn CatalogStore>, ModelIndex)> {
    let store = musicrec_app::store::open_existing(db)?;
    let loaded = ModelIndex::load(store.as_ref(), &request(model)?)?;
    if let Some(note) = &loaded.note {
        eprintln!("note: {note}");
    }
    Ok((store, loaded))
}
