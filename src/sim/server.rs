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
//!
//! Reboots and management cuts: one task per address owns its listeners (SSH, Telnet) and the
//! sessions they accepted. When the radio's [`Life`] ends a boot, the task closes the
//! listeners (connects are then refused), ends every session (an SSH disconnect queued behind
//! what the session already sent, then the socket shut down), and for a reboot puts the
//! startup configuration back, waits the profile's `reboot_time` and listens again.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io;
use std::net::{Ipv4Addr, Shutdown, SocketAddr, SocketAddrV4};
use std::ops::Range;
use std::os::fd::AsFd;
use std::sync::Arc;
use std::time::Duration;

use rand::SeedableRng;
use russh::keys::ssh_key::private::{Ed25519Keypair, RsaKeypair};
use russh::keys::{Algorithm, PrivateKey};
use russh::server::{Auth, Config, Handle, Handler, Msg, Response, Session};
use russh::{
    Channel, ChannelId, Disconnect, MethodKind, MethodSet, Preferred, SshId, cipher, kex, mac,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinSet;

use super::config::Settings;
use super::device::{Device, Kind};
use super::eh::moves_away;
use super::events::{Event, Events, SessionLog, Visit};
use super::fleet::Fleet;
use super::identity::{Draw, Radio};
use super::life::{Fate, Life};
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

/// How long a dropped session may take to flush what it sent and end, before its socket is
/// shut down under it.
const DROP_GRACE: Duration = Duration::from_secs(2);

/// How often a radio coming back from a reboot tries again to listen when it cannot.
const REBIND_RETRY: Duration = Duration::from_secs(1);

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
    events: Events,
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
    /// (SSH) and `telnet_port` (devices that serve Telnet), and starts serving them, logging
    /// what happens to `events`. Returns once every listener is up.
    pub async fn start(
        fleet: Fleet,
        seed: u64,
        (port, telnet_port): (u16, u16),
        part: Range<usize>,
        events: Events,
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
            events,
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
            let mut services = Vec::new();
            if profile.telnet && Device::new(seed, ip, profile).speaks_telnet() {
                services.push((Service::Telnet, SocketAddrV4::new(ip, telnet_port)));
            }
            let addr = SocketAddrV4::new(ip, port);
            match profile.persona {
                Persona::Closed | Persona::Telnet => {}
                Persona::BlackHole => hole_addrs.push(addr),
                _ => {
                    services.push((Service::Ssh, addr));
                    listening += 1;
                }
            }
            if services.is_empty() {
                continue;
            }
            let listeners = bind(&services)?;
            let address = Address {
                ip,
                services,
                shared: shared.clone(),
            };
            tasks.push(tokio::spawn(supervise(address, listeners)));
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

/// One served address: where each of its services listens.
struct Address {
    ip: Ipv4Addr,
    services: Vec<(Service, SocketAddrV4)>,
    shared: Arc<Shared>,
}

/// Listens on every service address.
fn bind(services: &[(Service, SocketAddrV4)]) -> Result<Vec<(Service, TcpListener)>, ServeError> {
    services
        .iter()
        .map(|&(service, addr)| Ok((service, listen(addr, 1024)?)))
        .collect()
}

/// Serves one address: accepts its connections, and carries out what ends a radio's boot.
async fn supervise(address: Address, mut listeners: Vec<(Service, TcpListener)>) {
    let Address { ip, shared, .. } = &address;
    let ip = *ip;
    // Only EH/BU/TU radios have a life to end: a rollback timer, an address to move.
    let radio = shared
        .fleet
        .profile(ip)
        .map(|profile| (Device::new(shared.seed, ip, profile), profile.reboot_time))
        .and_then(|(device, down_for)| match device.kind {
            Kind::Siklu(radio) => Some((radio, down_for)),
            _ => None,
        });
    let life = radio.as_ref().map(|_| shared.registry.life(ip));
    // Its value is the boot: sessions end when it moves on.
    let (boot, _) = watch::channel(0u64);
    let mut sessions = JoinSet::new();
    loop {
        tokio::select! {
            (service, stream) = accept(&listeners) => {
                let shared = shared.clone();
                // Only a radio that reboots ends its sessions, and needs their sockets.
                let boot = life.is_some().then(|| boot.subscribe());
                sessions.spawn(connection(stream, ip, shared, service, boot));
            }
            fate = fate_of(life.as_deref()) => {
                if fate == Fate::Expired {
                    shared.events.emit(ip, None, None, Event::RollbackExpired, None);
                }
                listeners.clear();
                boot.send_modify(|boot| *boot += 1);
                end_all(&mut sessions).await;
                match fate {
                    Fate::Cut { session } => {
                        shared.events.emit(ip, None, Some(session), Event::ManagementCut, None);
                    }
                    Fate::Expired => {
                        if let (Some((radio, down_for)), Some(life)) = (&radio, &life) {
                            listeners = reboot(&address, radio, *down_for, life).await;
                        }
                    }
                }
            }
            Some(_) = sessions.join_next(), if !sessions.is_empty() => {}
        }
    }
}

/// The next connection on any of `listeners`; never, when there is none.
async fn accept(listeners: &[(Service, TcpListener)]) -> (Service, TcpStream) {
    if listeners.is_empty() {
        return std::future::pending().await;
    }
    loop {
        let accepts = listeners.iter().map(|(service, listener)| {
            Box::pin(async move { (*service, listener.accept().await) })
        });
        match futures::future::select_all(accepts).await {
            ((service, Ok((stream, _))), _, _) => return (service, stream),
            // Out of descriptors or a connection reset before accept: keep serving.
            ((_, Err(_)), _, _) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
}

/// What ends the radio's boot; never, for a device that does not reboot.
async fn fate_of(life: Option<&Life>) -> Fate {
    match life {
        Some(life) => life.fate().await,
        None => std::future::pending().await,
    }
}

/// Waits for every session told to end; one that does not in time is aborted.
async fn end_all(sessions: &mut JoinSet<()>) {
    let ended = async { while sessions.join_next().await.is_some() {} };
    if tokio::time::timeout(DROP_GRACE * 2, ended).await.is_err() {
        sessions.abort_all();
        while sessions.join_next().await.is_some() {}
    }
}

/// Reboots a radio whose sessions are gone and whose listeners are closed: running :=
/// startup, down for the profile's reboot time, then listening again (unless the startup
/// configuration's address is not its own). Returns the new listeners.
async fn reboot(
    address: &Address,
    radio: &Radio,
    down_for: Duration,
    life: &Life,
) -> Vec<(Service, TcpListener)> {
    let (ip, shared) = (address.ip, &address.shared);
    let mut address_now = None;
    shared.registry.update((ip, None), |changes| {
        let startup = Settings::startup(radio, changes);
        *changes = changes.rebooted(&startup);
        address_now = Some(startup.ip_addr);
    });
    shared.events.emit(ip, None, None, Event::Reboot, None);
    tokio::time::sleep(down_for).await;
    life.rebooted(tokio::time::Instant::now());
    if moves_away(address_now.as_deref(), ip) {
        // Saved with another address: it came up there.
        return Vec::new();
    }
    loop {
        match bind(&address.services) {
            Ok(listeners) => {
                shared.events.emit(ip, None, None, Event::Up, None);
                return listeners;
            }
            Err(err) => {
                let cause =
                    std::error::Error::source(&err).map_or_else(String::new, |e| format!(": {e}"));
                crate::pipe::warn(format!("{err}{cause} after a reboot; trying again"));
                tokio::time::sleep(REBIND_RETRY).await;
            }
        }
    }
}

/// The end of a radio's boot, as one of its sessions sees it.
struct Ending {
    /// Moves on when the boot ends.
    boot: watch::Receiver<u64>,
    /// A second descriptor of the session's socket, to shut it down under a session that
    /// does not end by itself.
    socket: std::net::TcpStream,
}

impl Ending {
    /// Resolves when the boot ends; never, for a device that does not reboot.
    async fn changed(ending: &mut Option<Ending>) {
        match ending {
            // An error means the address's task is gone: the boot has ended too.
            Some(ending) => {
                let _ = ending.boot.changed().await;
            }
            None => std::future::pending().await,
        }
    }

    fn shutdown(ending: &Option<Ending>) {
        if let Some(ending) = ending {
            // A no-op on a connection already closed.
            let _ = ending.socket.shutdown(Shutdown::Both);
        }
    }
}

/// One accepted connection, ended when the radio's boot does (`boot`: a radio that reboots).
async fn connection(
    stream: TcpStream,
    ip: Ipv4Addr,
    shared: Arc<Shared>,
    service: Service,
    boot: Option<watch::Receiver<u64>>,
) {
    let mut ending = match boot {
        Some(boot) => match stream.as_fd().try_clone_to_owned() {
            Ok(fd) => Some(Ending {
                boot,
                socket: std::net::TcpStream::from(fd),
            }),
            // Out of descriptors: refuse this one rather than hold a session a reboot
            // could not end.
            Err(_) => return,
        },
        None => None,
    };
    // A session's failure concerns that client only.
    let _ = match service {
        Service::Ssh => serve(stream, ip, &shared, &mut ending).await,
        Service::Telnet => tokio::select! {
            served = serve_telnet(stream, ip, &shared) => served,
            () = Ending::changed(&mut ending) => Ok(()),
        },
    };
    // Ends the Telnet reader, which holds the socket too.
    Ending::shutdown(&ending);
}

async fn serve(
    mut stream: TcpStream,
    ip: Ipv4Addr,
    shared: &Arc<Shared>,
    ending: &mut Option<Ending>,
) -> io::Result<()> {
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
            let config = Arc::new(config(&device, shared));
            let handler = Conn {
                shared: shared.clone(),
                device: Arc::new(device),
                channels: HashMap::new(),
                visit: Visit::new(SessionLog::new(shared.events.clone(), ip)),
            };
            let failed = |e: russh::Error| io::Error::other(e.to_string());
            let mut session = tokio::select! {
                started = russh::server::run_stream(config, stream, handler) => started.map_err(failed)?,
                () = Ending::changed(ending) => return Ok(()),
            };
            tokio::select! {
                ended = &mut session => return ended.map_err(failed),
                () = Ending::changed(ending) => {}
            }
            // Queued behind what the session already sent (the answer to a command that cut
            // management), so that goes out first.
            let handle = session.handle();
            let disconnect =
                handle.disconnect(Disconnect::ByApplication, String::new(), String::new());
            let _ = tokio::time::timeout(DROP_GRACE, disconnect).await;
            if tokio::time::timeout(DROP_GRACE, &mut session)
                .await
                .is_err()
            {
                Ending::shutdown(ending);
                let _ = session.await;
            }
            Ok(())
        }
    }
}

async fn serve_telnet(stream: TcpStream, ip: Ipv4Addr, shared: &Shared) -> io::Result<()> {
    let Some(profile) = shared.fleet.profile(ip) else {
        return Ok(());
    };
    let device = Device::new(shared.seed, ip, profile);
    let log = SessionLog::new(shared.events.clone(), ip);
    telnet::serve(stream, &device, shared.seed, &shared.registry, log).await
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
    /// Its login and (when the connection ends and this is dropped) its disconnect.
    visit: Visit,
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

    /// Checks a login; a match is the session's login.
    fn credentials_match(&mut self, user: &str, password: &[u8]) -> bool {
        let profile = &self.device.profile;
        let matches = user == profile.user && password == profile.password.as_bytes();
        if matches {
            self.visit.login();
        }
        matches
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
        let cli = self
            .device
            .cli(self.shared.seed, &self.shared.registry, self.visit.log());
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
        let cli = self
            .device
            .cli(self.shared.seed, &self.shared.registry, self.visit.log());
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
