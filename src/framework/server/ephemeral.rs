//! Ephemeral resource RPCs: validation, open, renew and close.

use std::time::SystemTime;

use super::{DEFAULT_TIMEOUT, EncodedValue, Registered, Server, unknown_type};
use crate::framework::diag::Diagnostics;
use crate::framework::ephemeral::EphemeralResource;
use crate::framework::provider::Provider;

#[derive(Debug, Default)]
pub(crate) struct OpenEphemeralResourceResponse {
    pub result: Option<EncodedValue>,
    pub private: Option<Vec<u8>>,
    pub renew_at: Option<SystemTime>,
    pub diagnostics: Diagnostics,
}

#[derive(Debug, Default)]
pub(crate) struct RenewEphemeralResourceResponse {
    pub private: Option<Vec<u8>>,
    pub renew_at: Option<SystemTime>,
    pub diagnostics: Diagnostics,
}

impl<P: Provider> Server<P> {
    fn ephemeral(
        &self,
        type_name: &str,
    ) -> Result<&Registered<dyn EphemeralResource>, Diagnostics> {
        self.ephemerals
            .get(type_name)
            .ok_or_else(|| unknown_type("ephemeral resource", type_name))
    }

    pub(crate) async fn validate_ephemeral_resource_config(
        &self,
        type_name: &str,
        config: &EncodedValue,
    ) -> Diagnostics {
        self.validate(
            &self.ephemerals,
            "ephemeral resource",
            type_name,
            config,
            true,
        )
        .await
    }

    pub(crate) async fn open_ephemeral_resource(
        &self,
        type_name: &str,
        config: &EncodedValue,
    ) -> OpenEphemeralResourceResponse {
        let mut response = OpenEphemeralResourceResponse::default();
        let outcome = async {
            let e = self.ephemeral(type_name)?;
            let config = config.decode(&e.ty)?;
            let ctx = self.context(type_name, DEFAULT_TIMEOUT, Vec::new());
            let result = self
                .supervise(&ctx, e.handler.open(&ctx, config), Diagnostics::from)
                .await;
            response.diagnostics.extend(ctx.take_diagnostics());
            let opened = result?;
            response.result = Some(EncodedValue::encode(&opened.result, &e.ty)?);
            response.private = opened.private;
            response.renew_at = opened.renew_at;
            Ok::<_, Diagnostics>(())
        }
        .await;
        if let Err(e) = outcome {
            response.diagnostics.extend(e);
        }
        response
    }

    pub(crate) async fn renew_ephemeral_resource(
        &self,
        type_name: &str,
        private: Option<Vec<u8>>,
    ) -> RenewEphemeralResourceResponse {
        let mut response = RenewEphemeralResourceResponse::default();
        let outcome = async {
            let e = self.ephemeral(type_name)?;
            let ctx = self.context(type_name, DEFAULT_TIMEOUT, Vec::new());
            let result = self
                .supervise(&ctx, e.handler.renew(&ctx, private), Diagnostics::from)
                .await;
            response.diagnostics.extend(ctx.take_diagnostics());
            let renewed = result?;
            response.private = renewed.private;
            response.renew_at = renewed.renew_at;
            Ok::<_, Diagnostics>(())
        }
        .await;
        if let Err(e) = outcome {
            response.diagnostics.extend(e);
        }
        response
    }

    pub(crate) async fn close_ephemeral_resource(
        &self,
        type_name: &str,
        private: Option<Vec<u8>>,
    ) -> Diagnostics {
        async {
            let e = self.ephemeral(type_name)?;
            let ctx = self.context(type_name, DEFAULT_TIMEOUT, Vec::new());
            let result = self
                .supervise(&ctx, e.handler.close(&ctx, private), Diagnostics::from)
                .await;
            let mut diags = ctx.take_diagnostics();
            if let Err(err) = result {
                diags.extend(err);
            }
            Ok::<_, Diagnostics>(diags)
        }
        .await
        .unwrap_or_else(|diags| diags)
    }
}
