//! `--healthcheck`: the server asks itself whether it is up, for a container `HEALTHCHECK`
//! in an image without curl or wget (the generated Dockerfile's distroless image has
//! neither, nor a shell). It sends `GET /healthz` to the address this same environment makes
//! the server listen on (`HOST`, `PORT`) and succeeds only on HTTP 200, within a short
//! deadline. Plain HTTP/1.1 over a std socket: no async runtime, no TLS, no logging set up,
//! so a check every few seconds costs next to nothing.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// How long one check may take in all: connecting, sending, and reading the status line.
/// Far below any orchestrator's own probe timeout, so a hung server fails the check rather
/// than the check hanging.
pub const DEADLINE: Duration = Duration::from_secs(3);

/// The most of the answer read: the status line is all that counts.
const MAX_READ: usize = 1024;

/// Where to reach a server listening on `host`: a wildcard address (`0.0.0.0`, `::`, as in
/// containers) is reached on the loopback address of its family, anything else as it is.
fn targets(host: &str, port: u16) -> Result<Vec<SocketAddr>, String> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) if ip.is_unspecified() => {
            Ok(vec![SocketAddr::from((Ipv4Addr::LOCALHOST, port))])
        }
        Ok(IpAddr::V6(ip)) if ip.is_unspecified() => Ok(vec![
            SocketAddr::from((Ipv6Addr::LOCALHOST, port)),
            SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
        ]),
        Ok(ip) => Ok(vec![SocketAddr::from((ip, port))]),
        Err(_) => (bare, port)
            .to_socket_addrs()
            .map(Iterator::collect)
            .map_err(|e| format!("cannot resolve HOST={host}: {e}")),
    }
}

/// `GET /healthz` at `host`:`port`; `Ok` when it answers 200 before `deadline` runs out.
pub fn check(host: &str, port: u16, deadline: Duration) -> Result<(), String> {
    if port == 0 {
        return Err("PORT=0 listens on a port chosen at startup; nothing to check".to_owned());
    }
    let until = Instant::now() + deadline;
    let mut last = format!("no address for HOST={host}");
    for address in targets(host, port)? {
        match ask(address, until) {
            Ok(()) => return Ok(()),
            Err(e) => last = format!("{address}: {e}"),
        }
    }
    Err(last)
}

fn ask(address: SocketAddr, until: Instant) -> Result<(), String> {
    let left = || {
        until
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
            .ok_or_else(|| "timed out".to_owned())
    };
    let mut stream = TcpStream::connect_timeout(&address, left()?).map_err(|e| e.to_string())?;
    stream
        .set_write_timeout(Some(left()?))
        .map_err(|e| e.to_string())?;
    let request = format!(
        "GET /healthz HTTP/1.1\r\nHost: {address}\r\nUser-Agent: healthcheck\r\nConnection: close\r\n\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|e| format!("cannot send: {e}"))?;
    let mut answer = Vec::new();
    let mut buffer = [0u8; 256];
    // Until the status line is complete: a slow or silent server runs into the deadline.
    while !answer.contains(&b'\n') && answer.len() < MAX_READ {
        stream
            .set_read_timeout(Some(left()?))
            .map_err(|e| e.to_string())?;
        match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => answer.extend_from_slice(&buffer[..n]),
            Err(e) if matches!(e.kind(), std::io::ErrorKind::Interrupted) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return Err("timed out waiting for the answer".to_owned());
            }
            Err(e) => return Err(format!("cannot read the answer: {e}")),
        }
    }
    let line = answer.split(|b| *b == b'\n').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    let line = line.trim_end();
    let mut parts = line.split(' ');
    match (parts.next(), parts.next()) {
        (Some(version), Some("200")) if version.starts_with("HTTP/1.") => Ok(()),
        (Some(version), Some(status)) if version.starts_with("HTTP/") => {
            Err(format!("/healthz answered {status}"))
        }
        _ => Err(format!("not an HTTP answer: {line:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::thread;

    /// A server on a free loopback port that answers each connection with `reply` (after
    /// reading the request), or holds it open without a word when `reply` is `None`.
    fn server(reply: Option<&'static str>) -> (u16, thread::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let handle = thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut request = Vec::new();
            let mut buffer = [0u8; 512];
            while !request.ends_with(b"\r\n\r\n") {
                match stream.read(&mut buffer) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buffer[..n]),
                }
            }
            match reply {
                Some(reply) => stream.write_all(reply.as_bytes()).unwrap(),
                None => thread::sleep(Duration::from_millis(800)),
            }
            String::from_utf8_lossy(&request).into_owned()
        });
        (port, handle)
    }

    #[test]
    fn a_200_from_healthz_passes() {
        let (port, server) = server(Some("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"));
        check("127.0.0.1", port, DEADLINE).unwrap();
        let request = server.join().unwrap();
        assert!(
            request.starts_with("GET /healthz HTTP/1.1\r\n"),
            "{request}"
        );
    }

    #[test]
    fn a_wildcard_host_is_checked_on_loopback() {
        let (port, server) = server(Some("HTTP/1.1 200 OK\r\n\r\n"));
        check("0.0.0.0", port, DEADLINE).unwrap();
        server.join().unwrap();
        assert_eq!(
            targets("0.0.0.0", 8000).unwrap(),
            [SocketAddr::from((Ipv4Addr::LOCALHOST, 8000))]
        );
        assert_eq!(
            targets("[::]", 8000).unwrap()[0],
            SocketAddr::from((Ipv6Addr::LOCALHOST, 8000))
        );
        assert_eq!(
            targets("10.1.2.3", 80).unwrap(),
            [SocketAddr::from(([10, 1, 2, 3], 80))]
        );
    }

    #[test]
    fn any_other_status_fails() {
        let (port, server) = server(Some("HTTP/1.1 503 Service Unavailable\r\n\r\n"));
        let err = check("127.0.0.1", port, DEADLINE).unwrap_err();
        assert!(err.contains("answered 503"), "{err}");
        server.join().unwrap();
    }

    #[test]
    fn a_silent_server_fails_within_the_deadline() {
        let (port, server) = server(None);
        let started = Instant::now();
        let err = check("127.0.0.1", port, Duration::from_millis(200)).unwrap_err();
        assert!(err.contains("timed out"), "{err}");
        assert!(
            started.elapsed() < Duration::from_millis(700),
            "took too long"
        );
        server.join().unwrap();
    }

    #[test]
    fn no_server_or_garbage_fails() {
        // A port just freed: nothing listens there.
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        assert!(check("127.0.0.1", port, DEADLINE).is_err());
        let (port, server) = server(Some("SSH-2.0-OpenSSH_9.2\r\n"));
        let err = check("127.0.0.1", port, DEADLINE).unwrap_err();
        assert!(err.contains("not an HTTP answer"), "{err}");
        server.join().unwrap();
        assert!(check("127.0.0.1", 0, DEADLINE).is_err());
    }
}
