//! Serving a fleet: one TCP listener per simulated address, the failure endpoints, and the
//! russh server that speaks for the SSH personas.
//!
//! Binding: every address gets its own listener socket bound to `127.x.y.z:port`, so a
//! closed radio (no listener) refuses connections exactly as a real one does, and the served
//! address is known without asking the socket. A /16 needs 65,534 descriptors; the soft
//! `RLIMIT_NOFILE` is raised as far as allowed at start (see
//! [`crate::pipe::raise_open_files_limit`]).
//!
//! Black hole: a listener with a backlog of 0 that never accepts, its accept queue filled by
//! siksim's own connections. Linux drops SYNs to a listener whose accept queue is full, so a
//! client's connect retransmits until its own timeout: a connect timeout on loopback.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

use rand::SeedableRng;
use russh::keys::ssh_key::private::{Ed25519Keypair, RsaKeypair};
use russh::keys::{Algorithm, PrivateKey};
use russh::server::{Auth, Config, Handle, Handler, Msg, Response, Session};
use russh::{Channel, ChannelId, MethodKind, MethodSet, Preferred, SshId, cipher, kex, mac};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};
use tokio::sync::oneshot;

use super::device::{Device, Kind};
use super::fleet::Fleet;
use super::identity::Draw;
use super::persona::Persona;
use super::session::{self, Behaviour, End, Output};
use super::state::Registry;
use super::telnet;

/// The SSH identification string every simulated SSH host sends.
pub const SERVER_ID: &str = concat!("SSH-2.0-siksim_", env!("CARGO_PKG_VERSION"));

/// The line the garbage persona sends before closing.
pub const GARBAGE_LINE: &str = "220 ProFTPD Server (siksim) ready.\r\n";

/// Descriptors a serving process keeps free for sessions beyond one per listener.
pub const FD_HEADROOM: u64 = 4096;

/// Why serving could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Binding a privileged port without the privilege.
    #[error(
        "cannot listen on {addr} (ports below 1024 need root or CAP_NET_BIND_SERVICE; use --port 2222)"
    )]
    Privileged {
        /// The address and port.
        addr: SocketAddrV4,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// Any other bind or listen failure.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address and port.
        addr: SocketAddrV4,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// A black hole's accept queue did not fill, so connects would not time out.
    #[error("black hole {addr}: the accept queue did not fill after {tries} connections")]
    BlackHole {
        /// The address and port.
        addr: SocketAddrV4,
        /// Connections made.
        tries: usize,
    },
    /// The RSA host key for legacy personas could not be made.
    #[error("cannot generate the RSA host key for legacy-only personas: {0}")]
    HostKey(String),
}

/// What every connection handler shares.
struct Shared {
    fleet: Fleet,
    seed: u64,
    registry: Registry,
    /// The fleet-wide RSA host key of legacy-only personas (RSA generation is too slow to do
    /// per address).
    rsa: Option<PrivateKey>,
}

/// A fleet being served; dropping it stops every listener.
pub struct Server {
    tasks: Vec<tokio::task::JoinHandle<()>>,
    /// Black-hole listeners and the connections that fill their queues.
    _holes: Vec<(TcpListener, Vec<TcpStream>)>,
    listening: usize,
}

