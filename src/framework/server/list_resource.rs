//! List resource RPCs: validation and the streamed listing behind `terraform query`.

use tokio::sync::mpsc;

use super::{DEFAULT_TIMEOUT, EncodedValue, Server, finish_state, unknown_type};
use crate::framework::diag::{Diagnostic, Diagnostics};
use crate::framework::list_resource::{ListItem, ListRequest, ListResults, Listed};
use crate::framework::provider::Provider;

/// How many results may wait for Terraform to read them before `list` waits too.
const RESULTS_IN_FLIGHT: usize = 16;

#[derive(Debug)]
pub(crate) struct ListResourceRequest {
    pub type_name: String,
    pub config: EncodedValue,
    pub include_resource: bool,
    pub limit: i64,
}

/// One event of the stream: a result (identity, display name, maybe the object) or diagnostics alone.
#[derive(Debug, Default)]
pub(crate) struct ListResourceEvent {
    pub identity: Option<EncodedValue>,
    pub display_name: String,
    pub resource_object: Option<EncodedValue>,
    pub diagnostics: Diagnostics,
}

impl ListResourceEvent {
    fn problem(diagnostics: Diagnostics) -> Self {
        ListResourceEvent {
            diagnostics,
            ..Default::default()
        }
    }
}

impl<P: Provider> Server<P> {
    pub(crate) async fn validate_list_resource_config(
        &self,
        type_name: &str,
        config: &EncodedValue,
    ) -> Diagnostics {
        self.validate(
            &self.list_resources,
            "list resource",
            type_name,
            config,
            true,
        )
        .await
    }

    /// Starts the listing and returns its events as they come; the listing stops when Terraform stops
    /// reading (query interrupted), at the limit, on StopProvider or at its timeout.
    pub(crate) fn list_resource(
        &self,
        request: ListResourceRequest,
    ) -> mpsc::Receiver<ListResourceEvent> {
        let (events, receiver) = mpsc::channel(RESULTS_IN_FLIGHT);
        let type_name = request.type_name.as_str();
        let prepared = (|| {
            let list = self
                .list_resources
                .get(type_name)
                .ok_or_else(|| unknown_type("list resource", type_name))?;
            let resource = self.resource(type_name)?;
            let (identity, identity_type) = self
                .identities
                .get(type_name)
                .ok_or_else(|| unknown_type("list resource", type_name))?;
            let config = request.config.decode(&list.ty)?;
            Ok::<_, Diagnostics>((
                list.handler.clone(),
                resource.schema.clone(),
                resource.ty.clone(),
                identity.clone(),
                identity_type.clone(),
                config,
            ))
        })();
        let (handler, schema, ty, identity, identity_type, config) = match prepared {
            Ok(prepared) => prepared,
            Err(diagnostics) => {
                let _ = events.try_send(ListResourceEvent::problem(diagnostics));
                return receiver;
            }
        };
        let ctx = self.context(type_name, DEFAULT_TIMEOUT, Vec::new());
        let include_resource = request.include_resource;
        let list_request = ListRequest {
            config,
            include_resource,
            limit: request.limit,
        };
        let limit = request.limit;
        tokio::spawn(async move {
            let (items, mut found) = mpsc::channel(RESULTS_IN_FLIGHT);
            let producer = async move {
                let results = ListResults::new(items, limit, include_resource);
                let outcome = ctx.guard(handler.list(&ctx, list_request, &results)).await;
                let mut diagnostics = ctx.take_diagnostics();
                if let Err(e) = outcome {
                    diagnostics.extend(e);
                }
                diagnostics
            };
            let events_out = events.clone();
            let consumer = async move {
                while let Some(item) = found.recv().await {
                    let event = match item {
                        ListItem::Problem(diagnostics) => ListResourceEvent::problem(diagnostics),
                        ListItem::Found(Listed {
                            display_name,
                            mut state,
                        }) => {
                            let object = identity.from_state(&state);
                            if !identity.is_complete(&object) {
                                ListResourceEvent::problem(
                                    Diagnostic::error(
                                        "Listed object without identity",
                                        format!("The listed object {display_name:?} lacks identity attributes. This is a bug in the provider."),
                                    )
                                    .into(),
                                )
                            } else {
                                let mut diagnostics = Diagnostics::new();
                                let resource_object = include_resource
                                    .then(|| {
                                        finish_state(&schema, &mut state, &mut diagnostics);
                                        EncodedValue::encode(&state, &ty)
                                            .map_err(|e| diagnostics.extend(e))
                                            .ok()
                                    })
                                    .flatten();
                                ListResourceEvent {
                                    identity: EncodedValue::encode(&object, &identity_type)
                                        .map_err(|e| diagnostics.extend(e))
                                        .ok(),
                                    display_name,
                                    resource_object,
                                    diagnostics,
                                }
                            }
                        }
                    };
                    if events_out.send(event).await.is_err() {
                        break;
                    }
                }
            };
            let (diagnostics, ()) = tokio::join!(producer, consumer);
            if !diagnostics.is_empty() {
                let _ = events.send(ListResourceEvent::problem(diagnostics)).await;
            }
        });
        receiver
    }
}
