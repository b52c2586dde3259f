//! A synchronization job's schema (`GET`/`PUT …/synchronization/jobs/{id}/schema`), kept as the JSON Graph sends:
//! callers change a few attribute mappings and write everything else back as it was (Graph replaces the whole
//! schema on PUT).

use reqwest::Method;

use super::api::segment;
use super::client::{GraphClient, GraphError};

impl GraphClient {
    pub async fn get_synchronization_schema(
        &self,
        service_principal_id: &str,
        job_id: &str,
    ) -> Result<serde_json::Value, GraphError> {
        self.get(&self.synchronization_url(
            service_principal_id,
            &format!("/jobs/{}/schema", segment(job_id)?),
        )?)
        .await
    }

    pub async fn put_synchronization_schema(
        &self,
        service_principal_id: &str,
        job_id: &str,
        schema: &serde_json::Value,
    ) -> Result<(), GraphError> {
        let url = self.synchronization_url(
            service_principal_id,
            &format!("/jobs/{}/schema", segment(job_id)?),
        )?;
        self.send_no_content(Method::PUT, &url, Some(schema)).await
    }
}