impl Server {
    /// Binds the addresses of the fleet at positions `part` (in address order) on `port`
    /// (SSH) and `telnet_port` (devices that serve Telnet), and starts serving them. Returns
    /// once every listener is up.
    pub async fn start(
        fleet: Fleet,
        seed: u64,
        port: u16,
        telnet_port: u16,
        part: Range<usize>,
    ) -> Result<Server, ServeError> {
        let rsa = if fleet
            .iter()
            .any(|ip| fleet.profile(ip).is_some_and(|p| p.legacy_only))
        {
            Some(rsa_key(seed)?)
        } else {
            None
        };
        let shared = Arc::new(Shared {
            fleet,
            seed,
            registry: Registry::new(),
            rsa,
        });
        let mut tasks = Vec::new();
        let mut holes = Vec::new();
        let mut hole_addrs = Vec::new();
        let mut listening = 0;
        for ip in shared.fleet.iter().skip(part.start).take(part.len()) {
            let Some(profile) = shared.fleet.profile(ip) else {
                continue;
            };
            if profile.telnet && Device::new(seed, ip, profile).speaks_telnet() {
                let listener = listen(SocketAddrV4::new(ip, telnet_port), 1024)?;
                let shared = shared.clone();
                tasks.push(tokio::spawn(accept_loop(
                    listener,
                    ip,
                    shared,
                    Service::Telnet,
                )));
            }
            let addr = SocketAddrV4::new(ip, port);
            match profile.persona {
                Persona::Closed | Persona::Telnet => continue,
                Persona::BlackHole => {
                    hole_addrs.push(addr);
                    continue;
                }
                _ => {}
            }
            let listener = listen(addr, 1024)?;
            listening += 1;
            let shared = shared.clone();
            tasks.push(tokio::spawn(accept_loop(
                listener,
                ip,
                shared,
                Service::Ssh,
            )));
        }
        let filled = futures::future::join_all(hole_addrs.into_iter().map(black_hole)).await;
        for hole in filled {
            holes.push(hole?);
            listening += 1;
        }
        Ok(Server {
            tasks,
            _holes: holes,
            listening,
        })
    }

    /// How many addresses have a listening socket (closed ones have none).
    pub fn listening(&self) -> usize {
        self.listening
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

fn listen(addr: SocketAddrV4, backlog: u32) -> Result<TcpListener, ServeError> {
    let bind_error = |source: io::Error| {
        if source.kind() == io::ErrorKind::PermissionDenied {
            ServeError::Privileged { addr, source }
        } else {
            ServeError::Bind { addr, source }
        }
    };
    let socket = TcpSocket::new_v4().map_err(bind_error)?;
    socket.set_reuseaddr(true).map_err(bind_error)?;
    socket.bind(SocketAddr::V4(addr)).map_err(bind_error)?;
    socket.listen(backlog).map_err(bind_error)
}

/// A listener that never accepts, with its accept queue filled by our own connections.
async fn black_hole(addr: SocketAddrV4) -> Result<(TcpListener, Vec<TcpStream>), ServeError> {
    const TRIES: usize = 16;
    let listener = listen(addr, 0)?;
    let mut held = Vec::new();
    for _ in 0..TRIES {
        match tokio::time::timeout(Duration::from_millis(250), TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => held.push(stream),
            // Timed out: the queue is full and SYNs are now dropped.
            Err(_) => return Ok((listener, held)),
            Ok(Err(source)) => return Err(ServeError::Bind { addr, source }),
        }
    }
    Err(ServeError::BlackHole { addr, tries: TRIES })
}

/// What a listener serves.
#[derive(Debug, Clone, Copy)]
enum Service {
    Ssh,
    Telnet,
}

async fn accept_loop(listener: TcpListener, ip: Ipv4Addr, shared: Arc<Shared>, service: Service) {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            // Out of descriptors or a connection reset before accept: keep serving.
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let shared = shared.clone();
        tokio::spawn(async move {
            // A session's failure concerns that client only.
            let _ = match service {
                Service::Ssh => serve(stream, ip, shared).await,
                Service::Telnet => serve_telnet(stream, ip, &shared).await,
            };
        });
    }
}

async fn serve(mut stream: TcpStream, ip: Ipv4Addr, shared: Arc<Shared>) -> io::Result<()> {
    let Some(profile) = shared.fleet.profile(ip) else {
        return Ok(());
    };
    let device = Device::new(shared.seed, ip, profile);
    match device.kind {
        Kind::Silent => {
            // Hold the connection, say nothing, until the client gives up.
            let mut sink = [0u8; 512];
            while stream.read(&mut sink).await? > 0 {}
            Ok(())
        }
        Kind::Garbage => {
            stream.write_all(GARBAGE_LINE.as_bytes()).await?;
            stream.shutdown().await
        }
        Kind::Closed | Kind::BlackHole => Ok(()),
        Kind::Siklu(_) | Kind::Tg(_) | Kind::Linux | Kind::Router => {
            stream.set_nodelay(true)?;
            let config = Arc::new(config(&device, &shared));
            let handler = Conn {
                shared: shared.clone(),
                device: Arc::new(device),
                channels: HashMap::new(),
            };
            let session = russh::server::run_stream(config, stream, handler)
                .await
                .map_err(|e| io::Error::other(e.to_string()))?;
            session.await.map_err(|e| io::Error::other(e.to_string()))
        }
    }
}

async fn serve_telnet(stream: TcpStream, ip: Ipv4Addr, shared: &Shared) -> io::Result<()> {
    let Some(profile) = shared.fleet.profile(ip) else {
        return Ok(());
    };
    let device = Device::new(shared.seed, ip, profile);
    telnet::serve(stream, &device, shared.seed, &shared.registry).await
}

/// The host key of one address: Ed25519 drawn from the seed and the address.
pub fn host_key(seed: u64, ip: Ipv4Addr) -> PrivateKey {
    let mut draw = Draw::new(seed, ip, "host-key");
    let mut bytes = [0u8; 32];
    for chunk in bytes.chunks_mut(8) {
        chunk.copy_from_slice(&draw.next_u64().to_le_bytes());
    }
    PrivateKey::from(Ed25519Keypair::from_seed(&bytes))
}

/// The fleet-wide RSA host key of legacy-only personas, deterministic from the seed.
pub fn rsa_key(seed: u64) -> Result<PrivateKey, ServeError> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed ^ 0x5151_4b52_5341);
    let pair =
        RsaKeypair::random(&mut rng, 2048).map_err(|e| ServeError::HostKey(e.to_string()))?;
    Ok(PrivateKey::from(pair))
}

