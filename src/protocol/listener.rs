//! Where the plugin listens: a unix socket in a private temporary directory (go-plugin's choice on
//! every platform that has them), or TCP on 127.0.0.1 within Terraform's port range.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::handshake::PluginAddress;

/// Socket file name inside our private directory.
const SOCKET_FILE_NAME: &str = "provider.sock";

/// The environment go-plugin uses to steer where plugins listen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListenerSettings {
    /// `PLUGIN_UNIX_SOCKET_DIR`: parent directory for our socket directory (system temp if unset).
    pub unix_socket_dir: Option<PathBuf>,
    /// `PLUGIN_MIN_PORT` / `PLUGIN_MAX_PORT`: TCP port range (any free port when both are unset).
    pub min_port: Option<String>,
    pub max_port: Option<String>,
}

impl ListenerSettings {
    pub fn from_env() -> Self {
        let non_empty = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
        Self {
            unix_socket_dir: non_empty("PLUGIN_UNIX_SOCKET_DIR").map(PathBuf::from),
            min_port: non_empty("PLUGIN_MIN_PORT"),
            max_port: non_empty("PLUGIN_MAX_PORT"),
        }
    }

    /// The inclusive TCP port range to try, validated like go-plugin does.
    pub fn port_range(&self) -> Result<std::ops::RangeInclusive<u16>, ListenError> {
        let parse = |name: &'static str, value: &Option<String>| -> Result<u16, ListenError> {
            match value {
                None => Ok(0),
                Some(text) => text.trim().parse().map_err(|_| ListenError::InvalidPort {
                    name,
                    value: text.clone(),
                }),
            }
        };
        let min = parse("PLUGIN_MIN_PORT", &self.min_port)?;
        let max = parse("PLUGIN_MAX_PORT", &self.max_port)?;
        if min > max {
            return Err(ListenError::EmptyPortRange { min, max });
        }
        Ok(min..=max)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    #[error("{name} must be a port number between 0 and 65535, got {value:?}")]
    InvalidPort { name: &'static str, value: String },
    #[error("PLUGIN_MIN_PORT ({min}) is greater than PLUGIN_MAX_PORT ({max})")]
    EmptyPortRange { min: u16, max: u16 },
    #[error("no free TCP port on 127.0.0.1 between {min} and {max}: {last_error}")]
    NoFreePort {
        min: u16,
        max: u16,
        last_error: io::Error,
    },
}

/// A bound listener. Dropping it removes the socket directory.
pub enum PluginListener {
    #[cfg(unix)]
    Unix {
        listener: tokio::net::UnixListener,
        path: PathBuf,
        // Held so the directory (and the socket in it) is deleted when we stop.
        _directory: tempfile::TempDir,
    },
    Tcp(tokio::net::TcpListener),
}

impl PluginListener {
    /// A unix socket where the platform has them. Falls back to TCP if the socket cannot be
    /// created (for example a `PLUGIN_UNIX_SOCKET_DIR` so deep that the path exceeds the ~100
    /// byte limit of socket addresses); Terraform accepts either.
    pub fn bind(settings: &ListenerSettings) -> Result<Self, ListenError> {
        #[cfg(unix)]
        match Self::bind_unix(settings) {
            Ok(listener) => return Ok(listener),
            Err(error) => tracing::warn!(
                error = %error,
                "cannot listen on a unix socket, falling back to TCP on 127.0.0.1"
            ),
        }
        Self::bind_tcp(settings)
    }

    #[cfg(unix)]
    fn bind_unix(settings: &ListenerSettings) -> io::Result<Self> {
        use std::os::unix::fs::PermissionsExt as _;
        let mut builder = tempfile::Builder::new();
        // Only our user may reach the socket.
        builder
            .prefix("idbridge-plugin-")
            .permissions(std::fs::Permissions::from_mode(0o700));
        let directory = match &settings.unix_socket_dir {
            Some(parent) => builder.tempdir_in(parent)?,
            None => builder.tempdir()?,
        };
        let path = directory.path().join(SOCKET_FILE_NAME);
        let listener = tokio::net::UnixListener::bind(&path)?;
        Ok(Self::Unix {
            listener,
            path,
            _directory: directory,
        })
    }

