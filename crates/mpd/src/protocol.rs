//! MPD's text protocol: commands are lines, answers are `key: value` lines ending in `OK` or
//! `ACK [code@n] {command} message`.
//!
//! The protocol is written here (about 250 lines) rather than taken from a crate: `mpd` (sync) has
//! no `config` command (the music directory), and `mpd_client` would bring an async runtime to a
//! loop that waits on one socket; neither was in the offline registry cache either.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use crate::Error;

/// Read timeout of every command but `idle` (which waits as long as nothing happens).
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The value of the first `key` in an answer.
pub(crate) fn value<'v>(pairs: &'v [(String, String)], key: &str) -> Option<&'v str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// An argument in MPD's quoting: double quotes, with `"` and `\` escaped.
pub fn quote(arg: &str) -> String {
    let mut quoted = String::with_capacity(arg.len() + 2);
    quoted.push('"');
    for c in arg.chars() {
        if matches!(c, '"' | '\\') {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    quoted.push('"');
    quoted
}

/// Where MPD listens, and the password to send. Displays as `HOST:PORT` or the socket's path
/// (never the password).
#[derive(Debug, Clone)]
pub struct Address {
    host: String,
    port: u16,
    password: Option<String>,
}

impl Address {
    /// `HOST`, `PASSWORD@HOST` (as MPD_HOST), or a socket path (`~/` is the home folder).
    pub fn parse(text: &str, port: u16) -> Result<Self, Error> {
        let text = text.trim();
        let (password, host) = match text.split_once('@') {
            Some((password, host)) if !password.is_empty() => (Some(password.to_owned()), host),
            _ => (None, text),
        };
        if host.is_empty() {
            return Err(Error::Host(format!("no MPD host in {text:?}")));
        }
        if host.starts_with('@') {
            return Err(Error::Host(format!(
                "MPD host {host}: abstract sockets are not supported; give the socket's path or a host"
            )));
        }
        let host = match host.strip_prefix("~/") {
            Some(rest) => std::env::var_os("HOME")
                .map(|home| Path::new(&home).join(rest).to_string_lossy().into_owned())
                .unwrap_or_else(|| host.to_owned()),
            None => host.to_owned(),
        };
        Ok(Self {
            host,
            port,
            password,
        })
    }

    /// The host name or address, or the socket's path.
    pub fn host(&self) -> &str {
        &self.host
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn password(&self) -> Option<&str> {
        self.password.as_deref()
    }

    /// Whether MPD is reached over a unix socket (the host is a path).
    pub fn is_socket(&self) -> bool {
        self.host.starts_with('/')
    }
}

impl std::fmt::Display for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_socket() {
            f.write_str(&self.host)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// What went wrong talking to MPD.
#[derive(Debug)]
pub enum MpdError {
    /// The connection failed or was lost.
    Io(std::io::Error),
    /// The peer does not speak MPD's protocol.
    Protocol(String),
    /// MPD refused the command: `ACK [code@n] {command} message`, as its message.
    Ack(String),
}

impl MpdError {
    /// Whether a reconnection may cure it.
    pub fn is_connection(&self) -> bool {
        matches!(self, Self::Io(_) | Self::Protocol(_))
    }
}

impl std::fmt::Display for MpdError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Io(err) => err.fmt(f),
            Self::Protocol(text) => write!(f, "not an MPD answer: {text}"),
            Self::Ack(text) => write!(f, "MPD refused: {text}"),
        }
    }
}

impl std::error::Error for MpdError {}

impl From<std::io::Error> for MpdError {
    fn from(err: std::io::Error) -> Self {
        Self::Io(err)
    }
}

enum Socket {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Socket {
    fn try_clone(&self) -> std::io::Result<Self> {
        Ok(match self {
            Self::Tcp(s) => Self::Tcp(s.try_clone()?),
            Self::Unix(s) => Self::Unix(s.try_clone()?),
        })
    }

    fn set_read_timeout(&self, timeout: Option<Duration>) -> std::io::Result<()> {
        match self {
            Self::Tcp(s) => s.set_read_timeout(timeout),
            Self::Unix(s) => s.set_read_timeout(timeout),
        }
    }
}

impl Read for Socket {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Self::Tcp(s) => s.read(buf),
            Self::Unix(s) => s.read(buf),
        }
    }
}

impl Write for Socket {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Self::Tcp(s) => s.write(buf),
            Self::Unix(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Self::Tcp(s) => s.flush(),
            Self::Unix(s) => s.flush(),
        }
    }
}

/// One connection to MPD.
pub struct Connection {
    reader: BufReader<Socket>,
    writer: Socket,
    /// Over a unix socket: MPD answers `config`.
    local: bool,
}

impl Connection {
    /// Connects, reads MPD's greeting and sends the password, if any.
    pub fn open(address: &Address) -> Result<Self, MpdError> {
        let socket = if address.is_socket() {
            Socket::Unix(UnixStream::connect(&address.host)?)
        } else {
            let mut last = None;
            let mut stream = None;
            for addr in (address.host.as_str(), address.port).to_socket_addrs()? {
                match TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT) {
                    Ok(s) => {
                        stream = Some(s);
                        break;
                    }
                    Err(err) => last = Some(err),
                }
            }
            match stream {
                Some(s) => Socket::Tcp(s),
                None => {
                    return Err(MpdError::Io(last.unwrap_or_else(|| {
                        std::io::Error::new(std::io::ErrorKind::NotFound, "no address")
                    })));
                }
            }
        };
        socket.set_read_timeout(Some(COMMAND_TIMEOUT))?;
        let local = matches!(socket, Socket::Unix(_));
        let mut conn = Self {
            reader: BufReader::new(socket.try_clone()?),
            writer: socket,
            local,
        };
        let greeting = conn.line()?;
        if !greeting.starts_with("OK MPD ") {
            return Err(MpdError::Protocol(greeting));
        }
        if let Some(password) = &address.password {
            conn.command(&format!("password {}", quote(password)))?;
        }
        Ok(conn)
    }

    /// Whether this is a unix-socket connection, to which MPD answers `config`.
    pub fn is_local(&self) -> bool {
        self.local
    }

    fn line(&mut self) -> Result<String, MpdError> {
        let mut line = String::new();
        if self.reader.read_line(&mut line)? == 0 {
            return Err(MpdError::Io(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "MPD closed the connection",
            )));
        }
        Ok(line.trim_end_matches(['\r', '\n']).to_owned())
    }

    /// Sends one command (arguments quoted with [`quote`]); its answer's `key: value` pairs, in
    /// order.
    pub fn command(&mut self, command: &str) -> Result<Vec<(String, String)>, MpdError> {
        self.writer.write_all(format!("{command}\n").as_bytes())?;
        self.writer.flush()?;
        let mut pairs = Vec::new();
        loop {
            let line = self.line()?;
            if line == "OK" {
                return Ok(pairs);
            }
            if let Some(ack) = line.strip_prefix("ACK ") {
                // "[code@n] {command} message": the message.
                let message = ack.split_once("} ").map_or(ack, |(_, m)| m);
                return Err(MpdError::Ack(message.to_owned()));
            }
            match line.split_once(": ") {
                Some((key, value)) => pairs.push((key.to_owned(), value.to_owned())),
                None => return Err(MpdError::Protocol(line)),
            }
        }
    }

    /// Waits (as long as it takes) until the player or the queue changes.
    pub fn idle(&mut self) -> Result<(), MpdError> {
        self.writer.set_read_timeout(None)?;
        let answer = self.command("idle player playlist");
        self.writer.set_read_timeout(Some(COMMAND_TIMEOUT))?;
        answer.map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_quoting() {
        let a = Address::parse("pw@media", 6601).unwrap();
        assert_eq!((a.host(), a.password()), ("media", Some("pw")));
        assert_eq!(a.to_string(), "media:6601");
        let s = Address::parse("/run/mpd/socket", 6600).unwrap();
        assert!(s.is_socket() && s.password().is_none());
        assert!(Address::parse("@mpd", 6600).is_err());
        assert_eq!(quote(r#"a "b"\c"#), r#""a \"b\"\\c""#);
    }

    #[test]
    fn answers_acks_and_a_peer_that_is_not_mpd() {
        use std::os::unix::net::UnixListener;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("socket");
        let listener = UnixListener::bind(&path).unwrap();
        let server = std::thread::spawn(move || {
            // An MPD that answers `status` and refuses everything else.
            let (stream, _) = listener.accept().unwrap();
            let mut writer = stream.try_clone().unwrap();
            writer.write_all(b"OK MPD 0.23.5\n").unwrap();
            for line in BufReader::new(stream).lines() {
                let line = line.unwrap();
                let answer = if line == "status" {
                    "volume: 100\nsong: 2\nOK\n".to_owned()
                } else {
                    format!("ACK [5@0] {{{line}}} unknown command \"{line}\"\n")
                };
                writer.write_all(answer.as_bytes()).unwrap();
            }
            // A second client gets no greeting it knows.
            let (mut stream, _) = listener.accept().unwrap();
            stream.write_all(b"HTTP/1.1 400 Bad Request\n").unwrap();
        });
        let address = Address::parse(path.to_str().unwrap(), 6600).unwrap();
        let mut conn = Connection::open(&address).unwrap();
        assert!(conn.is_local());
        let status = conn.command("status").unwrap();
        assert_eq!(value(&status, "song"), Some("2"));
        match conn.command("frobnicate") {
            Err(MpdError::Ack(message)) => {
                assert_eq!(message, "unknown command \"frobnicate\"")
            }
            other => panic!("{:?}", other.map(drop)),
        }
        drop(conn);
        let err = Connection::open(&address).err().unwrap();
        assert!(err.is_connection(), "{err}");
        assert!(err.to_string().starts_with("not an MPD answer"), "{err}");
        server.join().unwrap();
    }
}