/// A host key as clients record it: `ALGORITHM SHA256:…` (`ssh-keygen -l` style).
pub fn fingerprint(key: &PrivateKey) -> String {
    format!(
        "{} {}",
        key.algorithm(),
        key.public_key().fingerprint(russh::keys::HashAlg::Sha256)
    )
}

const LEGACY_KEX: &[kex::Name] = &[kex::DH_G14_SHA1, kex::DH_G1_SHA1];
const LEGACY_KEYS: &[Algorithm] = &[Algorithm::Rsa { hash: None }];
const LEGACY_CIPHERS: &[cipher::Name] = &[
    cipher::AES_128_CBC,
    cipher::AES_256_CBC,
    cipher::TRIPLE_DES_CBC,
];
const LEGACY_MACS: &[mac::Name] = &[mac::HMAC_SHA1];

/// The authentication methods a device offers, before and after every failed attempt.
fn methods(profile: &super::persona::Profile) -> MethodSet {
    let methods: &[MethodKind] = if profile.kbd_interactive_only {
        &[MethodKind::KeyboardInteractive]
    } else {
        &[MethodKind::Password, MethodKind::KeyboardInteractive]
    };
    MethodSet::from(methods)
}

fn config(device: &Device, shared: &Shared) -> Config {
    let profile = &device.profile;
    let (keys, preferred) = match (&shared.rsa, profile.legacy_only) {
        (Some(rsa), true) => (
            vec![rsa.clone()],
            Preferred {
                kex: Cow::Borrowed(LEGACY_KEX),
                key: Cow::Borrowed(LEGACY_KEYS),
                cipher: Cow::Borrowed(LEGACY_CIPHERS),
                mac: Cow::Borrowed(LEGACY_MACS),
                compression: Cow::Borrowed(&[russh::compression::NONE]),
                ..Preferred::DEFAULT
            },
        ),
        _ => (vec![host_key(shared.seed, device.ip)], Preferred::DEFAULT),
    };
    Config {
        server_id: SshId::Standard(Cow::Borrowed(SERVER_ID)),
        methods: methods(profile),
        auth_rejection_time: Duration::from_millis(200),
        auth_rejection_time_initial: Some(Duration::ZERO),
        keys,
        preferred,
        nodelay: true,
        inactivity_timeout: Some(Duration::from_secs(3600)),
        ..Config::default()
    }
}

