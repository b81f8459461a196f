//! Per-model request rules against test servers that refuse what OpenAI and Anthropic refuse
//! (tests/common/services.rs): current default models, shut-down models, temperature and
//! reasoning effort per model family, and optional parameters a service refuses.
#![allow(clippy::unwrap_used)] // a test that fails should fail loudly

use crate::common::services;
use crate::llm_support;

use llm_support::*;
use rowsmith::llm::{
    ANTHROPIC_DEFAULT_MODEL, Client, LlmError, Notice, OPENAI_DEFAULT_MODEL, ProviderKind,
};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

async fn ask(client: &Client) -> Result<rowsmith::llm::JsonAnswer, LlmError> {
    client
        .complete_json(rows_request(), &CancellationToken::new())
        .await
}

fn chat_ok() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(chat_reply(&rows_value().to_string(), "stop"))
}

fn messages_ok() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(messages_reply(&rows_value().to_string(), "end_turn"))
}

async fn openai_server(today: &str) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(services::openai_service(today, chat_ok()))
        .mount(&server)
        .await;
    server
}

async fn bodies(server: &MockServer) -> Vec<Value> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(body_of)
        .collect()
}

fn openai_client(server: &MockServer, model: &str) -> rowsmith::llm::Settings {
    settings(ProviderKind::OpenAi, &format!("{}/v1", server.uri()), model)
}

#[tokio::test]
async fn the_default_openai_model_takes_no_temperature_and_says_so_once() {
    let server = openai_server(&services::today()).await;
    let mut s = openai_client(&server, OPENAI_DEFAULT_MODEL);
    s.temperature = Some(0.7);
    s.reasoning_effort = Some("low".into());
    let client = client(s);
    ask(&client).await.expect("the service accepts the request");
    ask(&client).await.expect("and the next one");
    let sent = bodies(&server).await;
    assert!(sent.iter().all(|b| b.get("temperature").is_none()));
    assert!(sent.iter().all(|b| b.get("max_tokens").is_none()));
    assert_eq!(sent[0]["reasoning_effort"], json!("low"));
    assert_eq!(
        client.take_notices(),
        vec![Notice::TemperatureNotSent {
            model: OPENAI_DEFAULT_MODEL.into()
        }]
    );
}

#[tokio::test]
async fn efforts_a_model_refuses_are_replaced_by_the_nearest_it_accepts() {
    let server = openai_server(&services::today()).await;
    for (model, asked, sent) in [
        ("gpt-6.1-terra", "minimal", "low"),
        ("gpt-6.1-terra", "max", "max"),
        ("gpt-6.1-sol", "none", "low"),
        ("gpt-5.1", "xhigh", "high"),
    ] {
        let mut s = openai_client(&server, model);
        s.reasoning_effort = Some(asked.into());
        let client = client(s);
        ask(&client).await.expect("accepted");
        let last = bodies(&server).await.pop().expect("a request");
        assert_eq!(last["reasoning_effort"], json!(sent), "{model} {asked}");
        let told = client.take_notices();
        assert_eq!(told.len(), usize::from(asked != sent), "{model}: {told:?}");
    }
    // A model without reasoning never gets the parameter at all.
    let mut s = openai_client(&server, "gpt-4.1-mini");
    s.reasoning_effort = Some("low".into());
    s.temperature = Some(0.3);
    ask(&client(s)).await.expect("accepted");
    let last = bodies(&server).await.pop().expect("a request");
    assert!(last.get("reasoning_effort").is_none());
    assert_eq!(last["temperature"], json!(0.3));
}

#[tokio::test]
async fn a_shut_down_model_names_itself_and_how_to_choose_another() {
    // The day after gpt-5-mini's published shutdown date.
    let server = openai_server("2026-12-12").await;
    let err = ask(&client(openai_client(&server, "gpt-5-mini")))
        .await
        .expect_err("404 after the shutdown");
    assert!(
        matches!(
            err,
            LlmError::NotFound {
                status: 404,
                model_missing: true,
                ..
            }
        ),
        "{err:?}"
    );
    let text = err.to_string();
    for part in [
        "'gpt-5-mini'",
        "--model",
        "ROWSMITH_MODEL",
        "openai.model",
        "gpt-6.1-terra",
    ] {
        assert!(text.contains(part), "{part} in {text}");
    }
    // The default model is still served on that day.
    ask(&client(openai_client(&server, OPENAI_DEFAULT_MODEL)))
        .await
        .expect("the default is current");
}

