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

/// moto and the proxy in front of it (both stop when dropped), and the proxy's base URL.
async fn start() -> (MotoServer, aws_proxy::RunningProxy, String) {
    let moto = MotoServer::start()
        .await
        .expect("moto starts (run scripts/setup.sh)");
    let proxy = aws_proxy::start(ProxyConfig::default(), &moto.url)
        .await
        .expect("proxy starts");
    let base = proxy.base_url.clone();
    (moto, proxy, base)
}

async fn stats(http: &reqwest::Client, base: &str) -> Value {
    http.get(format!("{base}/_proxy/stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn organizations_requests_are_validated_normalised_and_counted() {
    let (_moto, _proxy, base) = start().await;
    let http = reqwest::Client::new();

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

    let stats = stats(&http, &base).await;
    assert_eq!(stats["calls_by_operation"]["organizations:ListAccounts"], 2);
    assert_eq!(
        stats["calls_by_operation"]["organizations:CreateOrganization"],
        1
    );
}

/// moto 5.2.5 returns no `Account.Paths`; the proxy adds them. Model (organizations 2016-11-28): `Account`
/// has `Paths`, a list of `Path` with the pattern `o-…/r-…(/ou-…)*(/\d{12})*/`, in the answers of
/// ListAccounts, ListAccountsForParent and DescribeAccount. The proxy's own calls to moto are not counted.
#[tokio::test]
async fn accounts_carry_their_paths_in_the_organization() {
    let (_moto, _proxy, base) = start().await;
    let http = reqwest::Client::new();
    let (_, _, created) = call(
        &http,
        &base,
        "CreateOrganization",
        json!({ "FeatureSet": "ALL" }),
    )
    .await;
    let organization_id = created["Organization"]["Id"].as_str().unwrap().to_owned();
    let (_, _, roots) = call(&http, &base, "ListRoots", json!({})).await;
    let root = roots["Roots"][0]["Id"].as_str().unwrap().to_owned();
    let create_ou = |parent: String, name: &'static str| {
        let (http, base) = (http.clone(), base.clone());
        async move {
            let (_, _, ou) = call(
                &http,
                &base,
                "CreateOrganizationalUnit",
                json!({ "ParentId": parent, "Name": name }),
            )
            .await;
            ou["OrganizationalUnit"]["Id"].as_str().unwrap().to_owned()
        }
    };
    let workloads = create_ou(root.clone(), "workloads").await;
    let prod = create_ou(workloads.clone(), "prod").await;
    let (_, _, created) = call(
        &http,
        &base,
        "CreateAccount",
        json!({ "AccountName": "prod-1", "Email": "prod-1@example.com" }),
    )
    .await;
    let account = created["CreateAccountStatus"]["AccountId"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _, moved) = call(
        &http,
        &base,
        "MoveAccount",
        json!({ "AccountId": account, "SourceParentId": root, "DestinationParentId": prod }),
    )
    .await;
    assert_eq!(status, 200, "{moved}");
    let before = stats(&http, &base).await;

    let expected = format!("{organization_id}/{root}/{workloads}/{prod}/{account}/");
    let (_, _, listed) = call(&http, &base, "ListAccounts", json!({})).await;
    let accounts = listed["Accounts"].as_array().unwrap();
    let listed_paths = |id: &str| {
        accounts
            .iter()
            .find(|a| a["Id"] == id)
            .map(|a| a["Paths"].clone())
            .unwrap()
    };
    assert_eq!(listed_paths(&account), json!([expected]), "{listed}");
    assert!(
        matches_path_shape(&expected),
        "{expected} matches the model's Path pattern"
    );
    // The management account sits directly under the root.
    let management = created_management(accounts, &account);
    assert_eq!(
        listed_paths(&management),
        json!([format!("{organization_id}/{root}/{management}/")])
    );
    let (_, _, under) = call(
        &http,
        &base,
        "ListAccountsForParent",
        json!({ "ParentId": prod }),
    )
    .await;
    assert_eq!(under["Accounts"][0]["Paths"], json!([expected]), "{under}");
    let (_, _, described) = call(
        &http,
        &base,
        "DescribeAccount",
        json!({ "AccountId": account }),
    )
    .await;
    assert_eq!(
        described["Account"]["Paths"],
        json!([expected]),
        "{described}"
    );

    // Three calls counted, none of the DescribeOrganization / ListParents the proxy made for the paths.
    let after = stats(&http, &base).await;
    assert_eq!(
        after["total_calls"].as_u64().unwrap() - before["total_calls"].as_u64().unwrap(),
        3,
        "{after}"
    );
    assert!(
        after["calls_by_operation"]
            .get("organizations:ListParents")
            .is_none(),
        "{after}"
    );
}

/// The account of `accounts` that is not `member`: the management account moto creates with the organization.
fn created_management(accounts: &[Value], member: &str) -> String {
    accounts
        .iter()
        .filter_map(|a| a["Id"].as_str())
        .find(|id| *id != member)
        .unwrap()
        .to_owned()
}

/// Whether `path` wholly matches the `Path` pattern of the organizations model loaded at run time.
fn matches_path_shape(path: &str) -> bool {
    let models = idbridge_emulators::aws_proxy::model::Models::get().expect("botocore models load");
    let pattern = models.organizations.shape("Path").unwrap()["pattern"]
        .as_str()
        .unwrap()
        .to_owned();
    let regex = regex::Regex::new(&pattern).expect("the model's pattern compiles");
    regex
        .find(path)
        .is_some_and(|m| m.start() == 0 && m.end() == path.len())
}