/// One channel's input pipe and close signal.
struct Chan {
    /// Input to the session task; dropped on EOF.
    tx: Option<UnboundedSender<Vec<u8>>>,
    rx: Option<UnboundedReceiver<Vec<u8>>>,
    /// Dropped when the channel closes (or the connection goes), waking hung tasks.
    _close: oneshot::Sender<()>,
    closed: Option<session::Closed>,
    pty: bool,
}

/// One SSH connection.
struct Conn {
    shared: Arc<Shared>,
    device: Arc<Device>,
    channels: HashMap<ChannelId, Chan>,
}

impl Conn {
    /// A failed attempt leaves every method open, as sshd does. (russh would otherwise drop
    /// `password` after one failure, and paramiko would then fall back to keyboard-interactive
    /// through a fresh authentication handler that forgets the banner it had read:
    /// batchscanner's wrong-password radio would lose its identity.)
    fn reject(&self) -> Auth {
        Auth::Reject {
            proceed_with_methods: Some(methods(&self.device.profile)),
            partial_success: false,
        }
    }

    fn credentials_match(&self, user: &str, password: &[u8]) -> bool {
        let profile = &self.device.profile;
        user == profile.user && password == profile.password.as_bytes()
    }

    async fn login_delay(&self) {
        let delay = self.device.profile.login_delay;
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
    }

    fn behaviour(&self) -> Behaviour {
        Behaviour::from(&self.device.profile)
    }

    /// The channel's input and close signal, for the one task that runs on it.
    fn take_io(
        &mut self,
        channel: ChannelId,
    ) -> Option<(UnboundedReceiver<Vec<u8>>, session::Closed, bool)> {
        let chan = self.channels.get_mut(&channel)?;
        Some((chan.rx.take()?, chan.closed.take()?, chan.pty))
    }
}

/// Output to an SSH channel (standard output, or standard error with `ext`).
struct ChannelOut {
    handle: Handle,
    id: ChannelId,
    ext: Option<u32>,
}

impl Output for ChannelOut {
    async fn write(&mut self, data: Vec<u8>) -> bool {
        match self.ext {
            Some(ext) => self.handle.extended_data(self.id, ext, data).await.is_ok(),
            None => self.handle.data(self.id, data).await.is_ok(),
        }
    }
}

async fn finish(handle: &Handle, id: ChannelId, status: Option<u32>) {
    if let Some(status) = status {
        let _ = handle.exit_status_request(id, status).await;
        let _ = handle.eof(id).await;
    }
    let _ = handle.close(id).await;
}

impl Handler for Conn {
    type Error = russh::Error;

    async fn authentication_banner(&mut self) -> Result<Option<String>, Self::Error> {
        Ok(self.device.banner())
    }

    async fn auth_password(&mut self, user: &str, password: &str) -> Result<Auth, Self::Error> {
        if self.device.profile.kbd_interactive_only {
            return Ok(self.reject());
        }
        self.login_delay().await;
        Ok(if self.credentials_match(user, password.as_bytes()) {
            Auth::Accept
        } else {
            self.reject()
        })
    }

