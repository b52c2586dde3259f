//! Fault injection, replication lag, the instantiate-404 quirk, the request log, paging, filters and auth.

mod graph_common;

use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use graph_common::Graph;
use idbridge_emulators::graph::{AWS_TEMPLATE_ID, GraphConfig};
use serde_json::{Value, json};

#[tokio::test]
async fn throttling_answers_429_with_retry_after_in_seconds_or_as_http_date() {
    let graph = Graph::default().await;
    let rule = json!({"method": "GET", "path": "^/v1.0/applications$", "status": 429, "retryAfterSeconds": 7, "count": 1});
    assert_eq!(
        graph.admin(Method::POST, "faults", Some(rule)).await,
        StatusCode::CREATED
    );
    let response = graph
        .http
        .get(graph.url("/applications"))
        .bearer_auth(&graph.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "7");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "TooManyRequests");
    // count: 1 → the next call goes through.
    assert_eq!(graph.get("/applications").await.0, StatusCode::OK);

    let rule = json!({"path": "^/v1.0/servicePrincipals", "status": 429, "retryAfterHttpDateInSeconds": 120, "count": 1});
    graph.admin(Method::POST, "faults", Some(rule)).await;
    let response = graph
        .http
        .get(graph.url("/servicePrincipals"))
        .bearer_auth(&graph.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    let date = httpdate::parse_http_date(response.headers()["retry-after"].to_str().unwrap())
        .expect("an HTTP-date");
    let ahead = date.duration_since(std::time::SystemTime::now()).unwrap();
    assert!(
        ahead > Duration::from_secs(100) && ahead <= Duration::from_secs(121),
        "{ahead:?}"
    );
}

