//! FrameworkServer driven through the generated tonic trait with a small in-memory provider.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Notify;
use tonic::Request;

use super::*;
use crate::framework::action::{Action, ActionProgress};
use crate::framework::context::{Context, ProviderData};
use crate::framework::data_source::DataSource;
use crate::framework::diag::{Diagnostic, Diagnostics};
use crate::framework::ephemeral::{EphemeralResource, Opened, Renewed};
use crate::framework::function::{Function, FunctionDefinition, FunctionError, Parameter};
use crate::framework::identity::{IdentityAttribute, IdentitySchema};
use crate::framework::list_resource::{ListRequest, ListResource, ListResults, Listed};
use crate::framework::msgpack;
use crate::framework::path::AttributePath;
use crate::framework::provider::ConfigureRequest;
use crate::framework::resource::{
    ApplyError, CreateRequest, PlanChange, RawState, Resource, UpdateRequest, import_passthrough,
};
use crate::framework::schema::{Attribute, NestedBlock, Operation, Schema};
use crate::framework::types::Type;
use crate::framework::value::{Refinements, Value};
use crate::protocol::tfplugin6::provider_server::Provider as _;

/// The remote system the test resource manages.
#[derive(Default)]
struct Remote {
    objects: Mutex<HashMap<String, String>>,
    passwords_seen: Mutex<Vec<String>>,
    next_id: Mutex<u32>,
    create_started: Notify,
}

struct TestProvider {
    remote: Arc<Remote>,
    tokens: Arc<Tokens>,
}

impl TestProvider {
    fn new(remote: Arc<Remote>) -> Self {
        TestProvider {
            remote,
            tokens: Arc::new(Tokens::default()),
        }
    }
}

struct Thing;

const THING: &str = "test_thing";

fn thing_schema() -> Schema {
    Schema::new()
        .version(1)
        .attribute(Attribute::string("id").computed().use_state_for_unknown())
        .attribute(Attribute::string("name").required().requires_replace())
        .attribute(Attribute::string("description").optional())
        .attribute(Attribute::string("etag").computed())
        .attribute(Attribute::number("big").optional())
        .attribute(Attribute::dynamic("anything").optional())
        .attribute(
            Attribute::set_nested(
                "members",
                vec![
                    Attribute::string("principal").required(),
                    Attribute::string("member_id")
                        .computed()
                        .use_state_for_unknown(),
                ],
            )
            .optional(),
        )
        .attribute(
            Attribute::string("password")
                .optional()
                .sensitive()
                .write_only(),
        )
        .block(NestedBlock::timeouts(&[
            Operation::Create,
            Operation::Delete,
        ]))
}

#[async_trait]
impl Resource for Thing {
    fn type_name(&self) -> &str {
        THING
    }

    fn schema(&self) -> Schema {
        thing_schema()
    }

    fn identity_schema(&self) -> Option<IdentitySchema> {
        Some(IdentitySchema::new().attribute(IdentityAttribute::string("id")))
    }

    async fn modify_plan(&self, ctx: &Context, plan: &mut PlanChange) -> Result<(), Diagnostics> {
        if plan.planned.get_str("description") == Some("warn me") {
            ctx.warn("Description is odd", "Just checking.");
        }
        // Destroy plans come here too, with a null plan.
        if plan.is_destroy() && plan.prior.get_str("description") == Some("protected") {
            return Err(
                Diagnostic::error("Protected", "Clear the description before destroying.").into(),
            );
        }
        if plan.is_create() {
            // A refined unknown: Terraform learns before apply that the etag will not be null.
            plan.planned
                .set_attr("etag", Value::unknown_refined(Refinements::not_null()));
        }
        Ok(())
    }

    async fn create(&self, ctx: &Context, request: CreateRequest) -> Result<Value, ApplyError> {
        let remote = ctx.provider_data::<Remote>()?;
        let name = request
            .planned
            .get_str("name")
            .unwrap_or_default()
            .to_owned();
        if let Some(password) = request.config.get_str("password") {
            remote
                .passwords_seen
                .lock()
                .unwrap()
                .push(password.to_owned());
        }
        let id = {
            let mut next = remote.next_id.lock().unwrap();
            *next += 1;
            format!("thing-{next}")
        };
        remote
            .objects
            .lock()
            .unwrap()
            .insert(id.clone(), name.clone());
        let mut state = request
            .planned
            .clone()
            .with("id", id.as_str())
            .with("etag", "v1");
        assign_member_ids(&mut state);
        match name.as_str() {
            // Waits for Ctrl-C and then reports what it made, like a well-behaved long create.
            "patient" => {
                remote.create_started.notify_one();
                ctx.cancellation_token().cancelled().await;
                Err(ApplyError::from(ctx.cancelled_error()).with_partial_state(state))
            }
            // Never looks at the token or the clock.
            "stubborn" => {
                remote.create_started.notify_one();
                std::future::pending::<()>().await;
                unreachable!()
            }
            "forgetful" => Ok(request.planned.with("id", id.as_str())),
            _ => Ok(state),
        }
    }

    async fn read(&self, ctx: &Context, state: Value) -> Result<Option<Value>, Diagnostics> {
        let remote = ctx.provider_data::<Remote>()?;
        let id = state.get_str("id").unwrap_or_default().to_owned();
        let Some(name) = remote.objects.lock().unwrap().get(&id).cloned() else {
            return Ok(None);
        };
        let etag = state.get_str("etag").unwrap_or("v1").to_owned();
        Ok(Some(state.with("name", name).with("etag", etag)))
    }

    async fn update(&self, ctx: &Context, request: UpdateRequest) -> Result<Value, ApplyError> {
        let remote = ctx.provider_data::<Remote>()?;
        if let Some(password) = request.config.get_str("password") {
            remote
                .passwords_seen
                .lock()
                .unwrap()
                .push(password.to_owned());
        }
        let mut state = request.planned.with("etag", "v2");
        assign_member_ids(&mut state);
        Ok(state)
    }

    async fn delete(&self, ctx: &Context, state: Value) -> Result<(), Diagnostics> {
        let remote = ctx.provider_data::<Remote>()?;
        remote
            .objects
            .lock()
            .unwrap()
            .remove(state.get_str("id").unwrap_or_default());
        Ok(())
    }

    async fn import_state(&self, _ctx: &Context, id: &str) -> Result<Value, Diagnostics> {
        Ok(import_passthrough(&thing_schema(), "id", id))
    }

    async fn upgrade_state(
        &self,
        _ctx: &Context,
        from_version: i64,
        state: RawState,
    ) -> Result<Value, Diagnostics> {
        assert_eq!(from_version, 0);
        // Version 0 called the name "title" and had no etag.
        let v0 = Type::object([
            ("id", Type::String),
            ("title", Type::String),
            ("description", Type::String),
        ]);
        let old = state.decode(&v0)?;
        Ok(Value::object([
            ("id", old.get("id").clone()),
            ("name", old.get("title").clone()),
            ("description", old.get("description").clone()),
        ]))
    }
}

/// The remote system names members after their principal.
fn assign_member_ids(state: &mut Value) {
    let Some(members) = state.get("members").elements().map(<[Value]>::to_vec) else {
        return;
    };
    let members = members.into_iter().map(|member| {
        if member.get("member_id").is_unknown() {
            let id = format!("mid-{}", member.get_str("principal").unwrap_or_default());
            member.with("member_id", id)
        } else {
            member
        }
    });
    state.set_attr("members", Value::set(members));
}