    fn bind_tcp(settings: &ListenerSettings) -> Result<Self, ListenError> {
        let range = settings.port_range()?;
        let (min, max) = (*range.start(), *range.end());
        let mut last_error = io::Error::other("empty port range");
        for port in range {
            let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
            match std::net::TcpListener::bind(address).and_then(|listener| {
                listener.set_nonblocking(true)?;
                tokio::net::TcpListener::from_std(listener)
            }) {
                Ok(listener) => return Ok(Self::Tcp(listener)),
                Err(error) => last_error = error,
            }
        }
        Err(ListenError::NoFreePort {
            min,
            max,
            last_error,
        })
    }

    pub fn address(&self) -> io::Result<PluginAddress> {
        match self {
            #[cfg(unix)]
            Self::Unix { path, .. } => Ok(PluginAddress::Unix(path.clone())),
            Self::Tcp(listener) => Ok(PluginAddress::Tcp(listener.local_addr()?)),
        }
    }

    pub async fn accept(&self) -> io::Result<Connection> {
        match self {
            #[cfg(unix)]
            Self::Unix { listener, .. } => {
                let (stream, _) = listener.accept().await?;
                Ok(Connection::new(stream))
            }
            Self::Tcp(listener) => {
                let (stream, _) = listener.accept().await?;
                // gRPC sends many small frames; waiting to coalesce them only adds latency.
                stream.set_nodelay(true)?;
                Ok(Connection::new(stream))
            }
        }
    }
}

/// Any accepted byte stream (unix or TCP, plain or TLS) as one type for tonic.
pub struct Connection(Box<dyn Stream>);

trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

impl Connection {
    pub fn new(stream: impl AsyncRead + AsyncWrite + Unpin + Send + 'static) -> Self {
        Self(Box::new(stream))
    }
}

impl tonic::transport::server::Connected for Connection {
    // The peer is always Terraform on this machine; nothing about it is worth passing on.
    type ConnectInfo = ();
    fn connect_info(&self) -> Self::ConnectInfo {}
}

impl AsyncRead for Connection {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for Connection {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.0).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.0).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(min: Option<&str>, max: Option<&str>) -> ListenerSettings {
        ListenerSettings {
            unix_socket_dir: None,
            min_port: min.map(str::to_owned),
            max_port: max.map(str::to_owned),
        }
    }

    #[test]
    fn port_range_follows_go_plugin_rules() {
        assert_eq!(settings(None, None).port_range().unwrap(), 0..=0);
        assert_eq!(
            settings(Some("10000"), Some("25000")).port_range().unwrap(),
            10000..=25000
        );
        assert!(matches!(
            settings(Some("9"), Some("8")).port_range(),
            Err(ListenError::EmptyPortRange { min: 9, max: 8 })
        ));
        assert!(matches!(
            settings(Some("abc"), None).port_range(),
            Err(ListenError::InvalidPort {
                name: "PLUGIN_MIN_PORT",
                ..
            })
        ));
    }

    #[tokio::test]
    async fn tcp_listener_binds_loopback_inside_the_range() {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let taken = probe.local_addr().unwrap().port();
        // The first port of the range is taken, so the listener must move on to the next ones.
        let max = taken.saturating_add(50).to_string();
        let listener =
            PluginListener::bind_tcp(&settings(Some(&taken.to_string()), Some(&max))).unwrap();
        let PluginAddress::Tcp(address) = listener.address().unwrap() else {
            panic!("expected tcp");
        };
        assert!(address.ip().is_loopback());
        assert!(address.port() > taken && address.port() <= taken + 50);
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn unix_socket_lives_in_a_private_directory_removed_on_drop() {
        use std::os::unix::fs::PermissionsExt as _;
        let parent = tempfile::tempdir().unwrap();
        let listener = PluginListener::bind(&ListenerSettings {
            unix_socket_dir: Some(parent.path().to_owned()),
            ..ListenerSettings::default()
        })
        .unwrap();
        let PluginAddress::Unix(path) = listener.address().unwrap() else {
            panic!("expected unix");
        };
        let directory = path.parent().unwrap().to_owned();
        assert_eq!(directory.parent().unwrap(), parent.path());
        let mode = std::fs::metadata(&directory).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        assert!(path.exists());
        drop(listener);
        assert!(!directory.exists());
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn too_long_socket_path_falls_back_to_tcp() {
        let parent = tempfile::tempdir().unwrap();
        let deep = parent.path().join("d".repeat(120));
        std::fs::create_dir(&deep).unwrap();
        let listener = PluginListener::bind(&ListenerSettings {
            unix_socket_dir: Some(deep),
            ..ListenerSettings::default()
        })
        .unwrap();
        assert_eq!(listener.address().unwrap().network(), "tcp");
    }
}
