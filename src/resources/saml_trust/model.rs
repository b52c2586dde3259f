//! The typed model of `idbridge_saml_trust` and how the application, its service principal, the claims policy
//! and the federation metadata map onto it.

use std::collections::BTreeMap;

use super::{
    DEFAULT_CERTIFICATE_NAME, DEFAULT_NAMEID_SOURCE, DEFAULT_ROTATE_BEFORE_DAYS,
    DEFAULT_VALIDITY_DAYS,
};
use crate::clients::graph::models::{Application, ClaimsMappingPolicy, ServicePrincipal};
use crate::framework::{Attr, Value};
use crate::saml::{IdpFederationMetadata, nameid_formats};
use crate::services::claims_policies::{
    ACCESS_CONTROL_CLAIM_PREFIX, claims_definition, parse_claims_definition,
    split_access_control_claims, with_access_control_claims,
};
use crate::services::signing_certificates::{active_signing_thumbprint, certificate_expiry};

crate::model! {
    #[derive(Clone, Debug, Default, PartialEq)]
    pub struct SamlTrustModel {
        pub id: Attr<String>,
        pub application_id: Attr<String>,
        pub aws_metadata_xml: Attr<String>,
        pub entity_id: Attr<String>,
        pub acs_url: Attr<String>,
        pub sign_on_url: Attr<String>,
        pub relay_state: Attr<String>,
        pub nameid_source: Attr<String>,
        pub nameid_format: Attr<String>,
        pub additional_claims: Attr<BTreeMap<String, String>>,
        pub certificate_display_name: Attr<String>,
        pub certificate_validity_days: Attr<i64>,
        pub rotate_before_days: Attr<i64>,
        pub adopt_existing: Attr<bool>,
        pub service_principal_id: Attr<String>,
        pub claims_mapping_policy_id: Attr<String>,
        pub idp_metadata_xml: Attr<String>,
        pub idp_metadata_url: Attr<String>,
        pub idp_entity_id: Attr<String>,
        pub idp_sso_url: Attr<String>,
        pub idp_certificate_pem: Attr<String>,
        pub certificate_thumbprint: Attr<String>,
        pub certificate_expires_at: Attr<String>,
        pub timeouts: Value,
        // Session tags in the assertion (AccessControl claims).
        pub access_control_attributes: Attr<BTreeMap<String, String>>,
    }
}

/// What Entra ID holds for a trust, read by `refresh`.
pub(super) struct RemoteTrust<'a> {
    pub(super) application: &'a Application,
    pub(super) service_principal: &'a ServicePrincipal,
    pub(super) claims_policy: Option<&'a ClaimsMappingPolicy>,
    pub(super) metadata_url: String,
    pub(super) metadata_xml: String,
    pub(super) metadata: &'a IdpFederationMetadata,
}

impl SamlTrustModel {
    /// The outputs that change together when the signing certificate is replaced.
    pub(super) fn certificate_outputs_mut(&mut self) -> [&mut Attr<String>; 4] {
        [
            &mut self.certificate_thumbprint,
            &mut self.certificate_expires_at,
            &mut self.idp_certificate_pem,
            &mut self.idp_metadata_xml,
        ]
    }

    /// The computed outputs that only `refresh` fills in.
    fn read_outputs_mut(&mut self) -> [&mut Attr<String>; 5] {
        [
            &mut self.service_principal_id,
            &mut self.claims_mapping_policy_id,
            &mut self.idp_metadata_url,
            &mut self.idp_entity_id,
            &mut self.idp_sso_url,
        ]
    }

    /// What refresh found missing is planned to be made again, so the plan is not empty and one apply heals it:
    /// no active signing certificate of ours (removed, or `preferredTokenSigningKeyThumbprint` cleared) plans a
    /// new one; no claims mapping policy assigned plans it assigned (or created) again.
    pub(super) fn plan_repairs(&mut self, prior: &SamlTrustModel) {
        if prior.certificate_thumbprint.is_null() {
            for output in self.certificate_outputs_mut() {
                *output = Attr::unknown();
            }
        }
        if prior.claims_mapping_policy_id.is_null() {
            self.claims_mapping_policy_id = Attr::unknown();
        }
    }

