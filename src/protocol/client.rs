//! Dialing a running provider the way Terraform does (unix socket or TCP, optionally with
//! AutoMTLS). Used by our integration tests and benchmarks to exercise the real binary.

use std::sync::Arc;

use hyper_util::rt::TokioIo;
use rustls_pki_types::ServerName;
use tonic::transport::{Channel, Endpoint, Uri};

use super::handshake::PluginAddress;
use super::listener::Connection;

/// Opens a gRPC channel to `address`. With `tls`, performs the TLS handshake with that client
/// configuration (see [`super::tls::client_config`]).
pub async fn connect(
    address: &PluginAddress,
    tls: Option<Arc<rustls::ClientConfig>>,
) -> Result<Channel, tonic::transport::Error> {
    let address = address.clone();
    let connector = tower::service_fn(move |_: Uri| {
        let address = address.clone();
        let tls = tls.clone();
        async move {
            let stream = match &address {
                #[cfg(unix)]
                PluginAddress::Unix(path) => {
                    Connection::new(tokio::net::UnixStream::connect(path).await?)
                }
                #[cfg(not(unix))]
                PluginAddress::Unix(_) => {
                    return Err(std::io::Error::other("unix sockets are not available"));
                }
                PluginAddress::Tcp(socket) => {
                    let stream = tokio::net::TcpStream::connect(socket).await?;
                    stream.set_nodelay(true)?;
                    Connection::new(stream)
                }
            };
            let stream = match tls {
                None => stream,
                Some(config) => {
                    let name = ServerName::try_from("localhost").map_err(std::io::Error::other)?;
                    let tls_stream = tokio_rustls::TlsConnector::from(config)
                        .connect(name, stream)
                        .await?;
                    Connection::new(tls_stream)
                }
            };
            Ok::<_, std::io::Error>(TokioIo::new(stream))
        }
    });
    // The URI is required by the API but unused: the connector decides where to go.
    Endpoint::from_static("http://localhost")
        .connect_with_connector(connector)
        .await
}
