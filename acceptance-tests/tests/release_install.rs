//! The provider as a user installs it: `scripts/release.sh` packs the built binary in the Registry's layout,
//! the zip is served from a filesystem mirror, and `terraform init` picks it through a version constraint in
//! `required_providers` (no `dev_overrides`). The configuration uses only the provider function on a local file,
//! so no cloud and no credentials are involved. Layouts: Terraform CLI configuration docs, "filesystem_mirror"
//! (packed layout `HOSTNAME/NAMESPACE/TYPE/terraform-provider-TYPE_VERSION_TARGET.zip`); Registry "Publishing
//! providers" (zip holding `terraform-provider-NAME_vVERSION`, `_SHA256SUMS` over the zips and the manifest).

use std::path::{Path, PathBuf};
use std::process::Command;

use idbridge_acceptance::{CheckError, Step, TestCase, paths, skipped_without_tf_acc};
use serde_json::json;

/// The workspace version, which the provider crate shares.
const VERSION: &str = env!("CARGO_PKG_VERSION");
const NAME: &str = "terraform-provider-idbridge";
const PLATFORM: &str = "linux_amd64";
const ENTITY_ID: &str = "https://eu-west-1.signin.aws.amazon.com/platform/saml/d-93677c1e5a";

/// Runs scripts/release.sh on the built provider into `<dir>/dist` and lays the zip out as a filesystem mirror
/// in `<dir>/mirror`, which it returns.
fn packaged_mirror(dir: &Path) -> PathBuf {
    let provider = paths::provider_binary().unwrap_or_else(|error| panic!("{error}"));
    let dist = dir.join("dist");
    let output = Command::new(paths::workspace_root().join("scripts/release.sh"))
        .arg("--binary")
        .arg(&provider)
        .arg("--dist")
        .arg(&dist)
        .env_remove("GPG_PRIVATE_KEY")
        .env_remove("GPG_FINGERPRINT")
        .output()
        .expect("scripts/release.sh runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "release.sh failed:\n{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("NOT SIGNED"),
        "an unsigned release says so:\n{stdout}"
    );

    let zip = format!("{NAME}_{VERSION}_{PLATFORM}.zip");
    let manifest = format!("{NAME}_{VERSION}_manifest.json");
    let sums = format!("{NAME}_{VERSION}_SHA256SUMS");
    let listed: Vec<String> = std::fs::read_to_string(dist.join(&sums))
        .expect("release.sh writes SHA256SUMS")
        .lines()
        .map(|line| {
            line.split_whitespace()
                .last()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    assert_eq!(listed, [zip.clone(), manifest.clone()]);
    let check = Command::new("sha256sum")
        .args(["--check", "--strict", &sums])
        .current_dir(&dist)
        .output()
        .expect("sha256sum runs");
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dist.join(manifest)).unwrap()).unwrap();
    assert_eq!(manifest["metadata"]["protocol_versions"], json!(["6.0"]));

    let mirror = dir.join("mirror");
    let provider_dir = mirror.join("registry.terraform.io/idbridge/idbridge");
    std::fs::create_dir_all(&provider_dir).unwrap();
    std::fs::copy(dist.join(&zip), provider_dir.join(&zip)).unwrap();
    mirror
}

fn config(constraint: &str) -> String {
    let metadata = format!(
        "{}/testdata/aws_sso_metadata.xml",
        env!("CARGO_MANIFEST_DIR")
    );
    format!(
        r#"terraform {{
  required_providers {{
    idbridge = {{
      source  = "idbridge/idbridge"
      version = "{constraint}"
    }}
  }}
}}

output "entity_id" {{
  value = provider::idbridge::parse_aws_saml_metadata(file("{metadata}")).entity_id
}}
"#
    )
}

/// `~> MAJOR.MINOR.0` of this version: what a user pins.
fn pessimistic_constraint() -> String {
    let mut parts = VERSION.split('.');
    let (major, minor) = (parts.next().unwrap(), parts.next().unwrap());
    format!("~> {major}.{minor}.0")
}

#[test]
fn packaged_provider_installs_from_a_filesystem_mirror_and_applies() {
    if skipped_without_tf_acc() {
        return;
    }
    let scratch = tempfile::tempdir().unwrap();
    let mirror = packaged_mirror(scratch.path());

    // The constraint is what selects the package: one the mirror cannot meet fails init.
    let failure = TestCase::new(vec![Step::config(config("> 99.0.0"))])
        .name("mirror-unmet-constraint")
        .provider_from_filesystem_mirror(&mirror)
        .try_run()
        .expect_err("no version in the mirror matches > 99.0.0");
    assert!(
        failure.message.contains("terraform init failed")
            && failure
                .message
                .contains("no available releases match the given constraints"),
        "{failure}"
    );

    let provider = paths::provider_binary().unwrap();
    let config = config(&pessimistic_constraint());
    TestCase::new(vec![
        Step::config(config.clone()).check(|state| match state.output("entity_id") {
            Some(value) if value == ENTITY_ID => Ok(()),
            other => Err(CheckError::from(format!("output entity_id is {other:?}"))),
        }),
        // What init installed: the lock file pins this version, and the plugin Terraform runs is the binary
        // from the zip, under the name the Registry layout gives it.
        Step::config(config).pre(move |ctx| {
            let lock = std::fs::read_to_string(ctx.config_dir().join(".terraform.lock.hcl"))
                .map_err(|error| CheckError::from(format!("no lock file after init: {error}")))?;
            let pinned = format!("provider \"registry.terraform.io/idbridge/idbridge\" {{\n  version     = \"{VERSION}\"");
            if !lock.contains(&pinned) {
                return Err(CheckError::from(format!("lock file does not pin {VERSION}:\n{lock}")));
            }
            let installed = ctx.config_dir().join(format!(
                ".terraform/providers/registry.terraform.io/idbridge/idbridge/{VERSION}/{PLATFORM}/{NAME}_v{VERSION}"
            ));
            let same = std::fs::read(&installed).ok() == std::fs::read(&provider).ok();
            if same {
                Ok(())
            } else {
                Err(CheckError::from(format!("{} is not the packaged provider", installed.display())))
            }
        }),
    ])
    .provider_from_filesystem_mirror(&mirror)
    .run();
}
