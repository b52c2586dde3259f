//! The go-plugin handshake: what Terraform tells us through the environment when it launches the
//! provider, and the single line we answer with on stdout.

use std::fmt;

/// The environment variable and value Terraform sets to prove it launched us. A fixed, public
/// constant of the Terraform plugin protocol: it is not a secret, only a guard against users
/// running the binary by hand.
pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
pub const MAGIC_COOKIE_VALUE: &str =
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

/// go-plugin's own handshake version (the first field of the handshake line).
pub const CORE_PROTOCOL_VERSION: u32 = 1;

/// The only Terraform plugin protocol major version this provider speaks.
pub const PLUGIN_PROTOCOL_VERSION: u32 = 6;

/// Why the provider cannot start in plugin mode.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HandshakeError {
    #[error(
        "This binary is terraform-provider-idbridge, a Terraform/OpenTofu provider plugin. It is not \
meant to be run directly: Terraform or OpenTofu start it themselves when a configuration uses the \
idbridge provider. To debug it, run it with --debug and follow the printed instructions."
    )]
    NotLaunchedByTerraform,
    #[error(
        "Terraform offered plugin protocol version(s) {offered} (PLUGIN_PROTOCOL_VERSIONS), but \
terraform-provider-idbridge speaks only protocol version 6. Use Terraform 1.0 or later, or \
OpenTofu 1.6 or later."
    )]
    UnsupportedProtocolVersions { offered: String },
}

/// Fails unless Terraform launched us (the magic cookie is present and exact).
pub fn check_magic_cookie(cookie: Option<&str>) -> Result<(), HandshakeError> {
    match cookie {
        Some(value) if value == MAGIC_COOKIE_VALUE => Ok(()),
        _ => Err(HandshakeError::NotLaunchedByTerraform),
    }
}

/// Picks protocol 6 from the comma-separated `PLUGIN_PROTOCOL_VERSIONS` Terraform offers.
///
/// Like go-plugin, an absent or empty list means the caller predates version negotiation and
/// accepts our only version, and entries that are not numbers are ignored.
pub fn negotiate_protocol_version(offered: Option<&str>) -> Result<u32, HandshakeError> {
    let Some(offered) = offered.map(str::trim).filter(|list| !list.is_empty()) else {
        return Ok(PLUGIN_PROTOCOL_VERSION);
    };
    let speaks_ours = offered
        .split(',')
        .filter_map(|entry| entry.trim().parse::<u32>().ok())
        .any(|version| version == PLUGIN_PROTOCOL_VERSION);
    if speaks_ours {
        Ok(PLUGIN_PROTOCOL_VERSION)
    } else {
        Err(HandshakeError::UnsupportedProtocolVersions {
            offered: offered.to_owned(),
        })
    }
}

/// Where the gRPC server listens, in go-plugin's `network|address` terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PluginAddress {
    Unix(std::path::PathBuf),
    Tcp(std::net::SocketAddr),
}

impl PluginAddress {
    /// go-plugin's name for the network (`unix` or `tcp`).
    pub fn network(&self) -> &'static str {
        match self {
            PluginAddress::Unix(_) => "unix",
            PluginAddress::Tcp(_) => "tcp",
        }
    }

    /// The address as go-plugin writes it: a socket path, or `127.0.0.1:PORT`.
    pub fn address(&self) -> String {
        match self {
            PluginAddress::Unix(path) => path.display().to_string(),
            PluginAddress::Tcp(addr) => addr.to_string(),
        }
    }
}

/// The line that completes the handshake:
/// `CORE-VERSION|PLUGIN-VERSION|NETWORK|ADDRESS|grpc|SERVER-CERT`, where SERVER-CERT is the DER
/// of our AutoMTLS certificate in unpadded standard base64, or empty without TLS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandshakeLine {
    pub protocol_version: u32,
    pub address: PluginAddress,
    pub server_certificate_der: Option<Vec<u8>>,
}

impl fmt::Display for HandshakeLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use base64::Engine as _;
        let certificate = self
            .server_certificate_der
            .as_deref()
            .map(|der| base64::engine::general_purpose::STANDARD_NO_PAD.encode(der))
            .unwrap_or_default();
        write!(
            f,
            "{CORE_PROTOCOL_VERSION}|{}|{}|{}|grpc|{certificate}",
            self.protocol_version,
            self.address.network(),
            self.address.address()
        )
    }
}

impl std::str::FromStr for HandshakeLine {
    type Err = String;

    /// Reads a handshake line the way Terraform does, for clients of the provider (our tests and
    /// benchmarks).
    fn from_str(line: &str) -> Result<Self, Self::Err> {
        use base64::Engine as _;
        let fields: Vec<&str> = line.trim().split('|').collect();
        let [core, protocol, network, address, "grpc", certificate, ..] = fields[..] else {
            return Err(format!("not a gRPC plugin handshake line: {line:?}"));
        };
        if core != CORE_PROTOCOL_VERSION.to_string() {
            return Err(format!("unexpected core protocol version {core:?}"));
        }
        let protocol_version = protocol
            .parse()
            .map_err(|_| format!("protocol version {protocol:?} is not a number"))?;
        let address = match network {
            "unix" => PluginAddress::Unix(address.into()),
            "tcp" => PluginAddress::Tcp(
                address
                    .parse()
                    .map_err(|_| format!("{address:?} is not a TCP address"))?,
            ),
            other => return Err(format!("unknown network {other:?}")),
        };
        let server_certificate_der = if certificate.is_empty() {
            None
        } else {
            Some(
                base64::engine::general_purpose::STANDARD_NO_PAD
                    .decode(certificate)
                    .map_err(|error| {
                        format!("server certificate is not unpadded base64: {error}")
                    })?,
            )
        };
        Ok(Self {
            protocol_version,
            address,
            server_certificate_der,
        })
    }
}

