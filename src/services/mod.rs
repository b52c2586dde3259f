//! The service layer: what resources share beyond one API call. The configured clients of both clouds, and
//! the cross-cloud orchestration (instance discovery, application resolution, SAML claims policies and signing
//! certificates, app role assignment, provisioning on demand and its wait, bulk account assignment convergence)
//! with the caches the configured provider owns.
//! Depends on the framework, the clients and the helpers; never on resources or the provider.

pub mod app_roles;
pub mod applications;
pub mod assignments;
pub mod cache;
pub mod claims_policies;
pub mod clients;
pub mod discovery;
pub mod identity_store;
pub mod instances;
pub mod members;
pub mod organizations;
pub mod permission_sets;
pub mod principal;
pub mod principal_access;
pub mod provisioning;
pub mod provisioning_jobs;
pub mod saml_sso;
pub mod scim_endpoint;
pub mod sign_in;
pub mod signing_certificates;

pub use clients::IdbridgeClients;
pub mod attribute_mappings;
