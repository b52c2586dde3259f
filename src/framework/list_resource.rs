//! The `ListResource` trait (Terraform 1.14+ `list` blocks in `.tfquery.hcl`, run by `terraform query`):
//! finds existing remote objects of a managed resource type and streams them, each with its identity and,
//! when asked (`include_resource = true`), the full resource object, which `terraform query
//! -generate-config-out` turns into configuration plus an `import` block by identity.
//!
//! In the shape of terraform-plugin-framework's `list.ListResource`: the type name is the managed
//! resource's, the configuration has its own schema (the body of the `config` block), and results go to a
//! stream as they are found rather than after the last page.

use std::sync::atomic::{AtomicI64, Ordering};

use async_trait::async_trait;
use tokio::sync::mpsc;

use super::context::Context;
use super::diag::Diagnostics;
use super::resource::{Resource, opaque_debug};
use super::schema::Schema;
use super::value::Value;

/// Inputs of `list`.
#[derive(Clone)]
pub struct ListRequest {
    /// The `config` block, decoded with the list resource's schema.
    pub config: Value,
    /// Whether Terraform wants the full resource object of each result (else identities suffice).
    pub include_resource: bool,
    /// At most this many results are sent; `list` may stop paging once `ListResults::send` says so.
    pub limit: i64,
}

opaque_debug!(ListRequest);

/// One object found.
#[derive(Clone)]
pub struct Listed {
    /// Shown by `terraform query` beside the identity.
    pub display_name: String,
    /// The resource state: in full (as `read` returns it) when `include_resource` is set, otherwise at least
    /// the attributes the identity is read from.
    pub state: Value,
}

opaque_debug!(Listed);

/// A result or a problem, in the order `list` produced them.
pub(crate) enum ListItem {
    Found(Listed),
    Problem(Diagnostics),
}

/// Where `list` sends what it finds; the server encodes each result and streams it to Terraform at once.
pub struct ListResults {
    sender: mpsc::Sender<ListItem>,
    remaining: AtomicI64,
    include_resource: bool,
}

impl ListResults {
    pub(crate) fn new(sender: mpsc::Sender<ListItem>, limit: i64, include_resource: bool) -> Self {
        ListResults {
            sender,
            // Terraform always sends the `limit` (100 unless set); zero or less means none.
            remaining: AtomicI64::new(if limit > 0 { limit } else { i64::MAX }),
            include_resource,
        }
    }

    /// Whether results need their full state (a `read` per object) or only the identity attributes.
    pub fn include_resource(&self) -> bool {
        self.include_resource
    }

    /// Whether more results are wanted (the limit is not reached and Terraform still listens).
    pub fn wants_more(&self) -> bool {
        self.remaining.load(Ordering::SeqCst) > 0 && !self.sender.is_closed()
    }

    /// Sends one result; `false` when no more are wanted, so the caller stops paging.
    pub async fn send(&self, found: Listed) -> bool {
        if self.remaining.fetch_sub(1, Ordering::SeqCst) <= 0 {
            return false;
        }
        self.sender.send(ListItem::Found(found)).await.is_ok() && self.wants_more()
    }

    /// Reads the object `imported` (a state as `import_state` makes it) names, as a `terraform import` would;
    /// `None` when it is gone meanwhile or the read failed, which is reported without ending the listing.
    pub async fn read(
        &self,
        ctx: &Context,
        resource: &dyn Resource,
        imported: Value,
    ) -> Option<Value> {
        match resource.read(ctx, imported).await {
            Ok(found) => found,
            Err(problem) => {
                self.problem(problem).await;
                None
            }
        }
    }

    /// [`ListResults::read`]s the object and sends it; `false` when no more results are wanted.
    pub async fn read_and_send(
        &self,
        ctx: &Context,
        resource: &dyn Resource,
        display_name: String,
        imported: Value,
    ) -> bool {
        match self.read(ctx, resource, imported).await {
            Some(state) => {
                self.send(Listed {
                    display_name,
                    state,
                })
                .await
            }
            None => self.wants_more(),
        }
    }

    /// Like [`ListResults::read_and_send`] when Terraform wants full objects; otherwise sends `imported` as it
    /// is (it holds the identity attributes).
    pub async fn send_read(
        &self,
        ctx: &Context,
        resource: &dyn Resource,
        display_name: String,
        imported: Value,
    ) -> bool {
        if self.include_resource {
            self.read_and_send(ctx, resource, display_name, imported)
                .await
        } else {
            self.send(Listed {
                display_name,
                state: imported,
            })
            .await
        }
    }

    /// Reports a problem with one object (e.g. a read that failed) without ending the listing.
    pub async fn problem(&self, diagnostics: Diagnostics) {
        let _ = self.sender.send(ListItem::Problem(diagnostics)).await;
    }
}

/// A list resource type; `type_name` is the managed resource type whose objects it finds.
#[async_trait]
pub trait ListResource: Send + Sync + 'static {
    fn type_name(&self) -> &str;

    /// The schema of the `config` block of a `list` block.
    fn config_schema(&self) -> Schema;

    /// Cross-attribute checks of the `config` block; unknown values may appear.
    async fn validate_config(&self, _ctx: &Context, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }

    /// Finds the objects and sends each to `results` as soon as it is known. An error ends the listing
    /// (results sent before it stay).
    async fn list(
        &self,
        ctx: &Context,
        request: ListRequest,
        results: &ListResults,
    ) -> Result<(), Diagnostics>;
}