/// The `TF_REATTACH_PROVIDERS` value that points Terraform at a provider started with `--debug`.
pub fn reattach_providers_json(provider_address: &str, address: &PluginAddress) -> String {
    serde_json::json!({
        provider_address: {
            "Protocol": "grpc",
            "ProtocolVersion": PLUGIN_PROTOCOL_VERSION,
            "Pid": std::process::id(),
            // Terraform leaves a "Test" provider running when it finishes, which is what a
            // debugging session wants.
            "Test": true,
            "Addr": { "Network": address.network(), "String": address.address() },
        }
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_cookie_must_match_exactly() {
        assert_eq!(check_magic_cookie(Some(MAGIC_COOKIE_VALUE)), Ok(()));
        assert_eq!(
            check_magic_cookie(None),
            Err(HandshakeError::NotLaunchedByTerraform)
        );
        assert_eq!(
            check_magic_cookie(Some("d602bf8f")),
            Err(HandshakeError::NotLaunchedByTerraform)
        );
    }

    #[test]
    fn friendly_message_says_what_the_binary_is() {
        let message = HandshakeError::NotLaunchedByTerraform.to_string();
        assert!(message.contains("Terraform/OpenTofu provider plugin"));
        assert!(message.contains("--debug"));
    }

    #[test]
    fn negotiation_picks_6_from_the_offer() {
        assert_eq!(negotiate_protocol_version(Some("6")), Ok(6));
        assert_eq!(negotiate_protocol_version(Some("5,6")), Ok(6));
        assert_eq!(negotiate_protocol_version(Some("6, 7")), Ok(6));
        assert_eq!(negotiate_protocol_version(Some("x,6")), Ok(6));
        assert_eq!(negotiate_protocol_version(None), Ok(6));
        assert_eq!(negotiate_protocol_version(Some("")), Ok(6));
    }

    #[test]
    fn negotiation_fails_clearly_without_6() {
        let error = negotiate_protocol_version(Some("4,5")).unwrap_err();
        assert_eq!(
            error,
            HandshakeError::UnsupportedProtocolVersions {
                offered: "4,5".into()
            }
        );
        assert!(error.to_string().contains("only protocol version 6"));
        assert!(negotiate_protocol_version(Some("bogus")).is_err());
    }

    #[test]
    fn handshake_line_for_unix_with_certificate() {
        let line = HandshakeLine {
            protocol_version: 6,
            address: PluginAddress::Unix("/tmp/plugin123/provider.sock".into()),
            // Two bytes encode to three characters, which shows whether padding is left out.
            server_certificate_der: Some(vec![0xff, 0xee]),
        };
        assert_eq!(
            line.to_string(),
            "1|6|unix|/tmp/plugin123/provider.sock|grpc|/+4"
        );
    }

    #[test]
    fn handshake_line_for_tcp_without_certificate() {
        let line = HandshakeLine {
            protocol_version: 6,
            address: PluginAddress::Tcp("127.0.0.1:10001".parse().unwrap()),
            server_certificate_der: None,
        };
        assert_eq!(line.to_string(), "1|6|tcp|127.0.0.1:10001|grpc|");
    }

    #[test]
    fn handshake_line_parses_back() {
        let line = HandshakeLine {
            protocol_version: 6,
            address: PluginAddress::Unix("/tmp/p/provider.sock".into()),
            server_certificate_der: Some(vec![1, 2, 3, 4, 5]),
        };
        assert_eq!(line.to_string().parse::<HandshakeLine>(), Ok(line));
        assert!("1|6|unix|/x|netrpc|".parse::<HandshakeLine>().is_err());
        assert!("2|6|unix|/x|grpc|".parse::<HandshakeLine>().is_err());
        assert!("1|6|tcp|nowhere|grpc|".parse::<HandshakeLine>().is_err());
    }

    #[test]
    fn reattach_json_has_terraforms_shape() {
        let json = reattach_providers_json(
            "registry.terraform.io/idbridge/idbridge",
            &PluginAddress::Unix("/tmp/x/provider.sock".into()),
        );
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        let entry = &value["registry.terraform.io/idbridge/idbridge"];
        assert_eq!(entry["Protocol"], "grpc");
        assert_eq!(entry["ProtocolVersion"], 6);
        assert_eq!(entry["Pid"], std::process::id());
        assert_eq!(entry["Test"], true);
        assert_eq!(entry["Addr"]["Network"], "unix");
        assert_eq!(entry["Addr"]["String"], "/tmp/x/provider.sock");
    }
}