struct Echo;

#[async_trait]
impl DataSource for Echo {
    fn type_name(&self) -> &str {
        "test_echo"
    }

    fn schema(&self) -> Schema {
        Schema::new()
            .attribute(Attribute::string("input").required())
            .attribute(Attribute::string("output").computed())
    }

    async fn read(&self, _ctx: &Context, config: Value) -> Result<Value, Diagnostics> {
        let output = config.get_str("input").map(str::to_uppercase);
        Ok(config.with("output", output))
    }
}

/// Hands out short-lived tokens; remembers which leases were closed.
#[derive(Default)]
struct Tokens {
    closed: Mutex<Vec<Vec<u8>>>,
}

#[async_trait]
impl EphemeralResource for Tokens {
    fn type_name(&self) -> &str {
        "test_token"
    }

    fn schema(&self) -> Schema {
        Schema::new()
            .attribute(Attribute::string("scope").required())
            .attribute(Attribute::string("token").computed().sensitive())
    }

    async fn open(&self, _ctx: &Context, config: Value) -> Result<Opened, Diagnostics> {
        let token = format!("tok-{}", config.get_str("scope").unwrap_or_default());
        Ok(Opened {
            result: config.with("token", token),
            private: Some(b"lease-1".to_vec()),
            renew_at: Some(std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_000)),
        })
    }

    async fn renew(
        &self,
        _ctx: &Context,
        private: Option<Vec<u8>>,
    ) -> Result<Renewed, Diagnostics> {
        let mut lease = private.unwrap_or_default();
        lease.extend_from_slice(b"+renewed");
        Ok(Renewed {
            private: Some(lease),
            renew_at: None,
        })
    }

    async fn close(&self, _ctx: &Context, private: Option<Vec<u8>>) -> Result<(), Diagnostics> {
        self.closed
            .lock()
            .unwrap()
            .push(private.unwrap_or_default());
        Ok(())
    }
}

struct Join;

#[async_trait]
impl Function for Join {
    fn definition(&self) -> FunctionDefinition {
        FunctionDefinition::new("join", Type::String)
            .parameter(Parameter::new("separator", Type::String))
            .variadic(Parameter::new("parts", Type::String))
            .summary("Joins strings.")
    }

    async fn run(&self, arguments: Vec<Value>) -> Result<Value, FunctionError> {
        let separator = arguments[0].as_str().unwrap_or_default();
        let parts: Vec<&str> = arguments[1..].iter().filter_map(Value::as_str).collect();
        if parts.contains(&"bad") {
            let index = arguments
                .iter()
                .position(|a| a.as_str() == Some("bad"))
                .unwrap_or(0);
            return Err(FunctionError::argument(index, "\"bad\" is not allowed."));
        }
        Ok(Value::from(parts.join(separator)))
    }
}

#[async_trait]
impl Provider for TestProvider {
    fn type_name(&self) -> &str {
        "test"
    }

    fn schema(&self) -> Schema {
        Schema::new().attribute(Attribute::string("endpoint").optional())
    }

    async fn configure(
        &self,
        _ctx: &Context,
        request: ConfigureRequest,
    ) -> Result<ProviderData, Diagnostics> {
        if request.config.get_str("endpoint") == Some("broken") {
            return Err(Diagnostic::error("Cannot reach endpoint", "Check the URL.")
                .at(AttributePath::new("endpoint"))
                .into());
        }
        Ok(self.remote.clone())
    }

    fn resources(&self) -> Vec<Arc<dyn Resource>> {
        vec![Arc::new(Thing)]
    }

    fn data_sources(&self) -> Vec<Arc<dyn DataSource>> {
        vec![Arc::new(Echo)]
    }

    fn functions(&self) -> Vec<Arc<dyn Function>> {
        vec![Arc::new(Join)]
    }

    fn ephemeral_resources(&self) -> Vec<Arc<dyn EphemeralResource>> {
        vec![self.tokens.clone()]
    }

    fn list_resources(&self) -> Vec<Arc<dyn ListResource>> {
        vec![Arc::new(ThingList)]
    }

    fn actions(&self) -> Vec<Arc<dyn Action>> {
        vec![Arc::new(Rename)]
    }
}

/// Lists the remote things whose name starts with `name_prefix`, in id order.
struct ThingList;

#[async_trait]
impl ListResource for ThingList {
    fn type_name(&self) -> &str {
        THING
    }

    fn config_schema(&self) -> Schema {
        Schema::new().attribute(Attribute::string("name_prefix").optional())
    }

    async fn validate_config(&self, _ctx: &Context, config: &Value) -> Diagnostics {
        let mut diags = Diagnostics::new();
        if config.get_str("name_prefix") == Some("") {
            diags.push(
                Diagnostic::error("Empty prefix", "Leave name_prefix out instead.")
                    .at(AttributePath::new("name_prefix")),
            );
        }
        diags
    }

    async fn list(
        &self,
        ctx: &Context,
        request: ListRequest,
        results: &ListResults,
    ) -> Result<(), Diagnostics> {
        let remote = ctx.provider_data::<Remote>()?;
        let prefix = request
            .config
            .get_str("name_prefix")
            .unwrap_or_default()
            .to_owned();
        let mut objects: Vec<(String, String)> = remote
            .objects
            .lock()
            .unwrap()
            .iter()
            .map(|(id, name)| (id.clone(), name.clone()))
            .collect();
        objects.sort();
        for (id, name) in objects
            .into_iter()
            .filter(|(_, name)| name.starts_with(&prefix))
        {
            if name == "unreadable" {
                results
                    .problem(
                        Diagnostic::warning("Skipped", format!("{id} could not be read.")).into(),
                    )
                    .await;
                continue;
            }
            let state = if results.include_resource() {
                let imported = import_passthrough(&thing_schema(), "id", &id);
                Thing.read(ctx, imported).await?.unwrap_or(Value::Null)
            } else {
                Value::object([("id", Value::from(id.as_str()))])
            };
            if !results
                .send(Listed {
                    display_name: name,
                    state,
                })
                .await
            {
                break;
            }
        }
        Ok(())
    }
}

/// Renames a remote thing, reporting each step.
struct Rename;

#[async_trait]
impl Action for Rename {
    fn type_name(&self) -> &str {
        "test_rename"
    }

    fn schema(&self) -> Schema {
        Schema::new()
            .attribute(Attribute::string("id").required())
            .attribute(Attribute::string("name").required())
    }

    async fn plan(&self, _ctx: &Context, config: &Value) -> Result<(), Diagnostics> {
        if config.get_str("name") == Some("forbidden") {
            return Err(Diagnostic::error("Forbidden name", "Pick another name.")
                .at(AttributePath::new("name"))
                .into());
        }
        Ok(())
    }

    async fn invoke(
        &self,
        ctx: &Context,
        config: Value,
        progress: &ActionProgress,
    ) -> Result<(), Diagnostics> {
        let remote = ctx.provider_data::<Remote>()?;
        let id = config.get_str("id").unwrap_or_default();
        progress.report(format!("Renaming {id}")).await;
        let renamed = match remote.objects.lock().unwrap().get_mut(id) {
            Some(name) => {
                *name = config.get_str("name").unwrap_or_default().to_owned();
                true
            }
            None => false,
        };
        if !renamed {
            return Err(Diagnostic::error("No such thing", format!("{id} does not exist.")).into());
        }
        progress.report("Renamed").await;
        ctx.warn("Renamed for good", "There is no undo.");
        Ok(())
    }
}

