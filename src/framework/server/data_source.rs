//! Data source RPCs: validation and read.

use super::{DEFAULT_TIMEOUT, EncodedValue, Server, finish_state, unknown_type};
use crate::framework::diag::Diagnostics;
use crate::framework::provider::Provider;
use crate::framework::schema::{self, Operation};

#[derive(Debug, Default)]
pub(crate) struct ReadDataSourceResponse {
    pub state: Option<EncodedValue>,
    pub diagnostics: Diagnostics,
}

impl<P: Provider> Server<P> {
    pub(crate) async fn validate_data_resource_config(
        &self,
        type_name: &str,
        config: &EncodedValue,
    ) -> Diagnostics {
        self.validate(&self.data_sources, "data source", type_name, config, true)
            .await
    }

    pub(crate) async fn read_data_source(
        &self,
        type_name: &str,
        config: &EncodedValue,
    ) -> ReadDataSourceResponse {
        let mut diags = Diagnostics::new();
        let state = async {
            let d = self
                .data_sources
                .get(type_name)
                .ok_or_else(|| unknown_type("data source", type_name))?;
            let config = config.decode(&d.ty)?;
            let timeout = schema::timeout_from(&config, Operation::Read, DEFAULT_TIMEOUT);
            let ctx = self.context(type_name, timeout, Vec::new());
            let result = self
                .supervise(&ctx, d.handler.read(&ctx, config), Diagnostics::from)
                .await;
            diags.extend(ctx.take_diagnostics());
            let mut state = result?;
            finish_state(&d.schema, &mut state, &mut diags);
            EncodedValue::encode(&state, &d.ty)
        }
        .await;
        let state = state.map_err(|e| diags.extend(e)).ok();
        ReadDataSourceResponse {
            state,
            diagnostics: diags,
        }
    }
}
