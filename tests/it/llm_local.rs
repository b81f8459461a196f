//! Local servers with small context windows, as llama.cpp, vLLM and Ollama behave
//! (tests/common/services.rs `Local`): rowsmith learns the window, sizes each request to
//! fit, says what it did and how to raise the limit, and refuses a table that cannot fit
//! one row before it sends anything.
#![allow(clippy::unwrap_used)] // a test that fails should fail loudly

use crate::common;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

use common::Fixture;
use common::model::{FakeModel, Reply, rows_like_samples};
use common::services::{Local, chat_prompt_tokens};

fn demo(fx: &Fixture) -> PathBuf {
    let path = fx.path("demo.db");
    rowsmith::db::demo::create_demo(&path).unwrap();
    path
}

async fn server(local: Local) -> FakeModel {
    let counter = Arc::new(AtomicUsize::new(0));
    FakeModel::local(local, move |ask| {
        Reply::Rows(rows_like_samples(ask, &counter))
    })
    .await
}

fn generate(
    fx: &Fixture,
    model: &FakeModel,
    path: &std::path::Path,
    rows: &str,
) -> std::process::Output {
    let mut cmd = fx.cmd();
    cmd.args(["generate", path.to_str().unwrap(), "customers", "-n", rows]);
    // The fake writes mechanical rows; the realism gate has its own tests (gate.rs).
    cmd.args(["--gate", "constraints"]);
    for (k, v) in model.env() {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn llama_cpp_with_a_4k_context_gets_batches_that_fit() {
    let fx = Fixture::new();
    let path = demo(&fx);
    let model = server(Local::LlamaCpp { n_ctx: 4_096 }).await;
    let out = generate(&fx, &model, &path, "30");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(common::count(&path, "customers"), 90);
    assert!(
        stderr.contains("reads at most 4,096 tokens at a time"),
        "{stderr}"
    );
    assert!(stderr.contains("start llama-server with -c"), "{stderr}");
    for body in model.bodies().await {
        assert!(chat_prompt_tokens(&body) <= 4_096);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn vllm_gets_an_output_cap_inside_its_window() {
    let fx = Fixture::new();
    let path = demo(&fx);
    let model = server(Local::Vllm {
        max_model_len: 8_192,
    })
    .await;
    let out = generate(&fx, &model, &path, "10");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(common::count(&path, "customers"), 70);
    for body in model.bodies().await {
        let cap = body["max_tokens"].as_u64().unwrap();
        assert!(
            cap < 16_384 && chat_prompt_tokens(&body) + cap <= 8_192,
            "{cap}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn ollama_on_its_default_context_is_never_cut_and_the_fix_is_named() {
    let fx = Fixture::new();
    let path = demo(&fx);
    let model = server(Local::Ollama { num_ctx: None }).await;
    let out = generate(&fx, &model, &path, "25");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(common::count(&path, "customers"), 85);
    assert!(
        stderr.contains("Ollama would silently cut a longer prompt"),
        "{stderr}"
    );
    assert!(stderr.contains("OLLAMA_CONTEXT_LENGTH="), "{stderr}");
    for body in model.bodies().await {
        assert!(chat_prompt_tokens(&body) <= 4_096);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_window_too_small_for_one_row_is_an_error_before_any_request() {
    let fx = Fixture::new();
    let path = demo(&fx);
    let before = common::bytes(&path);
    let model = server(Local::LlamaCpp { n_ctx: 1_024 }).await;
    let out = generate(&fx, &model, &path, "10");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("reads at most 1,024 tokens at a time, but a request for one row of this table needs about"), "{stderr}");
    assert!(
        stderr.contains("start llama-server with -c 4096"),
        "{stderr}"
    );
    assert!(model.bodies().await.is_empty(), "nothing was sent");
    assert_eq!(common::bytes(&path), before);
}