#[tokio::test]
async fn an_optional_parameter_the_service_refuses_is_dropped_once_and_remembered() {
    // A server whose model refuses temperature although our table says it may take one.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(|request: &Request| {
            let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
            if body.get("temperature").is_some() {
                return ResponseTemplate::new(400).set_body_json(json!({"error": {
                    "message": "Unsupported parameter: 'temperature' is not supported with this model.",
                    "type": "invalid_request_error", "param": "temperature", "code": null}}));
            }
            chat_ok()
        })
        .mount(&server)
        .await;
    let mut s = openai_client(&server, "gpt-4.1-mini");
    s.temperature = Some(0.5);
    let client = client(s);
    let answer = ask(&client).await.expect("answered without it");
    assert_eq!(answer.attempts, 2);
    ask(&client).await.expect("again");
    let sent = bodies(&server).await;
    assert_eq!(sent.len(), 3, "one refusal, then never sent again");
    assert!(sent[1..].iter().all(|b| b.get("temperature").is_none()));
    let told = client.take_notices();
    assert_eq!(told.len(), 1, "{told:?}");
    assert!(told[0].to_string().contains("temperature"), "{}", told[0]);
}

#[tokio::test]
async fn a_required_parameter_is_never_dropped() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": {
            "message": "Unsupported parameter: 'max_completion_tokens' is not supported with this model.",
            "type": "invalid_request_error", "param": "max_completion_tokens", "code": "unsupported_parameter"}})))
        .mount(&server)
        .await;
    let err = ask(&client(openai_client(&server, "gpt-4.1-mini")))
        .await
        .expect_err("refused");
    assert!(
        matches!(err, LlmError::BadRequest { status: 400, .. }),
        "{err:?}"
    );
    assert_eq!(bodies(&server).await.len(), 1);
}

#[tokio::test]
async fn anthropic_claude_5_gets_no_temperature_and_older_models_do() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(services::anthropic_service(messages_ok()))
        .mount(&server)
        .await;
    let mut s = settings(
        ProviderKind::Anthropic,
        &server.uri(),
        ANTHROPIC_DEFAULT_MODEL,
    );
    s.temperature = Some(0.7);
    let c = client(s.clone());
    ask(&c).await.expect("the default model takes the request");
    assert_eq!(c.take_notices().len(), 1);
    s.model = "claude-haiku-4-5".into();
    ask(&client(s)).await.expect("legacy model");
    let sent = bodies(&server).await;
    assert!(sent[0].get("temperature").is_none());
    assert_eq!(sent[1]["temperature"], json!(0.7));

    // An unknown model: Anthropic's 404 names it.
    let s = settings(ProviderKind::Anthropic, &server.uri(), "claude-haiku-9");
    let err = ask(&client(s)).await.expect_err("404");
    assert!(
        err.to_string()
            .contains("does not offer the model 'claude-haiku-9'"),
        "{err}"
    );
}

#[tokio::test]
async fn anthropic_grammar_refusals_move_to_the_forced_tool() {
    for message in [
        "output_config.format.schema: Invalid schema: The compiled grammar is too large, which would cause performance issues. Simplify your tool schemas or reduce the number of strict tools.",
        "output_config.format.schema: Invalid schema: Schemas contains too many parameters with union types (30 parameters, limit: 16). Reduce the number of union-typed parameters.",
    ] {
        let server = MockServer::start().await;
        let refusal = json!({"type": "error", "error": {"type": "invalid_request_error", "message": message}});
        Mock::given(method("POST"))
            .respond_with(move |request: &Request| {
                let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
                if body.get("output_config").is_some() {
                    return ResponseTemplate::new(400).set_body_json(refusal.clone());
                }
                let input = rows_value();
                ResponseTemplate::new(200).set_body_json(json!({
                    "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-haiku-5-5",
                    "content": [{"type": "tool_use", "id": "t1", "name": body["tools"][0]["name"], "input": input}],
                    "stop_reason": "tool_use", "usage": {"input_tokens": 10, "output_tokens": 5}}))
            })
            .mount(&server)
            .await;
        let c = client(settings(
            ProviderKind::Anthropic,
            &server.uri(),
            ANTHROPIC_DEFAULT_MODEL,
        ));
        let answer = ask(&c).await.expect("the forced tool answers");
        assert_eq!(answer.value, rows_value());
        assert_eq!(bodies(&server).await.len(), 2, "one refusal, no retries");
        assert!(rowsmith::llm::uses_tool_fallback(&c));
        let told = c.take_notices();
        assert!(
            matches!(told.as_slice(), [Notice::FormatChanged { .. }]),
            "{told:?}"
        );
    }
}