#[tokio::test]
async fn server_errors_drops_and_delays_are_injected() {
    let graph = Graph::default().await;
    graph
        .admin(
            Method::POST,
            "faults",
            Some(json!({"path": "^/v1.0/groups$", "status": 503, "count": 1})),
        )
        .await;
    graph
        .admin(
            Method::POST,
            "faults",
            Some(json!({"path": "^/v1.0/groups$", "status": 504, "count": 1})),
        )
        .await;
    assert_eq!(
        graph.get("/groups").await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(graph.get("/groups").await.0, StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(graph.get("/groups").await.0, StatusCode::OK);

    graph
        .admin(
            Method::POST,
            "faults",
            Some(json!({"path": "^/v1.0/users$", "dropConnection": true, "count": 1})),
        )
        .await;
    let dropped = graph
        .http
        .get(graph.url("/users"))
        .bearer_auth(&graph.token)
        .send()
        .await;
    assert!(
        dropped.is_err(),
        "the connection is closed without a response: {dropped:?}"
    );
    assert_eq!(graph.get("/users").await.0, StatusCode::OK);
    let log = graph.request_log().await;
    assert!(
        log.iter()
            .any(|r| r["path"] == "/v1.0/users" && r["status"] == 0),
        "dropped requests are logged with status 0"
    );

    graph
        .admin(
            Method::POST,
            "faults",
            Some(json!({"path": "^/v1.0/users$", "delayMs": 300, "count": 1})),
        )
        .await;
    let began = Instant::now();
    assert_eq!(graph.get("/users").await.0, StatusCode::OK);
    assert!(began.elapsed() >= Duration::from_millis(300));

    // Rules are removable, and invalid rules are refused.
    graph
        .admin(
            Method::POST,
            "faults",
            Some(json!({"path": ".*", "status": 500})),
        )
        .await;
    assert_eq!(
        graph.get("/users").await.0,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    assert_eq!(
        graph.admin(Method::DELETE, "faults", None).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(graph.get("/users").await.0, StatusCode::OK);
    assert_eq!(
        graph
            .admin(
                Method::POST,
                "faults",
                Some(json!({"path": "(", "status": 500}))
            )
            .await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        graph
            .admin(
                Method::POST,
                "faults",
                Some(json!({"path": "x", "status": 200}))
            )
            .await,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn replication_lag_hides_new_objects_for_n_reads() {
    let graph = Graph::default().await;
    graph
        .admin(
            Method::PUT,
            "settings",
            Some(json!({"replicationLagReads": 2})),
        )
        .await;
    let (_, sp) = graph.instantiate_aws("Lagging").await;
    let path = format!("/servicePrincipals/{}", sp["id"].as_str().unwrap());
    let (status, body) = graph.get(&path).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "Request_ResourceNotFound");
    assert_eq!(graph.get(&path).await.0, StatusCode::NOT_FOUND);
    assert_eq!(graph.get(&path).await.0, StatusCode::OK);
}

#[tokio::test]
async fn instantiate_can_answer_404_although_it_succeeded() {
    let graph = Graph::default().await;
    graph
        .admin(
            Method::PUT,
            "settings",
            Some(json!({"instantiateNotFound": 1})),
        )
        .await;
    let (status, _) = graph
        .post(
            &format!("/applicationTemplates/{AWS_TEMPLATE_ID}/instantiate"),
            json!({"displayName": "tmp-1234"}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The objects exist anyway: the work-around of polling by template id and name finds them.
    let filter = format!(
        "/applications?$filter=applicationTemplateId eq '{AWS_TEMPLATE_ID}' and displayName eq 'tmp-1234'"
    );
    let (status, found) = graph.get(&filter).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(found["value"].as_array().unwrap().len(), 1);
    let app_id = found["value"][0]["appId"].as_str().unwrap();
    let (_, sps) = graph
        .get(&format!("/servicePrincipals?$filter=appId eq '{app_id}'"))
        .await;
    assert_eq!(sps["value"].as_array().unwrap().len(), 1);

    let log = graph.request_log().await;
    let instantiates: Vec<&Value> = log
        .iter()
        .filter(|r| r["method"] == "POST" && r["path"].as_str().unwrap().ends_with("/instantiate"))
        .collect();
    assert_eq!(instantiates.len(), 1, "exactly one instantiate was sent");
    assert_eq!(instantiates[0]["status"], 404);
    assert_eq!(instantiates[0]["body"]["displayName"], "tmp-1234");
    let token_call = log
        .iter()
        .find(|r| r["path"].as_str().unwrap().ends_with("/oauth2/v2.0/token"))
        .unwrap();
    assert_eq!(
        token_call["body"]["client_secret"], "***",
        "secrets never reach the log"
    );
}

#[tokio::test]
async fn paging_filters_and_select_behave_like_graph() {
    let graph = Graph::start(GraphConfig {
        page_size: 2,
        ..Default::default()
    })
    .await;
    for i in 0..5 {
        graph.create_group(&format!("Team {i}")).await;
    }
    let mut next = Some(graph.url("/groups?$select=id,displayName"));
    let mut seen = Vec::new();
    let mut pages = 0;
    while let Some(url) = next {
        let (status, page) = graph.get(&url).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(
            page["@odata.context"]
                .as_str()
                .unwrap()
                .ends_with("$metadata#groups(id,displayName)")
        );
        for group in page["value"].as_array().unwrap() {
            assert_eq!(
                group.as_object().unwrap().len(),
                2,
                "only selected properties: {group}"
            );
            seen.push(group["displayName"].as_str().unwrap().to_string());
        }
        next = page["@odata.nextLink"].as_str().map(str::to_string);
        pages += 1;
    }
    assert_eq!(pages, 3);
    seen.sort();
    assert_eq!(seen, ["Team 0", "Team 1", "Team 2", "Team 3", "Team 4"]);

    let one_id = first_group_id(&graph).await;
    let (_, by_id) = graph
        .get(&format!("/groups?$filter=id eq '{one_id}'"))
        .await;
    assert_eq!(by_id["value"].as_array().unwrap().len(), 1);
    assert_eq!(by_id["value"][0]["id"], one_id.as_str());
    let (_, top) = graph.get("/groups?$top=1").await;
    assert_eq!(top["value"].as_array().unwrap().len(), 1);
    let (_, filtered) = graph.get("/groups?$filter=displayName eq 'team 3'").await;
    assert_eq!(
        filtered["value"].as_array().unwrap().len(),
        1,
        "eq on strings is case-insensitive"
    );
    let (_, started) = graph
        .get("/groups?$filter=startswith(displayName,'Team')&$top=999")
        .await;
    assert!(
        started["@odata.nextLink"].is_string(),
        "the emulator's page size caps $top"
    );
    let (status, body) = graph.get("/groups?$filter=nickname eq 'x'").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("nickname")
    );
    assert_eq!(
        graph.get("/groups?$filter=displayName ne 'x'").await.0,
        StatusCode::BAD_REQUEST
    );
    graph
        .admin(Method::PUT, "settings", Some(json!({"pageSize": 10})))
        .await;
    let (_, all) = graph.get("/groups").await;
    assert_eq!(all["value"].as_array().unwrap().len(), 5);
    assert!(all.get("@odata.nextLink").is_none());
}

async fn token_response(
    graph: &Graph,
    form: &[(&str, &str)],
    tenant: Option<&str>,
) -> (u16, Value) {
    let tenant = tenant.unwrap_or(&graph.server.tenant_id);
    let response = graph
        .http
        .post(format!(
            "{}/{tenant}/oauth2/v2.0/token",
            graph.server.base_url
        ))
        .form(form)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test]
async fn token_endpoint_answers_like_entra() {
    let config = GraphConfig::default();
    let graph = Graph::start(config.clone()).await;
    let good = [
        ("grant_type", "client_credentials"),
        ("client_id", config.client_id.as_str()),
        ("client_secret", config.client_secret.as_str()),
        ("scope", "https://graph.microsoft.com/.default"),
    ];
    let (status, body) = token_response(&graph, &good, None).await;
    assert_eq!(status, 200);
    assert_eq!(body["token_type"], "Bearer");

    let mut wrong_secret = good;
    wrong_secret[2].1 = "nope";
    let (status, body) = token_response(&graph, &wrong_secret, None).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"], "invalid_client");
    assert_eq!(body["error_codes"], json!([7000215]));
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .starts_with("AADSTS7000215: Invalid client secret provided.")
    );

    let mut wrong_client = good;
    wrong_client[1].1 = "11111111-1111-1111-1111-111111111111";
    assert_eq!(
        token_response(&graph, &wrong_client, None).await.1["error_codes"],
        json!([700016])
    );
    assert_eq!(
        token_response(&graph, &good, Some("contoso.example"))
            .await
            .1["error_codes"],
        json!([90002])
    );
    let mut wrong_scope = good;
    wrong_scope[3].1 = "https://graph.microsoft.com/User.Read";
    assert_eq!(
        token_response(&graph, &wrong_scope, None).await.1["error"],
        "invalid_scope"
    );
    let own_scope = format!("{}/.default", graph.server.base_url);
    let mut emulator_scope = good;
    emulator_scope[3].1 = own_scope.as_str();
    assert_eq!(token_response(&graph, &emulator_scope, None).await.0, 200);

    // Graph itself wants a token the emulator issued.
    let response = graph
        .http
        .get(graph.url("/applications"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "InvalidAuthenticationToken");
    let response = graph
        .http
        .get(graph.url("/applications"))
        .bearer_auth("a.b.c")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}

fn signed_assertion(key: &rcgen::KeyPair, cert_der: &[u8], claims: Value) -> String {
    let thumbprint =
        aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, cert_der);
    let header =
        json!({"alg": "RS256", "typ": "JWT", "x5t": URL_SAFE_NO_PAD.encode(thumbprint.as_ref())});
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let pair = aws_lc_rs::signature::RsaKeyPair::from_pkcs8(&key.serialize_der()).unwrap();
    let mut signature = vec![0; pair.public_modulus_len()];
    pair.sign(
        &aws_lc_rs::signature::RSA_PKCS1_SHA256,
        &aws_lc_rs::rand::SystemRandom::new(),
        signing_input.as_bytes(),
        &mut signature,
    )
    .unwrap();
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

#[tokio::test]
async fn client_assertions_signed_by_the_registered_certificate_are_accepted() {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).unwrap();
    let cert = rcgen::CertificateParams::new(vec!["idbridge".to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let config = GraphConfig {
        client_certificate_pem: Some(cert.pem()),
        ..Default::default()
    };
    let graph = Graph::start(config.clone()).await;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let audience = graph.server.token_url();
    let claims = |aud: &str, exp: i64| json!({"aud": aud, "iss": config.client_id, "sub": config.client_id, "jti": uuid::Uuid::new_v4().to_string(), "nbf": now, "exp": exp});
    let form = |assertion: &str| {
        vec![
            ("grant_type".to_string(), "client_credentials".to_string()),
            ("client_id".to_string(), config.client_id.clone()),
            (
                "client_assertion_type".to_string(),
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_string(),
            ),
            ("client_assertion".to_string(), assertion.to_string()),
            (
                "scope".to_string(),
                "https://graph.microsoft.com/.default".to_string(),
            ),
        ]
    };
    let post = |assertion: String| {
        let request = graph
            .http
            .post(graph.server.token_url())
            .form(&form(&assertion));
        async move {
            let response = request.send().await.unwrap();
            (
                response.status().as_u16(),
                response.json::<Value>().await.unwrap(),
            )
        }
    };
    let (status, body) = post(signed_assertion(
        &key,
        cert.der(),
        claims(&audience, now + 600),
    ))
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = post(signed_assertion(
        &key,
        cert.der(),
        claims(&audience, now - 3600),
    ))
    .await;
    assert_eq!(
        (status, body["error_codes"].clone()),
        (401, json!([700024]))
    );
    let (status, _) = post(signed_assertion(
        &key,
        cert.der(),
        claims("https://elsewhere.example/token", now + 600),
    ))
    .await;
    assert_eq!(status, 401);
    let other_key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).unwrap();
    let (status, body) = post(signed_assertion(
        &other_key,
        cert.der(),
        claims(&audience, now + 600),
    ))
    .await;
    assert_eq!(
        (status, body["error_codes"].clone()),
        (401, json!([700027]))
    );
}

#[tokio::test]
async fn reset_forgets_objects_faults_settings_and_tokens() {
    let graph = Graph::default().await;
    graph.create_group("Before reset").await;
    graph
        .admin(
            Method::PUT,
            "settings",
            Some(json!({"replicationLagReads": 5})),
        )
        .await;
    graph
        .admin(
            Method::POST,
            "faults",
            Some(json!({"path": "^/v1.0/groups$", "status": 503})),
        )
        .await;
    assert_eq!(
        graph.admin(Method::POST, "reset", None).await,
        StatusCode::NO_CONTENT
    );
    // Tokens issued before the reset are no longer valid.
    assert_eq!(graph.get("/groups").await.0, StatusCode::UNAUTHORIZED);
    let fresh = Graph {
        server: graph.server,
        http: graph.http.clone(),
        token: String::new(),
    };
    let token: Value = fresh
        .http
        .post(fresh.server.token_url())
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", idbridge_emulators::graph::DEFAULT_CLIENT_ID),
            (
                "client_secret",
                idbridge_emulators::graph::DEFAULT_CLIENT_SECRET,
            ),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let fresh = Graph {
        token: token["access_token"].as_str().unwrap().to_string(),
        ..fresh
    };
    let (status, groups) = fresh.get("/groups").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(groups["value"], json!([]));
    let id = fresh.create_group("After reset").await;
    assert_eq!(
        fresh.get(&format!("/groups/{id}")).await.0,
        StatusCode::OK,
        "replication lag was reset"
    );
    assert!(
        fresh
            .request_log()
            .await
            .iter()
            .all(|r| r["body"]["displayName"] != "Before reset"),
        "the request log starts afresh"
    );
}

async fn first_group_id(graph: &Graph) -> String {
    let (_, page) = graph.get("/groups?$top=1&$select=id").await;
    page["value"][0]["id"].as_str().unwrap().to_string()
}
