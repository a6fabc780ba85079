//! The training history of a model directory (`model.json`, docs/design.md "Model directory"):
//! `{"training": {"history": [{"epoch": 1, "train_loss": .., "val_loss": .., ...}, ...],
//! "best_epoch": 7, ...}, ...}`. Only what the loss plot needs is read; other keys are ignored.

use std::path::Path;

use serde::Deserialize;

use super::ValidateError;

/// One epoch of training.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct Epoch {
    /// Epoch number (1-based as written by `train`).
    pub epoch: u64,
    /// Mean training loss of the epoch.
    pub train_loss: f64,
    /// Validation loss, when validation streams were held out (`null` or absent otherwise).
    #[serde(default)]
    pub val_loss: Option<f64>,
}

/// The per-epoch losses and the epoch whose weights were kept.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct History {
    /// Epochs in training order.
    pub history: Vec<Epoch>,
    /// The epoch of the best validation loss (the weights kept), when recorded.
    #[serde(default)]
    pub best_epoch: Option<u64>,
}

/// Reads `dir/model.json`; errors name the directory and what is wrong.
pub fn read_history(dir: &Path) -> Result<History, ValidateError> {
    let path = dir.join("model.json");
    let err = |message: String| ValidateError::Model {
        dir: dir.to_path_buf(),
        message,
    };
    let text = std::fs::read_to_string(&path).map_err(|e| err(format!("cannot read model.json: {e}")))?;
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| err(format!("model.json is not valid JSON: {e}")))?;
    serde_json::from_value(json["training"].clone()).map_err(|e| {
        err(format!(
            "model.json: expected {{\"training\": {{\"history\": [{{\"epoch\", \"train_loss\", \"val_loss\"}}, \
             ...], \"best_epoch\"}}}}: {e}"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_history_and_ignores_other_keys() {
        let dir = tempfile::tempdir().unwrap();
        let json = r#"{"config": {"width": 64}, "training": {"best_epoch": 2, "history": [
            {"epoch": 1, "train_loss": 0.5, "val_loss": 0.6, "learning_rate": 1e-3, "wall_s": 1.0},
            {"epoch": 2, "train_loss": 0.25, "val_loss": null, "learning_rate": 1e-3, "wall_s": 2.0},
            {"epoch": 3, "train_loss": 0.2}]}}"#;
        std::fs::write(dir.path().join("model.json"), json).unwrap();
        let h = read_history(dir.path()).unwrap();
        assert_eq!(h.best_epoch, Some(2));
        assert_eq!(h.history.len(), 3);
        assert_eq!(h.history[0].val_loss, Some(0.6));
        assert_eq!(h.history[1].val_loss, None);
        assert_eq!(h.history[2].train_loss, 0.2);
    }

    #[test]
    fn bad_model_json_names_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        let missing = read_history(dir.path()).unwrap_err().to_string();
        assert!(missing.contains(&dir.path().display().to_string()), "{missing}");
        std::fs::write(dir.path().join("model.json"), r#"{"training": {"history": 3}}"#).unwrap();
        let bad = read_history(dir.path()).unwrap_err().to_string();
        assert!(bad.contains("model.json") && bad.contains("history"), "{bad}");
    }
}
