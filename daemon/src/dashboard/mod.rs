//! The read-only HTTP dashboard: HTML pages, a JSON API and Prometheus
//! metrics, all read from the store on each request. It serves nothing but
//! the store's contents through fixed routes (no file paths are taken from
//! requests), and every text it shows is escaped: export names, signatures
//! and WAT come from generated or imported modules.
//!
//! In: the store (opened per request) and the configuration. Out: pages,
//! `/api/...` JSON and `/metrics`, on `[dashboard] address`.

mod api;
mod chart;
mod guard;
mod metrics;
mod pages;
mod state;

use crate::config::Config;
use anyhow::{Context, Result};
use axum::http::{header, HeaderValue};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use state::{Failure, Shared, State};
use std::net::SocketAddr;
use std::sync::Arc;

/// Binds `address` and serves the dashboard of `config`'s store on a
/// background thread; returns the bound address (port 0 picks one).
pub fn start(config: &Config, address: &str) -> Result<SocketAddr> {
    let listener = std::net::TcpListener::bind(address)
        .with_context(|| format!("cannot serve the dashboard on {address}"))?;
    listener.set_nonblocking(true)?;
    let bound = listener.local_addr()?;
    if !bound.ip().is_loopback() {
        // stderr as well as the log: the log may be filtered or elsewhere.
        let warning = exposure_warning(bound);
        eprintln!("crosscheck: warning: {warning}");
        tracing::warn!("{warning}");
    }
    let state = Arc::new(Shared {
        config: config.clone(),
    });
    let allowed = guard::AllowedHosts::new(bound, &config.dashboard.allow_hosts);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .context("starting the dashboard's runtime")?;
    std::thread::Builder::new()
        .name("dashboard".into())
        .spawn(move || {
            runtime.block_on(async move {
                let listener = match tokio::net::TcpListener::from_std(listener) {
                    Ok(listener) => listener,
                    Err(err) => {
                        tracing::error!("dashboard: {err}");
                        return;
                    }
                };
                serve(listener, router(state, allowed)).await;
            })
        })
        .context("starting the dashboard thread")?;
    Ok(bound)
}

/// Accepts connections for ever, at most [`guard::MAX_CONNECTIONS`] at
/// once, each with a time limit on its headers and on its whole life.
async fn serve(listener: tokio::net::TcpListener, router: Router) {
    let slots = Arc::new(tokio::sync::Semaphore::new(guard::MAX_CONNECTIONS));
    loop {
        let Ok(slot) = Arc::clone(&slots).acquire_owned().await else {
            return;
        };
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(err) => {
                // Out of descriptors, say: wait rather than spin.
                tracing::warn!("dashboard: accepting a connection: {err}");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
        let service = hyper_util::service::TowerToHyperService::new(router.clone());
        tokio::spawn(async move {
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(guard::HEADER_TIMEOUT)
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            let _ = tokio::time::timeout(guard::CONNECTION_LIFETIME, connection).await;
            drop(slot);
        });
    }
}

fn router(state: State, allowed: guard::AllowedHosts) -> Router {
    Router::new()
        .route("/", get(pages::overview))
        .route("/findings", get(pages::findings))
        .route("/findings/{id}", get(pages::finding))
        .route("/findings/{id}/module.wasm", get(api::module))
        .route("/runs", get(pages::runs))
        .route("/api/overview", get(api::overview))
        .route("/api/findings", get(api::findings))
        .route("/api/findings/{id}", get(api::finding))
        .route("/api/runs", get(api::runs))
        .route("/metrics", get(metrics::metrics))
        .fallback(not_found)
        .layer(axum::middleware::map_response(harden))
        .layer(axum::middleware::from_fn(move |request, next| {
            guard::check_host(allowed.clone(), request, next)
        }))
        .with_state(state)
}

/// Headers that keep a page from running anything but what it is: no
/// scripts at all, styles inline only, no framing, no content sniffing.
async fn harden(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

async fn not_found() -> Failure {
    Failure::NotFound("no such page".into())
}

/// What serving beyond this machine means: the dashboard has no access
/// control and shows every module of the store.
fn exposure_warning(bound: SocketAddr) -> String {
    let reach = if bound.ip().is_unspecified() {
        "every network interface"
    } else {
        "an address other machines can reach"
    };
    format!(
        "the dashboard serves {bound}, on {reach}, without access control: whoever reaches it reads every finding and module of the store; keep it on 127.0.0.1 unless a proxy with access control is in front"
    )
}
