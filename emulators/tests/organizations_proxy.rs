//! The AWS proxy's AWS Organizations rules: moto is the store; the proxy validates requests against the botocore
//! model `organizations/2016-11-28/service-2.json` (read from the pinned moto's botocore), answers AWS's content
//! type without JSON nulls, and counts the calls. Raw JSON 1.1, so no SDK-side validation interferes.

use idbridge_emulators::aws_proxy::{self, ProxyConfig};
use idbridge_emulators::moto::MotoServer;
use serde_json::{Value, json};

async fn call(http: &reqwest::Client, base: &str, op: &str, body: Value) -> (u16, String, Value) {
    let response = http
        .post(format!("{base}/"))
        .header("X-Amz-Target", format!("AWSOrganizationsV20161128.{op}"))
        .header("Content-Type", "application/x-amz-json-1.1")
        .header(
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/organizations/aws4_request, SignedHeaders=host, Signature=00",
        )
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let text = response.text().await.unwrap();
    (
        status,
        content_type,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

#[tokio::test]
async fn organizations_requests_are_validated_normalised_and_counted() {
    let moto = MotoServer::start()
        .await
        .expect("moto starts (run scripts/setup.sh)");
    let proxy = aws_proxy::start(ProxyConfig::default(), &moto.url)
        .await
        .expect("proxy starts");
    let http = reqwest::Client::new();
    let base = proxy.base_url.clone();

    let (status, _, _) = call(
        &http,
        &base,
        "CreateOrganization",
        json!({ "FeatureSet": "ALL" }),
    )
    .await;
    assert_eq!(status, 200);

    // Model: ListAccountsRequest.MaxResults is a `MaxResults` shape with "min": 1, "max": 20; Organizations
    // names its validation error InvalidInputException (API reference, Common Errors of ListAccounts).
    let (status, _, error) = call(&http, &base, "ListAccounts", json!({ "MaxResults": 21 })).await;
    assert_eq!(status, 400, "{error}");
    assert_eq!(error["__type"], "InvalidInputException", "{error}");
    // Model: ListAccountsForParentRequest.ParentId is required.
    let (status, _, error) = call(&http, &base, "ListAccountsForParent", json!({})).await;
    assert_eq!(
        (status, error["__type"].as_str()),
        (400, Some("InvalidInputException"))
    );

    // A valid request reaches moto; the answer has AWS's JSON 1.1 content type and no nulls (moto writes
    // `"NextToken": null`).
    let (status, content_type, listed) =
        call(&http, &base, "ListAccounts", json!({ "MaxResults": 20 })).await;
    assert_eq!(status, 200, "{listed}");
    assert_eq!(content_type, "application/x-amz-json-1.1");
    assert!(listed["Accounts"].as_array().is_some_and(|a| !a.is_empty()));
    assert!(listed.get("NextToken").is_none(), "{listed}");

    let stats: Value = http
        .get(format!("{base}/_proxy/stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["calls_by_operation"]["organizations:ListAccounts"], 2);
    assert_eq!(
        stats["calls_by_operation"]["organizations:CreateOrganization"],
        1
    );
}