    /// Whether this state (the prior one) is a trust adopted without a claims mapping policy, e.g. set up in
    /// the Entra admin center, whose claims the configuration leaves alone: Entra issues its default claims,
    /// and `nameid_*` stay null so the adoption plans no change. Setting any claim argument makes the trust
    /// manage a policy from then on.
    pub(super) fn adopted_with_default_claims(&self, config: &SamlTrustModel) -> bool {
        self.claims_mapping_policy_id.is_null()
            && self.nameid_source.is_null()
            && self.nameid_format.is_null()
            && config.nameid_source.is_null()
            && config.nameid_format.is_null()
            && config.additional_claims.is_null()
            && config.access_control_attributes.is_null()
    }

    /// Whether the plan leaves the claims to Entra's defaults (see [`Self::adopted_with_default_claims`]).
    pub(super) fn keeps_entra_default_claims(&self) -> bool {
        self.nameid_source.is_null() && self.nameid_format.is_null()
    }

    /// The claims mapping policy definition the plan asks for.
    pub(super) fn claims_definition(&self) -> String {
        claims_definition(
            self.nameid_source.as_str().unwrap_or(DEFAULT_NAMEID_SOURCE),
            self.nameid_format
                .as_str()
                .unwrap_or(nameid_formats::EMAIL_ADDRESS),
            &with_access_control_claims(
                &self.additional_claims.known().cloned().unwrap_or_default(),
                &self
                    .access_control_attributes
                    .known()
                    .cloned()
                    .unwrap_or_default(),
            ),
        )
    }

    /// Subject and validity in days of the next signing certificate.
    pub(super) fn next_certificate(&self) -> (&str, i64) {
        (
            self.certificate_display_name
                .as_str()
                .unwrap_or(DEFAULT_CERTIFICATE_NAME),
            self.certificate_validity_days
                .known()
                .copied()
                .unwrap_or(DEFAULT_VALIDITY_DAYS),
        )
    }

    /// The plan as a starting point for the state after apply: outputs still unknown become null until read.
    pub(super) fn seed_for_refresh(&self) -> SamlTrustModel {
        let mut seed = SamlTrustModel {
            id: self.application_id.clone(),
            ..self.clone()
        };
        let unknown_to_null = |output: &mut Attr<String>| {
            if output.is_unknown() {
                *output = Attr::Null;
            }
        };
        seed.certificate_outputs_mut()
            .into_iter()
            .for_each(unknown_to_null);
        seed.read_outputs_mut()
            .into_iter()
            .for_each(unknown_to_null);
        seed
    }