#[tokio::test]
async fn a_llama_cpp_500_about_the_schema_moves_on_at_once() {
    // Older llama-server builds answer a schema they cannot turn into a grammar with HTTP 500.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(|request: &Request| {
            let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
            if body["response_format"]["type"] == "json_schema" {
                return ResponseTemplate::new(500).set_body_json(json!({"error": {
                    "code": 500, "message": "JSON schema conversion failed:\nUnrecognized schema: {\"format\":\"email\"}",
                    "type": "server_error"}}));
            }
            chat_ok()
        })
        .mount(&server)
        .await;
    let c = client(settings(
        ProviderKind::Compatible,
        &format!("{}/v1", server.uri()),
        "smollm2",
    ));
    ask(&c).await.expect("json_object mode answers");
    assert_eq!(
        bodies(&server).await.len(),
        2,
        "no retries of the refused mode"
    );
    assert_eq!(
        rowsmith::llm::compat_mode(&c),
        rowsmith::llm::CompatMode::JsonObject
    );
}

#[tokio::test]
async fn an_openai_schema_refusal_falls_back_to_json_mode() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(|request: &Request| {
            let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
            if body["response_format"]["type"] == "json_schema" {
                return ResponseTemplate::new(400).set_body_json(json!({"error": {
                    "message": "Invalid schema for response_format 'users_rows': 12 levels of nesting exceeds limit of 10.",
                    "type": "invalid_request_error", "param": "response_format", "code": null}}));
            }
            services::openai_service(&services::today(), chat_ok())(request)
        })
        .mount(&server)
        .await;
    let c = client(openai_client(&server, OPENAI_DEFAULT_MODEL));
    ask(&c).await.expect("JSON mode answers");
    ask(&c).await.expect("and is remembered");
    let sent = bodies(&server).await;
    assert_eq!(sent.len(), 3);
    assert_eq!(sent[2]["response_format"], json!({"type": "json_object"}));
    assert!(
        sent[2]["messages"][0]["content"]
            .as_str()
            .unwrap()
            .contains("JSON Schema")
    );
}

#[tokio::test]
async fn a_model_near_its_shutdown_date_is_told_once_a_day_from_a_cache() {
    let dir = tempfile::tempdir().unwrap();
    let soon = {
        let day = rowsmith::llm::lifecycle::today() + 10;
        let date =
            chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap() + chrono::Duration::days(day);
        date.format("%Y-%m-%d").to_string()
    };
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(wiremock::matchers::path("/v1/models/gpt-5.1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "gpt-5.1", "object": "model", "created": 1_762_000_000,
            "owned_by": "system", "shutdown_date": soon})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(wiremock::matchers::path("/v1/models/gpt-6.1-terra"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "gpt-6.1-terra", "object": "model", "created": 1_761_000_000,
            "owned_by": "system", "shutdown_date": null})))
        .mount(&server)
        .await;
    for _ in 0..2 {
        // A fresh client each time, as a new run would have: the second answer comes from
        // the cache file (the server expects one question).
        let c = client(openai_client(&server, "gpt-5.1"));
        rowsmith::llm::lifecycle::check(&c, Some(dir.path())).await;
        let told = c.take_notices();
        assert_eq!(
            told,
            vec![Notice::ModelShutsDown {
                model: "gpt-5.1".into(),
                date: soon.clone(),
                days_left: 10
            }]
        );
        assert!(told[0].to_string().contains("(in 10 days)"));
    }
    let c = client(openai_client(&server, OPENAI_DEFAULT_MODEL));
    rowsmith::llm::lifecycle::check(&c, Some(dir.path())).await;
    assert!(c.take_notices().is_empty(), "no date announced");
    // A server that cannot answer costs nothing and says nothing.
    let c = client(settings(
        ProviderKind::OpenAi,
        "http://127.0.0.1:9/v1",
        "gpt-5.1",
    ));
    rowsmith::llm::lifecycle::check(&c, None).await;
    assert!(c.take_notices().is_empty());
}