    async fn auth_keyboard_interactive<'a>(
        &'a mut self,
        user: &str,
        _submethods: &str,
        response: Option<Response<'a>>,
    ) -> Result<Auth, Self::Error> {
        let Some(mut response) = response else {
            return Ok(Auth::Partial {
                name: Cow::Borrowed(""),
                instructions: Cow::Borrowed(""),
                prompts: Cow::Owned(vec![(Cow::Borrowed("Password: "), false)]),
            });
        };
        let answer = response.next().unwrap_or_default();
        self.login_delay().await;
        Ok(if self.credentials_match(user, &answer) {
            Auth::Accept
        } else {
            self.reject()
        })
    }

    async fn channel_open_session(
        &mut self,
        channel: Channel<Msg>,
        reply: russh::server::ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        let (tx, rx) = mpsc::unbounded_channel();
        let (close, closed) = oneshot::channel();
        self.channels.insert(
            channel.id(),
            Chan {
                tx: Some(tx),
                rx: Some(rx),
                _close: close,
                closed: Some(closed),
                pty: false,
            },
        );
        reply.accept().await;
        Ok(())
    }

    async fn pty_request(
        &mut self,
        channel: ChannelId,
        _term: &str,
        _col_width: u32,
        _row_height: u32,
        _pix_width: u32,
        _pix_height: u32,
        _modes: &[(russh::Pty, u32)],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        if let Some(chan) = self.channels.get_mut(&channel) {
            chan.pty = true;
        }
        session.channel_success(channel)
    }

    async fn env_request(
        &mut self,
        channel: ChannelId,
        _name: &str,
        _value: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_success(channel)
    }

    async fn shell_request(
        &mut self,
        channel: ChannelId,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        let cli = self.device.cli(self.shared.seed, &self.shared.registry);
        let (Some(cli), Some((rx, closed, pty))) = (cli, self.take_io(channel)) else {
            return session.channel_failure(channel);
        };
        session.channel_success(channel)?;
        let as_script = !pty && !cli.prompts_without_terminal();
        let behaviour = self.behaviour();
        let handle = session.handle();
        tokio::spawn(async move {
            let mut out = ChannelOut {
                handle: handle.clone(),
                id: channel,
                ext: None,
            };
            let end = if as_script {
                let mut err = ChannelOut {
                    handle: handle.clone(),
                    id: channel,
                    ext: Some(1),
                };
                session::script(cli, behaviour, rx, closed, &mut out, &mut err).await
            } else {
                session::shell(cli, behaviour, rx, closed, &mut out).await
            };
            // A client that sent EOF still gets an exit status, as from a shell that read EOF.
            let status = match end {
                End::Closed(status) => status,
                End::Gone => 0,
            };
            finish(&handle, channel, Some(status)).await;
        });
        Ok(())
    }

    async fn exec_request(
        &mut self,
        channel: ChannelId,
        data: &[u8],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        let cli = self.device.cli(self.shared.seed, &self.shared.registry);
        let (Some(cli), Some((_, closed, pty))) = (cli, self.take_io(channel)) else {
            return session.channel_failure(channel);
        };
        session.channel_success(channel)?;
        let command = String::from_utf8_lossy(data).into_owned();
        let behaviour = self.behaviour();
        let handle = session.handle();
        tokio::spawn(async move {
            let mut out = ChannelOut {
                handle: handle.clone(),
                id: channel,
                ext: None,
            };
            let mut err = ChannelOut {
                handle: handle.clone(),
                id: channel,
                ext: Some(1),
            };
            let status =
                session::exec(cli, behaviour, &command, pty, closed, &mut out, &mut err).await;
            finish(&handle, channel, status).await;
        });
        Ok(())
    }

    async fn data(
        &mut self,
        channel: ChannelId,
        data: &[u8],
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        if let Some(tx) = self.channels.get(&channel).and_then(|c| c.tx.as_ref()) {
            // The session task may have ended; its input is then irrelevant.
            let _ = tx.send(data.to_vec());
        }
        Ok(())
    }

    async fn channel_eof(
        &mut self,
        channel: ChannelId,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        // Dropping the sender ends the session's input once it has read what was sent.
        if let Some(chan) = self.channels.get_mut(&channel) {
            chan.tx = None;
        }
        Ok(())
    }

    async fn channel_close(
        &mut self,
        channel: ChannelId,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.channels.remove(&channel);
        Ok(())
    }
}