    /// The state for what Entra ID reports. `self` (the prior state, or the plan after apply) decides how
    /// "nothing" is shown: unset optional arguments stay null when Entra has nothing for them.
    pub(super) fn refreshed(&self, remote: &RemoteTrust) -> SamlTrustModel {
        let (application, sp) = (remote.application, remote.service_principal);
        let mut state = self.clone();
        state.id = application.id.as_str().into();
        state.service_principal_id = sp.id.as_str().into();
        let identifier = application.identifier_uris.first().cloned();
        if self.aws_metadata_xml.is_null() || self.entity_id.as_str().is_none() {
            state.entity_id = identifier.into();
            let redirects = application
                .web
                .clone()
                .and_then(|web| web.redirect_uris)
                .unwrap_or_default();
            let acs = self
                .acs_url
                .as_str()
                .filter(|acs| redirects.iter().any(|r| r == acs))
                .map(str::to_string)
                .or_else(|| redirects.first().cloned());
            state.acs_url = acs.into();
        } else if identifier.as_deref() != self.entity_id.as_str() {
            // With a metadata file, entity_id/acs_url are derived; drift shows on the file-derived values.
            state.entity_id = identifier.into();
        }
        if !(self.sign_on_url.is_null() && sp.login_url.is_none()) {
            state.sign_on_url = sp.login_url.clone().into();
        }
        let relay = sp
            .saml_single_sign_on_settings
            .as_ref()
            .and_then(|settings| settings.relay_state.clone());
        if !(self.relay_state.is_null() && relay.is_none()) {
            state.relay_state = relay.into();
        }
        match remote.claims_policy {
            Some(policy) => {
                state.claims_mapping_policy_id = policy.id.as_str().into();
                if let Some((source, format, additional)) = policy
                    .definition
                    .first()
                    .and_then(|definition| parse_claims_definition(definition))
                {
                    state.nameid_source = source.into();
                    state.nameid_format = format.into();
                    // AccessControl claims are `access_control_attributes`, unless a configuration without it
                    // lists them in `additional_claims`.
                    let kept_in_additional = self.access_control_attributes.is_null()
                        && self.additional_claims.known().is_some_and(|claims| {
                            claims
                                .keys()
                                .any(|claim| claim.starts_with(ACCESS_CONTROL_CLAIM_PREFIX))
                        });
                    let additional = if kept_in_additional {
                        additional
                    } else {
                        let (others, access_control) = split_access_control_claims(additional);
                        if !(self.access_control_attributes.is_null() && access_control.is_empty())
                        {
                            state.access_control_attributes = access_control.into();
                        }
                        others
                    };
                    if !(self.additional_claims.is_null() && additional.is_empty()) {
                        state.additional_claims = additional.into();
                    }
                }
            }
            None => state.claims_mapping_policy_id = Attr::Null,
        }
        let active = active_signing_thumbprint(sp);
        let thumbprint = active.clone().unwrap_or_default();
        state.certificate_thumbprint = active.into();
        state.certificate_expires_at = certificate_expiry(sp, &thumbprint).into();
        state.set_metadata_outputs(remote, &thumbprint);
        if state.certificate_validity_days.is_null() {
            state.certificate_validity_days = DEFAULT_VALIDITY_DAYS.into();
        }
        if state.rotate_before_days.is_null() {
            state.rotate_before_days = DEFAULT_ROTATE_BEFORE_DAYS.into();
        }
        if state.certificate_display_name.is_null() {
            state.certificate_display_name = DEFAULT_CERTIFICATE_NAME.into();
        }
        state
    }

    /// The outputs that come from the metadata. The metadata document carries a fresh ID on every fetch, so the
    /// stored XML is only replaced when what it says (issuer, sign-in URL, certificate) changed.
    fn set_metadata_outputs(&mut self, remote: &RemoteTrust, thumbprint: &str) {
        let metadata = remote.metadata;
        // No fallback to another certificate of the metadata: without an active one of ours Entra signs with
        // the tenant default, and showing that as the IdP certificate would hide the breakage.
        let certificate = metadata
            .signing_certificates
            .iter()
            .find(|c| !thumbprint.is_empty() && c.thumbprint_sha1.eq_ignore_ascii_case(thumbprint));
        let pem = certificate.map(|c| c.to_pem());
        let unchanged = self.idp_entity_id.as_str() == Some(metadata.entity_id.as_str())
            && self.idp_sso_url.as_str() == Some(metadata.sso_url.as_str())
            && self.idp_certificate_pem.as_str() == pem.as_deref()
            && self.idp_metadata_xml.as_str().is_some();
        if !unchanged {
            self.idp_metadata_xml = remote.metadata_xml.clone().into();
        }
        self.idp_metadata_url = remote.metadata_url.clone().into();
        self.idp_entity_id = metadata.entity_id.as_str().into();
        self.idp_sso_url = metadata.sso_url.as_str().into();
        self.idp_certificate_pem = pem.into();
    }
}