fn thing_type() -> Type {
    thing_schema().value_type()
}

fn dv(value: &Value) -> Option<pb::DynamicValue> {
    Some(pb::DynamicValue {
        msgpack: msgpack::encode(value, &thing_type()).unwrap(),
        json: Vec::new(),
    })
}

fn value_of(dv: Option<pb::DynamicValue>) -> Value {
    msgpack::decode(&dv.expect("no value in response").msgpack, &thing_type()).unwrap()
}

fn summaries(diags: &[pb::Diagnostic]) -> Vec<String> {
    diags.iter().map(|d| d.summary.clone()).collect()
}

fn errors(diags: &[pb::Diagnostic]) -> Vec<String> {
    diags
        .iter()
        .filter(|d| d.severity == pb::diagnostic::Severity::Error as i32)
        .map(|d| d.summary.clone())
        .collect()
}

async fn configured() -> (Arc<FrameworkServer<TestProvider>>, Arc<Remote>) {
    let remote = Arc::new(Remote::default());
    let server = FrameworkServer::new(TestProvider::new(remote.clone()))
        .with_cancel_grace(Duration::from_millis(100));
    let config = msgpack::encode(
        &Value::object([("endpoint", Value::from("https://example.test"))]),
        server.server.provider_type(),
    )
    .unwrap();
    let response = server
        .configure_provider(Request::new(pb::configure_provider::Request {
            terraform_version: "1.15.5".into(),
            config: Some(pb::DynamicValue {
                msgpack: config,
                json: Vec::new(),
            }),
            client_capabilities: None,
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(
        response.diagnostics.is_empty(),
        "{:?}",
        summaries(&response.diagnostics)
    );
    (Arc::new(server), remote)
}

fn config(name: &str) -> Value {
    Value::object([("name", Value::from(name))])
}

async fn plan(
    server: &FrameworkServer<TestProvider>,
    prior: &Value,
    proposed: &Value,
    config: &Value,
) -> pb::plan_resource_change::Response {
    server
        .plan_resource_change(Request::new(pb::plan_resource_change::Request {
            type_name: THING.into(),
            prior_state: dv(prior),
            proposed_new_state: dv(proposed),
            config: dv(config),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner()
}

async fn apply(
    server: &FrameworkServer<TestProvider>,
    prior: &Value,
    planned: &Value,
    config: &Value,
) -> pb::apply_resource_change::Response {
    server
        .apply_resource_change(Request::new(pb::apply_resource_change::Request {
            type_name: THING.into(),
            prior_state: dv(prior),
            planned_state: dv(planned),
            config: dv(config),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner()
}

/// Plans and applies a create of `name`, returning the new state.
async fn create(server: &FrameworkServer<TestProvider>, config: &Value) -> Value {
    let planned = value_of(
        plan(server, &Value::Null, config, config)
            .await
            .planned_state,
    );
    let response = apply(server, &Value::Null, &planned, config).await;
    assert!(
        response.diagnostics.is_empty(),
        "{:?}",
        summaries(&response.diagnostics)
    );
    value_of(response.new_state)
}

#[tokio::test]
async fn schema_metadata_and_functions_are_served_from_the_cache() {
    let (server, _) = configured().await;
    let schema = server
        .get_provider_schema(Request::new(pb::get_provider_schema::Request {}))
        .await
        .unwrap()
        .into_inner();
    assert!(schema.diagnostics.is_empty());
    assert!(schema.provider.is_some());
    let thing = &schema.resource_schemas[THING];
    assert_eq!(thing.version, 1);
    let password = thing
        .block
        .as_ref()
        .unwrap()
        .attributes
        .iter()
        .find(|a| a.name == "password")
        .unwrap();
    assert!(password.write_only && password.sensitive);
    assert!(schema.data_source_schemas.contains_key("test_echo"));
    assert_eq!(
        schema.functions["join"]
            .variadic_parameter
            .as_ref()
            .unwrap()
            .name,
        "parts"
    );
    assert!(schema.server_capabilities.unwrap().plan_destroy);

    let metadata = server
        .get_metadata(Request::new(pb::get_metadata::Request {}))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        metadata
            .resources
            .iter()
            .map(|r| r.type_name.as_str())
            .collect::<Vec<_>>(),
        vec![THING]
    );
    assert_eq!(metadata.functions[0].name, "join");
    let functions = server
        .get_functions(Request::new(pb::get_functions::Request {}))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(functions.functions.len(), 1);
}

#[tokio::test]
async fn plan_create_marks_computed_unknown_and_nulls_write_only() {
    let (server, _) = configured().await;
    let config = config("alpha").with("password", "hunter2");
    let response = plan(&server, &Value::Null, &config, &config).await;
    assert!(response.diagnostics.is_empty());
    assert!(response.requires_replace.is_empty());
    let planned = value_of(response.planned_state);
    assert!(planned.get("id").is_unknown());
    assert!(planned.get("etag").is_unknown());
    assert_eq!(planned.get_str("name"), Some("alpha"));
    assert!(
        planned.get("password").is_null(),
        "write-only value leaked into the plan"
    );
    assert!(planned.get("description").is_null());
    assert_eq!(
        planned.get("etag").refinements().and_then(|r| r.is_null),
        Some(false)
    );
}

#[tokio::test]
async fn apply_create_sees_write_only_config_and_never_stores_it() {
    let (server, remote) = configured().await;
    let config = config("alpha").with("password", "hunter2");
    let state = create(&server, &config).await;
    assert_eq!(state.get_str("id"), Some("thing-1"));
    assert_eq!(state.get_str("etag"), Some("v1"));
    assert!(state.get("password").is_null());
    assert_eq!(
        *remote.passwords_seen.lock().unwrap(),
        vec!["hunter2".to_owned()]
    );
}

#[tokio::test]
async fn plan_update_keeps_state_for_unknown_and_marks_other_computed_unknown() {
    let (server, _) = configured().await;
    let prior = create(&server, &config("alpha")).await;
    let config = config("alpha").with("description", "new");
    let proposed = prior.clone().with("description", "new");
    let response = plan(&server, &prior, &proposed, &config).await;
    assert!(response.requires_replace.is_empty());
    let planned = value_of(response.planned_state);
    assert_eq!(
        planned.get_str("id"),
        Some("thing-1"),
        "use_state_for_unknown must keep the id"
    );
    assert!(planned.get("etag").is_unknown());
    assert_eq!(planned.get_str("description"), Some("new"));

    let applied = apply(&server, &prior, &planned, &config).await;
    assert!(applied.diagnostics.is_empty());
    assert_eq!(value_of(applied.new_state).get_str("etag"), Some("v2"));
}

#[tokio::test]
async fn plan_without_changes_keeps_computed_values() {
    let (server, _) = configured().await;
    let prior = create(&server, &config("alpha")).await;
    let planned = value_of(
        plan(&server, &prior, &prior, &config("alpha"))
            .await
            .planned_state,
    );
    assert_eq!(planned, prior);
}

#[tokio::test]
async fn plan_replace_reports_the_changed_attribute() {
    let (server, _) = configured().await;
    let prior = create(&server, &config("alpha")).await;
    let proposed = prior.clone().with("name", "beta");
    let response = plan(&server, &prior, &proposed, &config("beta")).await;
    assert_eq!(
        response.requires_replace,
        vec![AttributePath::new("name").to_proto6()]
    );
}

#[tokio::test]
async fn plan_destroy_and_apply_delete() {
    let (server, remote) = configured().await;
    let prior = create(&server, &config("alpha")).await;
    let response = plan(&server, &prior, &Value::Null, &Value::Null).await;
    assert!(value_of(response.planned_state).is_null());
    assert!(response.requires_replace.is_empty());
    let applied = apply(&server, &prior, &Value::Null, &Value::Null).await;
    assert!(applied.diagnostics.is_empty());
    assert!(value_of(applied.new_state).is_null());
    assert!(remote.objects.lock().unwrap().is_empty());
}

#[tokio::test]
async fn modify_plan_warnings_reach_terraform() {
    let (server, _) = configured().await;
    let config = config("alpha").with("description", "warn me");
    let response = plan(&server, &Value::Null, &config, &config).await;
    assert_eq!(summaries(&response.diagnostics), vec!["Description is odd"]);
    assert_eq!(
        response.diagnostics[0].severity,
        pb::diagnostic::Severity::Warning as i32
    );
}

#[tokio::test]
async fn read_removes_vanished_objects_and_refreshes_others() {
    let (server, remote) = configured().await;
    let state = create(&server, &config("alpha")).await;
    remote
        .objects
        .lock()
        .unwrap()
        .insert("thing-1".into(), "renamed".into());
    let read = |state: Value| {
        let server = server.clone();
        async move {
            server
                .read_resource(Request::new(pb::read_resource::Request {
                    type_name: THING.into(),
                    current_state: dv(&state),
                    private: b"keep".to_vec(),
                    ..Default::default()
                }))
                .await
                .unwrap()
                .into_inner()
        }
    };
    let refreshed = read(state.clone()).await;
    assert_eq!(refreshed.private, b"keep".to_vec());
    assert_eq!(
        value_of(refreshed.new_state).get_str("name"),
        Some("renamed")
    );
    remote.objects.lock().unwrap().clear();
    assert!(value_of(read(state).await.new_state).is_null());
}

#[tokio::test]
async fn import_returns_passthrough_state() {
    let (server, _) = configured().await;
    let response = server
        .import_resource_state(Request::new(pb::import_resource_state::Request {
            type_name: THING.into(),
            id: "thing-42".into(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(response.diagnostics.is_empty());
    let imported = &response.imported_resources[0];
    assert_eq!(imported.type_name, THING);
    let state = value_of(imported.state.clone());
    assert_eq!(state.get_str("id"), Some("thing-42"));
    assert!(state.get("name").is_null());
}

#[tokio::test]
async fn upgrade_state_from_old_same_and_newer_versions() {
    let (server, _) = configured().await;
    let upgrade = |version: i64, json: &str| {
        let server = server.clone();
        let json = json.as_bytes().to_vec();
        async move {
            server
                .upgrade_resource_state(Request::new(pb::upgrade_resource_state::Request {
                    type_name: THING.into(),
                    version,
                    raw_state: Some(pb::RawState {
                        json,
                        flatmap: HashMap::new(),
                    }),
                }))
                .await
                .unwrap()
                .into_inner()
        }
    };
    let v0 = upgrade(
        0,
        r#"{"id":"thing-7","title":"old name","description":null}"#,
    )
    .await;
    assert!(
        v0.diagnostics.is_empty(),
        "{:?}",
        summaries(&v0.diagnostics)
    );
    let state = value_of(v0.upgraded_state);
    assert_eq!(state.get_str("name"), Some("old name"));
    assert!(state.get("etag").is_null());

    // Same version: decoded as is, attributes the schema dropped are ignored.
    let v1 = upgrade(
        1,
        r#"{"id":"thing-8","name":"n","etag":"e","removed_attr":true}"#,
    )
    .await;
    assert!(
        v1.diagnostics.is_empty(),
        "{:?}",
        summaries(&v1.diagnostics)
    );
    assert_eq!(value_of(v1.upgraded_state).get_str("etag"), Some("e"));

    let v9 = upgrade(9, r#"{"id":"x"}"#).await;
    assert_eq!(
        errors(&v9.diagnostics),
        vec!["Resource state is from a newer provider"]
    );
    assert!(v9.upgraded_state.is_none());
}

#[tokio::test]
async fn stop_provider_cancels_an_in_flight_create_and_keeps_partial_state() {
    let (server, remote) = configured().await;
    let patient = config("patient");
    let planned = value_of(
        plan(&server, &Value::Null, &patient, &patient)
            .await
            .planned_state,
    );
    let running = {
        let server = server.clone();
        tokio::spawn(async move { apply(&server, &Value::Null, &planned, &patient).await })
    };
    remote.create_started.notified().await;
    server
        .stop_provider(Request::new(pb::stop_provider::Request {}))
        .await
        .unwrap();
    let response = tokio::time::timeout(Duration::from_secs(5), running)
        .await
        .expect("create did not stop")
        .unwrap();
    assert_eq!(errors(&response.diagnostics), vec!["Operation cancelled"]);
    let partial = value_of(response.new_state);
    assert_eq!(
        partial.get_str("id"),
        Some("thing-1"),
        "partial state must be kept so the object is not orphaned"
    );

    // The server keeps serving: the next operation is not pre-cancelled.
    let state = create(&server, &config("after-stop")).await;
    assert_eq!(state.get_str("name"), Some("after-stop"));
}

#[tokio::test]
async fn stop_provider_abandons_operations_that_ignore_cancellation() {
    let (server, remote) = configured().await;
    let config = config("stubborn");
    let planned = value_of(
        plan(&server, &Value::Null, &config, &config)
            .await
            .planned_state,
    );
    let running = {
        let server = server.clone();
        tokio::spawn(async move { apply(&server, &Value::Null, &planned, &config).await })
    };
    remote.create_started.notified().await;
    server
        .stop_provider(Request::new(pb::stop_provider::Request {}))
        .await
        .unwrap();
    let response = tokio::time::timeout(Duration::from_secs(5), running)
        .await
        .expect("not abandoned")
        .unwrap();
    assert_eq!(errors(&response.diagnostics), vec!["Operation cancelled"]);
    assert!(value_of(response.new_state).is_null());
}

#[tokio::test]
async fn create_timeout_comes_from_the_timeouts_block() {
    let (server, _) = configured().await;
    let config =
        config("stubborn").with("timeouts", Value::object([("create", Value::from("50ms"))]));
    let planned = value_of(
        plan(&server, &Value::Null, &config, &config)
            .await
            .planned_state,
    );
    let response = tokio::time::timeout(
        Duration::from_secs(5),
        apply(&server, &Value::Null, &planned, &config),
    )
    .await
    .unwrap();
    assert_eq!(errors(&response.diagnostics), vec!["Operation timed out"]);
}

#[tokio::test]
async fn unknown_values_left_after_apply_are_reported() {
    let (server, _) = configured().await;
    let config = config("forgetful");
    let planned = value_of(
        plan(&server, &Value::Null, &config, &config)
            .await
            .planned_state,
    );
    let response = apply(&server, &Value::Null, &planned, &config).await;
    assert_eq!(
        errors(&response.diagnostics),
        vec!["Provider returned an unknown value"]
    );
    let path = response.diagnostics[0].attribute.clone().unwrap();
    assert_eq!(
        AttributePath::from_proto6(&path),
        AttributePath::new("etag")
    );
    assert!(value_of(response.new_state).get("etag").is_null());
}

#[tokio::test]
async fn validation_tolerates_unknowns_and_checks_write_only_support() {
    let (server, _) = configured().await;
    let validate = |config: Value, write_only_allowed: bool| {
        let server = server.clone();
        async move {
            server
                .validate_resource_config(Request::new(pb::validate_resource_config::Request {
                    type_name: THING.into(),
                    config: dv(&config),
                    client_capabilities: Some(pb::ClientCapabilities {
                        deferral_allowed: false,
                        write_only_attributes_allowed: write_only_allowed,
                    }),
                }))
                .await
                .unwrap()
                .into_inner()
                .diagnostics
        }
    };
    assert!(
        validate(Value::object([("name", Value::unknown())]), false)
            .await
            .is_empty()
    );
    let with_password = config("a").with("password", "p");
    assert!(validate(with_password.clone(), true).await.is_empty());
    let refused = validate(with_password, false).await;
    assert_eq!(
        errors(&refused),
        vec!["Write-only attribute not supported by this Terraform version"]
    );
    let bad_timeout =
        config("a").with("timeouts", Value::object([("create", Value::from("soon"))]));
    let diags = validate(bad_timeout, true).await;
    assert_eq!(errors(&diags), vec!["Invalid timeout"]);
    assert_eq!(
        AttributePath::from_proto6(diags[0].attribute.as_ref().unwrap()),
        AttributePath::new("timeouts").attribute("create")
    );
}

#[tokio::test]
async fn unknown_types_and_unsupported_features_answer_with_diagnostics() {
    let (server, _) = configured().await;
    let response = plan(&server, &Value::Null, &Value::Null, &Value::Null).await;
    assert!(response.diagnostics.is_empty());
    let response = server
        .read_resource(Request::new(pb::read_resource::Request {
            type_name: "test_nope".into(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(errors(&response.diagnostics), vec!["Unknown resource type"]);
    let moved = server
        .move_resource_state(Request::new(pb::move_resource_state::Request {
            source_type_name: "other_thing".into(),
            target_type_name: THING.into(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        errors(&moved.diagnostics),
        vec!["Unable to move resource state"]
    );
    let identity = server
        .upgrade_resource_identity(Request::new(
            pb::upgrade_resource_identity::Request::default(),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(errors(&identity.diagnostics).len(), 1);
    let schemas = server
        .get_resource_identity_schemas(Request::new(pb::get_resource_identity_schemas::Request {}))
        .await
        .unwrap()
        .into_inner();
    assert!(schemas.identity_schemas.contains_key(THING) && schemas.diagnostics.is_empty());
    let mut events = server
        .list_resource(Request::new(pb::list_resource::Request {
            type_name: "test_nope".into(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    let event = tokio_stream::StreamExt::next(&mut events)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        errors(&event.diagnostic),
        vec!["Unknown list resource type"]
    );
    let store = server
        .lock_state(Request::new(pb::lock_state::Request::default()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        errors(&store.diagnostics),
        vec!["State storage not supported"]
    );
    // The framework names whichever provider it serves, here the test provider.
    assert_eq!(
        store.diagnostics[0].detail,
        "The test provider does not offer State storage."
    );
}

#[tokio::test]
async fn configure_errors_are_returned_with_their_path() {
    let server = FrameworkServer::new(TestProvider::new(Arc::new(Remote::default())));
    let provider_config = msgpack::encode(
        &Value::object([("endpoint", Value::from("broken"))]),
        server.server.provider_type(),
    )
    .unwrap();
    let response = server
        .configure_provider(Request::new(pb::configure_provider::Request {
            config: Some(pb::DynamicValue {
                msgpack: provider_config,
                json: Vec::new(),
            }),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(errors(&response.diagnostics), vec!["Cannot reach endpoint"]);
    // Without configuration, resources get a clear diagnostic instead of a panic.
    let config = config("alpha");
    let planned = value_of(
        plan(&server, &Value::Null, &config, &config)
            .await
            .planned_state,
    );
    let applied = apply(&server, &Value::Null, &planned, &config).await;
    assert_eq!(
        errors(&applied.diagnostics),
        vec!["Provider not configured"]
    );
}

#[tokio::test]
async fn data_source_reads_with_computed_values() {
    let (server, _) = configured().await;
    let ty = Type::object([("input", Type::String), ("output", Type::String)]);
    let config = Value::object([("input", Value::from("hi"))]);
    let response = server
        .read_data_source(Request::new(pb::read_data_source::Request {
            type_name: "test_echo".into(),
            config: Some(pb::DynamicValue {
                msgpack: msgpack::encode(&config, &ty).unwrap(),
                json: Vec::new(),
            }),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(response.diagnostics.is_empty());
    let state = msgpack::decode(&response.state.unwrap().msgpack, &ty).unwrap();
    assert_eq!(state.get_str("output"), Some("HI"));
}

#[tokio::test]
async fn call_function_decodes_arguments_and_reports_argument_errors() {
    let (server, _) = configured().await;
    let call = |arguments: Vec<Value>| {
        let server = server.clone();
        async move {
            let arguments = arguments
                .iter()
                .map(|a| pb::DynamicValue {
                    msgpack: msgpack::encode(a, &Type::String).unwrap(),
                    json: Vec::new(),
                })
                .collect();
            server
                .call_function(Request::new(pb::call_function::Request {
                    name: "join".into(),
                    arguments,
                }))
                .await
                .unwrap()
                .into_inner()
        }
    };
    let ok = call(vec![
        Value::from("-"),
        Value::from("a"),
        Value::from("b"),
        Value::from("c"),
    ])
    .await;
    assert!(ok.error.is_none());
    assert_eq!(
        msgpack::decode(&ok.result.unwrap().msgpack, &Type::String).unwrap(),
        Value::from("a-b-c")
    );

    let bad = call(vec![Value::from("-"), Value::from("a"), Value::from("bad")]).await;
    assert_eq!(bad.error.unwrap().function_argument, Some(2));
    let null = call(vec![Value::Null]).await;
    assert_eq!(null.error.unwrap().function_argument, Some(0));
    let missing = call(vec![]).await;
    let error = missing.error.unwrap();
    assert!(
        error.function_argument.is_none() && error.text.contains("1 or more"),
        "{}",
        error.text
    );
    let unknown = call(vec![Value::from("-"), Value::unknown()]).await;
    assert!(
        msgpack::decode(&unknown.result.unwrap().msgpack, &Type::String)
            .unwrap()
            .is_unknown()
    );
}

#[tokio::test]
async fn ephemeral_resources_open_renew_and_close_with_private_data() {
    let (server, _) = configured().await;
    let ty = Type::object([("scope", Type::String), ("token", Type::String)]);
    let config = Value::object([("scope", Value::from("graph"))]);
    let opened = server
        .open_ephemeral_resource(Request::new(pb::open_ephemeral_resource::Request {
            type_name: "test_token".into(),
            config: Some(pb::DynamicValue {
                msgpack: msgpack::encode(&config, &ty).unwrap(),
                json: Vec::new(),
            }),
            client_capabilities: None,
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(opened.diagnostics.is_empty());
    let result = msgpack::decode(&opened.result.unwrap().msgpack, &ty).unwrap();
    assert_eq!(result.get_str("token"), Some("tok-graph"));
    assert_eq!(opened.private.as_deref(), Some(&b"lease-1"[..]));
    assert_eq!(opened.renew_at.unwrap().seconds, 1_000);

    let renewed = server
        .renew_ephemeral_resource(Request::new(pb::renew_ephemeral_resource::Request {
            type_name: "test_token".into(),
            private: opened.private.clone(),
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(renewed.private.as_deref(), Some(&b"lease-1+renewed"[..]));
    assert!(renewed.renew_at.is_none());

    let closed = server
        .close_ephemeral_resource(Request::new(pb::close_ephemeral_resource::Request {
            type_name: "test_token".into(),
            private: renewed.private.clone(),
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(closed.diagnostics.is_empty());
    assert_eq!(
        *server.server.provider().tokens.closed.lock().unwrap(),
        vec![b"lease-1+renewed".to_vec()]
    );
}

#[tokio::test]
async fn json_dynamic_values_are_accepted() {
    let (server, _) = configured().await;
    let response = server
        .validate_resource_config(Request::new(pb::validate_resource_config::Request {
            type_name: THING.into(),
            config: Some(pb::DynamicValue {
                msgpack: Vec::new(),
                json: br#"{"name":"a","timeouts":{"create":"never"}}"#.to_vec(),
            }),
            client_capabilities: None,
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(errors(&response.diagnostics), vec!["Invalid timeout"]);
}

#[tokio::test]
async fn upgrade_of_empty_raw_state_is_null() {
    let (server, _) = configured().await;
    let response = server
        .upgrade_resource_state(Request::new(pb::upgrade_resource_state::Request {
            type_name: THING.into(),
            version: 1,
            raw_state: None,
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(response.diagnostics.is_empty());
    assert!(value_of(response.upgraded_state).is_null());
}

#[tokio::test]
async fn startup_problems_surface_in_schema_diagnostics() {
    struct Misnamed;

    #[async_trait]
    impl DataSource for Misnamed {
        fn type_name(&self) -> &str {
            "other_echo"
        }

        fn schema(&self) -> Schema {
            Schema::new().attribute(Attribute::string("flagless"))
        }

        async fn read(&self, _ctx: &Context, config: Value) -> Result<Value, Diagnostics> {
            Ok(config)
        }
    }

    struct Broken;

    #[async_trait]
    impl Provider for Broken {
        fn type_name(&self) -> &str {
            "test"
        }

        fn schema(&self) -> Schema {
            Schema::new()
        }

        async fn configure(
            &self,
            _ctx: &Context,
            _request: ConfigureRequest,
        ) -> Result<ProviderData, Diagnostics> {
            Ok(Arc::new(()))
        }

        fn resources(&self) -> Vec<Arc<dyn Resource>> {
            vec![Arc::new(Thing), Arc::new(Thing)]
        }

        fn data_sources(&self) -> Vec<Arc<dyn DataSource>> {
            vec![Arc::new(Misnamed)]
        }
    }

    let server = FrameworkServer::new(Broken);
    let schema = server
        .get_provider_schema(Request::new(pb::get_provider_schema::Request {}))
        .await
        .unwrap()
        .into_inner();
    let mut found = errors(&schema.diagnostics);
    found.sort();
    assert_eq!(
        found,
        vec![
            "Duplicate resource type",
            "Invalid data source type name",
            "Invalid schema attribute"
        ]
    );
}

#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogBuffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn rpc_logs_name_the_resource_type_but_never_values() {
    let logs = LogBuffer::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let (server, _) = configured().await;
    let config = config("visible-name").with("password", "hunter2-secret");
    let state = create(&server, &config).await;
    apply(&server, &state, &Value::Null, &Value::Null).await;

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        text.contains("PlanResourceChange") && text.contains("ApplyResourceChange"),
        "{text}"
    );
    assert!(text.contains(THING), "{text}");
    assert!(
        !text.contains("hunter2-secret"),
        "secret leaked into logs: {text}"
    );
    assert!(
        !text.contains("visible-name"),
        "values must not be logged: {text}"
    );
}

#[tokio::test]
async fn serves_over_real_grpc() {
    use crate::protocol::tfplugin6::provider_client::ProviderClient;
    use crate::protocol::tfplugin6::provider_server::ProviderServer;

    let remote = Arc::new(Remote::default());
    let service = ProviderServer::new(FrameworkServer::new(TestProvider::new(remote)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener);
    let server = tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(service)
            .serve_with_incoming(incoming),
    );

    let mut client = ProviderClient::connect(format!("http://{address}"))
        .await
        .unwrap();
    let schema = client
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .unwrap()
        .into_inner();
    assert!(schema.resource_schemas.contains_key(THING));
    let config = config("over-the-wire");
    let planned = client
        .plan_resource_change(pb::plan_resource_change::Request {
            type_name: THING.into(),
            prior_state: dv(&Value::Null),
            proposed_new_state: dv(&config),
            config: dv(&config),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(value_of(planned.planned_state).get("id").is_unknown());
    let mut events = client
        .invoke_action(pb::invoke_action::Request {
            action_type: "test_nothing".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let event = events.message().await.unwrap().unwrap();
    assert!(matches!(
        event.r#type,
        Some(pb::invoke_action::event::Type::Completed(_))
    ));
    client
        .stop_provider(pb::stop_provider::Request {})
        .await
        .unwrap();
    // StopProvider cancels operations, not the server.
    assert!(
        client
            .get_metadata(pb::get_metadata::Request {})
            .await
            .is_ok()
    );
    server.abort();
}

#[tokio::test]
async fn modify_plan_can_refuse_a_destroy() {
    let (server, _) = configured().await;
    let prior = create(&server, &config("alpha").with("description", "protected")).await;
    let response = plan(&server, &prior, &Value::Null, &Value::Null).await;
    assert_eq!(errors(&response.diagnostics), vec!["Protected"]);
    assert!(response.planned_state.is_none());
}

/// Terraform from the project's pinned tools (scripts/setup.sh), as the acceptance tests use it.
fn pinned_terraform() -> std::path::PathBuf {
    let tools = std::env::var_os("IDBRIDGE_TOOLS_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools"));
    let terraform = tools.join("bin").join("terraform");
    assert!(
        terraform.exists(),
        "{} is missing: run scripts/setup.sh or point IDBRIDGE_TOOLS_DIR at an installed .tools directory",
        terraform.display()
    );
    terraform
}

/// Runs Terraform against the in-process server (reattach mode: plain gRPC, no go-plugin handshake) and
/// returns its exit code and output.
async fn terraform(dir: &std::path::Path, reattach: &str, args: &[&str]) -> (i32, String) {
    let output = tokio::process::Command::new(pinned_terraform())
        .args(args)
        .arg("-no-color")
        .current_dir(dir)
        .env("TF_REATTACH_PROVIDERS", reattach)
        .env("TF_IN_AUTOMATION", "1")
        .env("CHECKPOINT_DISABLE", "1")
        .output()
        .await
        .expect("Terraform did not start");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code().unwrap_or(-1), text)
}

const TERRAFORM_CONFIG: &str = r#"
terraform {
  required_providers {
    test = { source = "example/test" }
  }
}

resource "test_thing" "a" {
  name     = "NAME"
  big      = 123456789012345678901234567890
  anything = { k = [1, "two", true] }
  members  = MEMBERS
  password = ephemeral.test_token.t.token
  timeouts {
    create = "5m"
  }
}

ephemeral "test_token" "t" {
  scope = "s3cret-wo"
}

output "joined" {
  value = provider::test::join("-", "a", "b")
}
"#;

fn terraform_config(name: &str, members: &[&str]) -> String {
    let members: Vec<String> = members
        .iter()
        .map(|p| format!("{{ principal = \"{p}\" }}"))
        .collect();
    TERRAFORM_CONFIG
        .replace("NAME", name)
        .replace("MEMBERS", &format!("[{}]", members.join(", ")))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_terraform_applies_updates_replaces_and_destroys_through_the_framework() {
    use crate::protocol::tfplugin6::provider_server::ProviderServer;

    let remote = Arc::new(Remote::default());
    let provider = TestProvider::new(remote.clone());
    let tokens = provider.tokens.clone();
    let service = ProviderServer::new(FrameworkServer::new(provider));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener);
    let server = tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(service)
            .serve_with_incoming(incoming),
    );
    let reattach = format!(
        r#"{{"registry.terraform.io/example/test":{{"Protocol":"grpc","ProtocolVersion":6,"Pid":{},"Test":true,"Addr":{{"Network":"tcp","String":"{address}"}}}}}}"#,
        std::process::id()
    );
    let dir = tempfile::tempdir().unwrap();
    let write_config = |name: &str, members: &[&str]| {
        std::fs::write(dir.path().join("main.tf"), terraform_config(name, members)).unwrap()
    };
    let run = |args: &'static [&'static str]| terraform(dir.path(), &reattach, args);

    write_config("alpha", &["alice", "bob"]);
    let (code, out) = run(&["init", "-input=false"]).await;
    assert_eq!(code, 0, "{out}");
    let (code, out) = run(&["apply", "-auto-approve", "-input=false"]).await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("joined = \"a-b\""), "{out}");

    let state_text = std::fs::read_to_string(dir.path().join("terraform.tfstate")).unwrap();
    assert!(
        !state_text.contains("s3cret-wo"),
        "write-only value stored in state"
    );
    // The write-only argument received the ephemeral token; the ephemeral resource was closed again.
    assert_eq!(
        *remote.passwords_seen.lock().unwrap(),
        vec!["tok-s3cret-wo".to_owned()]
    );
    assert!(!tokens.closed.lock().unwrap().is_empty());
    assert!(
        state_text.contains("123456789012345678901234567890"),
        "big number lost precision"
    );
    let state: serde_json::Value = serde_json::from_str(&state_text).unwrap();
    let attributes = &state["resources"][0]["instances"][0]["attributes"];
    assert_eq!(attributes["id"], "thing-1");
    assert_eq!(attributes["etag"], "v1");
    assert!(attributes["password"].is_null());
    assert_eq!(
        attributes["anything"]["type"],
        serde_json::json!(["object", {"k": ["tuple", ["number", "string", "bool"]]}])
    );
    let mut member_ids: Vec<&str> = attributes["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["member_id"].as_str().unwrap())
        .collect();
    member_ids.sort();
    assert_eq!(member_ids, vec!["mid-alice", "mid-bob"]);

    // Refresh + plan with nothing changed: the state round-trips exactly.
    let (code, out) = run(&["plan", "-detailed-exitcode", "-input=false"]).await;
    assert_eq!(code, 0, "expected no changes:\n{out}");

    // A new set element: only it is "known after apply"; existing member ids are kept.
    write_config("alpha", &["carol", "bob", "alice"]);
    let (code, out) = run(&["plan", "-input=false"]).await;
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("update in-place") && out.contains("(2 unchanged elements hidden)"),
        "{out}"
    );
    assert_eq!(
        out.matches("member_id = (known after apply)").count(),
        1,
        "{out}"
    );
    let (code, out) = run(&["apply", "-auto-approve", "-input=false"]).await;
    assert_eq!(code, 0, "{out}");

    write_config("beta", &["carol", "bob", "alice"]);
    let (code, out) = run(&["plan", "-input=false"]).await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("# forces replacement"), "{out}");

    let (code, out) = run(&["destroy", "-auto-approve", "-input=false"]).await;
    assert_eq!(code, 0, "{out}");
    assert!(remote.objects.lock().unwrap().is_empty());
    server.abort();
}

// ------------------------------------------------------------------ identity, list resources, actions

fn identity_type() -> Type {
    Type::object([("id", Type::String)])
}

fn identity_id(identity: Option<pb::ResourceIdentityData>) -> String {
    let data = identity.expect("no identity").identity_data.unwrap();
    let value = msgpack::decode(&data.msgpack, &identity_type()).unwrap();
    value.get_str("id").unwrap().to_owned()
}

fn identity_data(id: &str) -> Option<pb::ResourceIdentityData> {
    let identity = Value::object([("id", Value::from(id))]);
    Some(pb::ResourceIdentityData {
        identity_data: Some(pb::DynamicValue {
            msgpack: msgpack::encode(&identity, &identity_type()).unwrap(),
            json: Vec::new(),
        }),
    })
}

fn encoded_with(value: &Value, ty: &Type) -> Option<pb::DynamicValue> {
    Some(pb::DynamicValue {
        msgpack: msgpack::encode(value, ty).unwrap(),
        json: Vec::new(),
    })
}

#[tokio::test]
async fn identity_is_served_and_travels_with_every_state() {
    let (server, _) = configured().await;
    let schemas = server
        .get_resource_identity_schemas(Request::new(pb::get_resource_identity_schemas::Request {}))
        .await
        .unwrap()
        .into_inner();
    let thing = &schemas.identity_schemas[THING];
    assert_eq!(thing.version, 0);
    assert_eq!(thing.identity_attributes[0].name, "id");
    assert!(thing.identity_attributes[0].required_for_import);
    assert_eq!(thing.identity_attributes[0].r#type, br#""string""#.to_vec());

    // Create: no planned identity (the id is unknown), the apply reports it.
    let config = config("alpha");
    let planned = plan(&server, &Value::Null, &config, &config).await;
    assert!(planned.planned_identity.is_none());
    let applied = apply(
        &server,
        &Value::Null,
        &value_of(planned.planned_state),
        &config,
    )
    .await;
    let id = identity_id(applied.new_identity);
    let state = value_of(applied.new_state);
    assert_eq!(Some(id.as_str()), state.get_str("id"));

    // Read returns it for state written before identities (current_identity absent).
    let read = server
        .read_resource(Request::new(pb::read_resource::Request {
            type_name: THING.into(),
            current_state: dv(&state),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(identity_id(read.new_identity), id);

    // An update keeps it; a destroy has none.
    let changed = state.clone().with("description", "new");
    let update = plan(
        &server,
        &state,
        &changed,
        &changed.clone().with("id", Value::Null),
    )
    .await;
    assert_eq!(identity_id(update.planned_identity), id);
    let destroy = plan(&server, &state, &Value::Null, &Value::Null).await;
    assert!(destroy.planned_identity.is_none());
}

#[tokio::test]
async fn import_by_identity_runs_the_import_and_answers_with_the_identity() {
    let (server, remote) = configured().await;
    let state = create(&server, &config("alpha")).await;
    let id = state.get_str("id").unwrap().to_owned();
    let imported = server
        .import_resource_state(Request::new(pb::import_resource_state::Request {
            type_name: THING.into(),
            identity: identity_data(&id),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(
        imported.diagnostics.is_empty(),
        "{:?}",
        summaries(&imported.diagnostics)
    );
    let resource = imported.imported_resources.into_iter().next().unwrap();
    assert_eq!(value_of(resource.state).get_str("id"), Some(id.as_str()));
    assert_eq!(identity_id(resource.identity), id);

    // By ID, the identity comes back too.
    let by_id = server
        .import_resource_state(Request::new(pb::import_resource_state::Request {
            type_name: THING.into(),
            id: id.clone(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        identity_id(by_id.imported_resources[0].identity.clone()),
        id
    );

    // An empty identity attribute is refused with the attribute named, before anything is read.
    remote.objects.lock().unwrap().clear();
    let missing = server
        .import_resource_state(Request::new(pb::import_resource_state::Request {
            type_name: THING.into(),
            identity: identity_data(""),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        errors(&missing.diagnostics),
        vec!["Missing identity attribute"]
    );
    assert!(missing.diagnostics[0].detail.contains("`id`"));
}

#[tokio::test]
async fn stored_identities_of_the_current_version_upgrade_and_others_are_refused() {
    let (server, _) = configured().await;
    let upgrade = |version, json: &str| {
        server.upgrade_resource_identity(Request::new(pb::upgrade_resource_identity::Request {
            type_name: THING.into(),
            version,
            raw_identity: Some(pb::RawState {
                json: json.as_bytes().to_vec(),
                ..Default::default()
            }),
        }))
    };
    let same = upgrade(0, r#"{"id":"thing-9","gone":"x"}"#)
        .await
        .unwrap()
        .into_inner();
    assert!(same.diagnostics.is_empty());
    assert_eq!(identity_id(same.upgraded_identity), "thing-9");
    let newer = upgrade(3, r#"{"id":"thing-9"}"#)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        errors(&newer.diagnostics),
        vec!["Unable to upgrade resource identity"]
    );
}

async fn list(
    server: &FrameworkServer<TestProvider>,
    prefix: Option<&str>,
    include_resource: bool,
    limit: i64,
) -> Vec<pb::list_resource::Event> {
    let config_type = Type::object([("name_prefix", Type::String)]);
    let config = Value::object([("name_prefix", Value::from(prefix))]);
    let stream = server
        .list_resource(Request::new(pb::list_resource::Request {
            type_name: THING.into(),
            config: encoded_with(&config, &config_type),
            include_resource_object: include_resource,
            limit,
        }))
        .await
        .unwrap()
        .into_inner();
    tokio_stream::StreamExt::collect::<Vec<_>>(stream)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect()
}

#[tokio::test]
async fn list_resource_streams_identities_objects_and_problems_up_to_the_limit() {
    let (server, _) = configured().await;
    for name in ["app-one", "app-two", "unreadable", "other", "app-three"] {
        create(&server, &config(name)).await;
    }
    let schema = server
        .get_provider_schema(Request::new(pb::get_provider_schema::Request {}))
        .await
        .unwrap()
        .into_inner();
    assert!(schema.list_resource_schemas.contains_key(THING));

    let found = list(&server, Some("app-"), false, 100).await;
    let names: Vec<_> = found.iter().map(|e| e.display_name.as_str()).collect();
    assert_eq!(names, vec!["app-one", "app-two", "app-three"]);
    assert!(
        found
            .iter()
            .all(|e| e.resource_object.is_none() && e.diagnostic.is_empty())
    );
    assert_eq!(identity_id(found[1].identity.clone()), "thing-2");

    // With the objects, as read; the limit stops the listing.
    let two = list(&server, Some("app-"), true, 2).await;
    assert_eq!(two.len(), 2);
    let object = value_of(two[0].resource_object.clone());
    assert_eq!(object.get_str("name"), Some("app-one"));
    assert_eq!(object.get_str("etag"), Some("v1"));

    // A problem with one object is reported in the stream without ending it.
    let all = list(&server, None, false, 0).await;
    assert_eq!(all.len(), 5);
    assert_eq!(summaries(&all[2].diagnostic), vec!["Skipped"]);
    assert!(all[2].identity.is_none());

    let invalid = server
        .validate_list_resource_config(Request::new(pb::validate_list_resource_config::Request {
            type_name: THING.into(),
            config: encoded_with(
                &Value::object([("name_prefix", Value::from(""))]),
                &Type::object([("name_prefix", Type::String)]),
            ),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(errors(&invalid.diagnostics), vec!["Empty prefix"]);
}

fn rename_config(id: &str, name: &str) -> Option<pb::DynamicValue> {
    encoded_with(
        &Value::object([("id", Value::from(id)), ("name", Value::from(name))]),
        &Type::object([("id", Type::String), ("name", Type::String)]),
    )
}

#[tokio::test]
async fn actions_plan_then_invoke_with_progress_and_a_completion() {
    let (server, remote) = configured().await;
    let id = create(&server, &config("alpha"))
        .await
        .get_str("id")
        .unwrap()
        .to_owned();
    let schema = server
        .get_provider_schema(Request::new(pb::get_provider_schema::Request {}))
        .await
        .unwrap()
        .into_inner();
    assert!(schema.action_schemas["test_rename"].schema.is_some());
    let metadata = server
        .get_metadata(Request::new(pb::get_metadata::Request {}))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(metadata.actions[0].type_name, "test_rename");
    assert_eq!(metadata.list_resources[0].type_name, THING);

    let refused = server
        .plan_action(Request::new(pb::plan_action::Request {
            action_type: "test_rename".into(),
            config: rename_config(&id, "forbidden"),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(errors(&refused.diagnostics), vec!["Forbidden name"]);

    let stream = server
        .invoke_action(Request::new(pb::invoke_action::Request {
            action_type: "test_rename".into(),
            config: rename_config(&id, "beta"),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    let events: Vec<_> = tokio_stream::StreamExt::collect::<Vec<_>>(stream).await;
    use pb::invoke_action::event::Type as Event;
    let kinds: Vec<String> = events
        .into_iter()
        .map(|e| match e.unwrap().r#type.unwrap() {
            Event::Progress(p) => p.message,
            Event::Completed(c) => format!("done: {:?}", summaries(&c.diagnostics)),
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            format!("Renaming {id}"),
            "Renamed".to_owned(),
            r#"done: ["Renamed for good"]"#.to_owned()
        ]
    );
    assert_eq!(remote.objects.lock().unwrap()[&id], "beta");

    let missing = server
        .validate_action_config(Request::new(pb::validate_action_config::Request {
            type_name: "test_nothing".into(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(errors(&missing.diagnostics), vec!["Unknown action type"]);
}
