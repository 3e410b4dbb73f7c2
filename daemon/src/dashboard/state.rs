//! What every request handler shares: the store's location and the
//! configuration, reading the store off the async thread, and how a failed
//! request answers.

use crate::config::Config;
use crate::store::Store;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// What every request reads.
pub struct Shared {
    /// The configuration.
    pub config: Config,
}

/// The router's state.
pub type State = Arc<Shared>;

/// Runs `read` on the store off the async thread.
pub async fn with_store<T: Send + 'static>(
    state: &State,
    read: impl FnOnce(&Store, &Config) -> Result<T, Failure> + Send + 'static,
) -> Result<T, Failure> {
    let state = state.clone();
    tokio::task::spawn_blocking(move || {
        let store = Store::open_read_only(&state.config.store).map_err(Failure::Internal)?;
        read(&store, &state.config)
    })
    .await
    .map_err(|e| Failure::Internal(anyhow::anyhow!("dashboard task failed: {e}")))?
}

/// Why a request failed.
#[derive(Debug)]
pub enum Failure {
    /// 404 with a reason.
    NotFound(String),
    /// 500: the store could not be read.
    Internal(anyhow::Error),
}

impl From<anyhow::Error> for Failure {
    fn from(err: anyhow::Error) -> Self {
        Failure::Internal(err)
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        // Plain text: whatever the message holds is never markup.
        match self {
            Failure::NotFound(what) => (StatusCode::NOT_FOUND, what).into_response(),
            Failure::Internal(err) => {
                tracing::warn!("dashboard: {err:#}");
                (StatusCode::INTERNAL_SERVER_ERROR, format!("{err:#}")).into_response()
            }
        }
    }
}
